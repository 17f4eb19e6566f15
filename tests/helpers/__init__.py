"""Shared harnesses: bench/ loading, watch mode, the end-to-end server and site."""
