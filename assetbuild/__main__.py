"""`python -m assetbuild`: the same command as the `assetbuild` script."""

from assetbuild.quick import run

if __name__ == "__main__":
    run()
