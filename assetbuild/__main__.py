"""The `assetbuild` console script, and `python -m assetbuild`: the same command.

`run()` asks `quick.answer(argv)` first, which answers a plain no-change `install` without
importing click or the build modules; anything else goes to the click group `cli.main`. This is
the one module that knows both, so neither `quick` nor `cli` imports the other.
"""

from __future__ import annotations

import sys

from assetbuild.quick import attempt


def run() -> None:
    """Console entry point: the quick answer when it applies, else the click commands."""
    try:
        code, checked = attempt(sys.argv[1:])
        if code is None:
            from assetbuild.cli import Settings, main  # click and the commands, only when needed

            main(obj=Settings(checked=checked))
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(code)


if __name__ == "__main__":
    run()
