"""Vendored third-party JavaScript: acorn 8.19.0 (npm `acorn`, `dist/acorn.js`, MIT, see LICENSE.acorn)."""
