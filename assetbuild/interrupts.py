"""Ctrl-C: every interrupt ends a run with exit 130 and one line, "assetbuild: interrupted".

Python raises KeyboardInterrupt between any two bytecodes of the main thread. Inside its import
machinery, a finalizer (`__del__`) or a weak reference callback, that is harmful: the exception is
swallowed with "Exception ignored in ..." and a traceback, the interrupt is lost, and one raised
between `_imp.acquire_lock()` and its `try` leaves the import lock held, so the next import of any
thread waits forever (seen: a helper thread's import, the run hung after Ctrl-C). `install()`'s
handler defers the interrupt there, asking again every 20 ms (SIGALRM) for at most a second.

After the first interrupt is reported (`interrupted`), and once the commands are done (atexit
callbacks close engines and shut pools down), a further SIGINT ends the process at once, exit 130.

Only `os`, `sys` and the built-in `_signal` are imported: the quick no-change answer loads this.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the quick path
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable
    from typing import Any, NoReturn

    Action = Callable[[int, Any], object]
else:
    import _signal  # the C module behind `signal`, without its enum import (quick path)

INTERRUPTED = "assetbuild: interrupted"
EXIT_INTERRUPTED = 130
_RETRY_SECONDS = 0.02
_MAX_DEFERRALS = 50


def _raise(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


_action: Action = _raise
_deferred = 0
_held = 0  # `deferred()` blocks in progress
_pending = False  # an interrupt arrived during one


def install(action: Action | None = None) -> None:
    """Handle SIGINT with `action` (default: raise KeyboardInterrupt), deferred in unsafe places.

    Does nothing outside the main thread (signal handlers can only be set there).
    """
    global _action
    try:
        _signal.signal(_signal.SIGINT, _handler)
        if hasattr(_signal, "setitimer"):
            _signal.signal(_signal.SIGALRM, _handler)
    except (ValueError, OSError):
        return
    _action = action or _raise


def installed() -> bool:
    """Whether SIGINT is handled here, with the default action (raise KeyboardInterrupt)."""
    return _signal.getsignal(_signal.SIGINT) is _handler and _action is _raise


def _handler(signum: int, frame: Any) -> None:
    global _deferred, _pending
    if signum != _signal.SIGINT and _signal.getsignal(_signal.SIGINT) is not _handler:
        current = _signal.getsignal(_signal.SIGINT)  # a retry, after SIGINT's handler changed
        if callable(current):
            current(_signal.SIGINT, frame)
        return
    if _held:
        _pending = True  # delivered when the last `deferred()` block ends
        return
    if _deferred < _MAX_DEFERRALS and _unsafe(frame) and hasattr(_signal, "setitimer"):
        _deferred += 1
        _signal.setitimer(_signal.ITIMER_REAL, _RETRY_SECONDS)
        return
    _deferred = 0
    _action(signum, frame)


class deferred:
    """Within this block an interrupt waits until the block ends: for work that must not be cut
    short, such as setting up a JavaScript engine (mini-racer frees an isolate that a cut-short
    set-up is still using: garbage, then "Task was destroyed but it is pending!").

    Only with this module's handler installed (the command line); elsewhere, no effect.
    """

    def __enter__(self) -> None:
        global _held
        _held += 1

    def __exit__(self, *exc: object) -> None:
        global _held, _pending
        _held -= 1
        if not _held and _pending:
            _pending = False
            os.kill(os.getpid(), _signal.SIGINT)  # handled again, now, in the main thread


def _unsafe(frame: Any) -> bool:
    """Whether the main thread is where an exception would be swallowed or leave a lock held."""
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if (
            name.startswith("<frozen importlib")
            or code.co_name == "__del__"
            or name.endswith(("weakref.py", "_weakrefset.py"))
        ):
            return True
        frame = frame.f_back
    return False


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is behind `exc` (Python wraps one raised in some places, such
    as a class body's `__set_name__` during an import, in a RuntimeError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def interrupted() -> NoReturn:
    """Say so once and exit 130; a further Ctrl-C while unwinding ends the process at once.

    (The handler is changed only in a process whose entry point `install`ed this module's: a
    program that calls the commands, such as a test runner, keeps its own.)
    """
    if _signal.getsignal(_signal.SIGINT) is _handler:
        _set(_exit_quietly)
    try:
        sys.stderr.write(INTERRUPTED + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, RuntimeError):
        pass  # stderr closed, or interrupted mid-write: the exit code still says it
    sys.exit(EXIT_INTERRUPTED)


def exit_on_interrupt() -> None:
    """From now on, SIGINT ends the process with the line and exit 130 (for the exit's cleanup).

    Only this module's handler with its default action is replaced: `watch`'s action stays, and
    so does a handler that exits without a word (the line was printed).
    """
    if installed():
        _set(_exit_saying_so)


def _set(handler: Callable[[int, Any], None]) -> None:
    try:
        if hasattr(_signal, "setitimer"):
            _signal.setitimer(_signal.ITIMER_REAL, 0)  # no retry is pending any more
        _signal.signal(_signal.SIGINT, handler)
    except (ValueError, OSError):
        pass  # not the main thread


def _exit_saying_so(signum: int, frame: Any) -> None:
    # os.write: a signal handler must not enter sys.stderr's buffer, which may be mid-write.
    try:
        sys.stdout.flush()
        os.write(2, (INTERRUPTED + "\n").encode())
    finally:
        os._exit(EXIT_INTERRUPTED)


def _exit_quietly(signum: int, frame: Any) -> None:
    os._exit(EXIT_INTERRUPTED)
