"""The `assetbuild` console script, and `python -m assetbuild`: the same command.

`run()` asks `quick.answer(argv)` first, which answers a plain no-change `install` without
importing click or the build modules; anything else goes to the click group `cli.main`. This is
the one module that knows both, so neither `quick` nor `cli` imports the other.

Ctrl-C ends every run with exit 130 and one line (`interrupts`): the handler is installed before
anything else is imported, so an interrupt during these imports, before the commands handle it,
ends the same way, and so does one while the process exits afterwards.
"""

from __future__ import annotations

import sys

from assetbuild import interrupts
from assetbuild.quick import attempt


def run() -> None:
    """Console entry point: the quick answer when it applies, else the click commands."""
    interrupts.install()
    code: int | None = None
    try:
        code, checked, remember = attempt(sys.argv[1:])
        if code is None:
            from assetbuild.cli import Settings, main  # click and the commands, only when needed

            main(obj=Settings(checked=checked, remember=remember))
    except KeyboardInterrupt:
        interrupts.interrupted()
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:
        if interrupts.caused_by_interrupt(exc):
            interrupts.interrupted()
        raise
    finally:
        interrupts.exit_on_interrupt()  # what follows (atexit callbacks) is cleanup
    sys.exit(code)


if __name__ == "__main__":
    run()
