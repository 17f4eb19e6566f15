"""`python -m assetbuild`: the same command as the `assetbuild` script."""

from .quick import run

if __name__ == "__main__":
    run()
