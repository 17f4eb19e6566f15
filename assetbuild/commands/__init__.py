"""Parts of the `assetbuild` command: its options and the `init` starter config."""
