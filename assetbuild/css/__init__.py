"""CSS: tokens, the whitespace walk, check, minify, url() rewriting."""
