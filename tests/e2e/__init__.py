"""End-to-end tests: a real nginx and a headless Chromium (marked e2e)."""
