"""Vendored JavaScript: css-tree 3.2.1 (MIT, LICENSE.csstree), its browser build from npm."""
