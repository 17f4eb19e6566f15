"""Warnings known and accepted: their names and a config's [[accept]] entries (entries.py)."""
