"""The PHP helpers (assetbuild.php): data only, no Python."""
