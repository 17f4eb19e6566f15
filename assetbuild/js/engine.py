"""The fast first pass for JavaScript: meriyah and V8 inside mini-racer, compile only.

mini-racer is installed where it publishes wheels. The engine never runs the code it checks: meriyah
(vendored, ISC) parses it as a web-compatible script with every early error (its `lexical` option),
a small tree check adds the one test262 early error it lets through (a call as an assignment target,
`f() = 1`), and V8 compiles it with `new Function(text)`, which builds a function without calling it
(V8 refuses a body that closes the wrapper: "Single function literal required"). acorn (vendored,
MIT) makes the safe minifier's tokens and checks modules.

Combination rule for callers (measured on test262: never weaker than esprima alone, see the report):
- `check_scripts` returns None: accepted, esprima is not run. (meriyah AND V8 accepted it as a
  classic script; acorn alone for modules.)
- An EngineVerdict: run esprima on that text. If esprima rejects, report esprima's message and
  location, exactly as without the engine. If esprima accepts and the verdict's kind is "limit", the
  engine could not decide (stack, memory, lone surrogates): accept, as without the engine. If esprima
  accepts and the kind is "syntax" or "compile", the engine found an error esprima misses: reject
  with the engine's message at `offset` (None: no position, report the whole file).
- `same_programs` returns True: the pair is the same program (both parse, their ESTrees are
  equal ignoring positions and Literal `raw`; regex pattern/flags, bigint digits, directives,
  template cooked and raw compared; the second text also compiles in V8). False means "not proven
  the same": handle it as esprima's `same_program` returning False (or ask esprima to decide).

Each source is parsed once: `analyze_scripts` keeps the trees for the `same_programs` call on
those texts that follows (a build's order: check, minify, verify), so a file costs one parse of the
source, one of the minified text and two V8 compiles. Both take a batch of texts in one call
into the engine (each call hops through mini-racer's event-loop thread, ~0.4 ms): a text gets the
same answer in a batch as alone, and a batch the engine cannot take whole (memory, time) is retried
a text at a time. Calls from one thread are serialized on one engine (isolate); `lend()` gives
another thread an engine of its own, so threads check in parallel.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import ctypes
import importlib.util
import json
import operator
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from assetbuild.minified import has_lone_surrogate

Kind = Literal["syntax", "compile", "limit"]

# Generous: the parsers read megabytes per second, so only a runaway or a stuck engine reaches this.
_TIMEOUT_BASE = 20.0
_TIMEOUT_PER_MB = 10.0
_HEAP_LIMIT = 1_000_000_000  # bytes of V8 heap
# How long a cancelled script may take to stop, and a closing engine to answer.
_SETTLE_SECONDS = 5.0

# V8 flags, set once per process before the first isolate. mini-racer's default is
# --single-threaded (no V8 worker threads: nothing of V8 runs beside the isolate's own thread, which
# suits forked pool workers and watch mode's threads). The other two bound memory, measured on the
# 4x corpus (1,400 JS files, 7 MB, one process, bench/js_path.py): every text is compiled once, so
# the compilation cache only keeps dead scripts alive (up to ~40 MB of heap); a 2 MB semi-space
# (default 16) keeps the parser's short-lived garbage from growing the young generation. Peak RSS
# 246 -> ~165 MB a process at the same CPU time (within this machine's noise). Not used:
# low_memory_notification() every 1 M characters gave pages back (RSS -15 MB) but discarded
# the parser's compiled code with them: 2x slower. --initial-old-space-size barely mattered.
_V8_FLAGS = ("--single-threaded", "--no-compilation-cache", "--max-semi-space-size=2")

# The harness evaluated after acorn.js and meriyah.js: one function expression returning the six
# entry points (check, sameAll, analyzeAll, tokens, safeAll, mapAll). It is package data beside this module (harness.js, its
# bytes evaluated exactly as they are, the leading blank line included).
_HARNESS_FILE = "harness.js"


def _packaged_js(package: str, name: str) -> str:
    """A JavaScript file shipped as package data (acorn.js, meriyah.js, harness.js), as text."""
    try:
        return resources.files(package).joinpath(name).read_text("utf-8")
    except FileNotFoundError as exc:
        where = package.replace(".", "/") + "/" + name
        raise FileNotFoundError(
            f"{where} is missing from this installation of assetbuild; reinstall it"
        ) from exc


@dataclass(frozen=True)
class ScriptFacts:
    """What the bundle checks and the minifier need of an accepted script (offsets index the text)."""

    bindings: tuple[
        tuple[str, str, int], ...
    ]  # (name, "var"|"let"|"const"|"function"|"class", offset)
    use_strict: int | None  # offset of a top-level "use strict" directive
    licenses: tuple[tuple[int, int], ...]  # (start, end) of comments that must survive


@dataclass(frozen=True)
class EngineVerdict:
    """Why the engine did not accept a text; run esprima on it for the authoritative answer."""

    message: str
    offset: int | None  # index into the Python string; None when the engine gives no position
    kind: Kind  # "syntax" (the parser), "compile" (V8 only), "limit" (the engine could not decide)


# A script to map: the text the minifier was given, its output, the file as read, and (in UTF-16
# units) the shift from the first into the file as processed and its substitutions' edits, flat.
ScriptMapJob = tuple[str, str, str, int, tuple[int, ...]]


class Interrupted(RuntimeError):
    """A call was cancelled by `cancel_calls` (the run is ending): its answer is not wanted."""


class _Engine:
    """One V8 isolate with the parsers and the harness loaded; calls are serialized.

    The isolate answers on an asyncio loop that this engine owns (one thread). A call is a task on
    it, so a call cut short (Ctrl-C in the calling thread, or `cancel_calls` from another) is
    cancelled, which terminates the script in V8, before the exception goes on; and `close` stops
    any call still running, waits until the isolate has answered, and only then frees it and closes
    the loop. With mini-racer's own loop, a script still running when the process exited answered
    onto a closed loop: "RuntimeError: Event loop is closed" and a traceback after Ctrl-C.
    """

    def __init__(self) -> None:
        import asyncio

        from py_mini_racer import init_mini_racer, mini_racer

        from assetbuild.interrupts import deferred

        started = time.perf_counter()
        init_mini_racer(flags=_V8_FLAGS, ignore_duplicate_init=True)  # no-op if already done
        with deferred():  # Ctrl-C waits for the set-up (~0.2 s): cut short, it cannot be undone
            self._loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(
                target=self._loop.run_forever, name="assetbuild-v8-loop", daemon=True
            )
            self._loop_thread.start()
            self._making = mini_racer(self._loop)
            self._racer = self._making.__enter__()
            self._running: concurrent.futures.Future[Any] | None = None
            # Past V8's own heap ceiling (~1.4 GB) V8 aborts the whole process (SIGTRAP; a 100 MB
            # script's tree reached it); under this limit it raises instead: a "limit", esprima
            # decides.
            self._racer.set_hard_memory_limit(_HEAP_LIMIT)
            self._racer.eval(_packaged_js("assetbuild.js.vendor", "acorn.js"))
            self._racer.eval(_packaged_js("assetbuild.js.vendor", "meriyah.js"))
            functions: Any = self._racer.eval(_packaged_js("assetbuild.js", _HARNESS_FILE))
        self._check: Any = functions[0]
        self._same_all: Any = functions[1]
        self._analyze_all: Any = functions[2]
        self._tokens: Any = functions[3]
        self._safe_all: Any = functions[4]
        self._extensions: dict[str, Any] = {}  # name -> the function its scripts made (lazily)
        self._map_all: Any = functions[5]
        self._lock = threading.Lock()
        self.pid = os.getpid()
        self.startup_seconds = time.perf_counter() - started

    def close(self) -> None:
        # mini-racer's own finalizer joins its event-loop thread, which hangs once the
        # interpreter has frozen daemon threads at exit: close while threads still run.
        self.cancel()  # a call of another thread, still running: it ends now
        with self._lock:
            del self._check, self._same_all, self._analyze_all, self._tokens, self._safe_all
            self._extensions.clear()
            del self._map_all
            try:
                # The isolate runs one task at a time: once this answers, a script terminated by
                # a cancellation has answered too (onto the open loop, which ignores it).
                self._racer.eval("0", timeout_sec=_SETTLE_SECONDS)
            except Exception:
                return  # the isolate does not answer: leave it and its loop to the process's end
            self._making.__exit__(None, None, None)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(_SETTLE_SECONDS)
            if not self._loop_thread.is_alive():
                self._loop.close()

    def cancel(self) -> None:
        """Cancel the call in progress, if any (from any thread); its caller gets `Interrupted`."""
        running = self._running
        if running is not None:
            running.cancel()

    def call(self, function: Any, size: int, *args: object) -> Any:
        import asyncio

        timeout = _TIMEOUT_BASE + _TIMEOUT_PER_MB * size / 1_000_000
        with self._lock:
            task = _within(function.cancelable()(*args), timeout)
            future = asyncio.run_coroutine_threadsafe(task, self._loop)
            self._running = future
            try:
                return future.result()
            except concurrent.futures.CancelledError:
                raise Interrupted("the JavaScript check was cancelled") from None
            except BaseException:
                # Ctrl-C (KeyboardInterrupt) while V8 runs: stop the script before going on.
                future.cancel()
                with contextlib.suppress(BaseException):
                    concurrent.futures.wait([future], timeout=_SETTLE_SECONDS)
                raise
            finally:
                self._running = None

    def extension(self, name: str, scripts: Callable[[], Sequence[str]]) -> Any:
        """The function the last of `scripts` evaluates to, the scripts evaluated once per engine."""
        with self._lock:
            found = self._extensions.get(name)
            if found is None:
                from assetbuild.interrupts import deferred

                with deferred():  # half-evaluated scripts would stay in the isolate
                    *before, last = scripts()
                    for text in before:
                        self._racer.eval(text)
                    found = self._extensions[name] = self._racer.eval(last)
            return found

    def check(self, text: str, module: bool) -> EngineVerdict | None:
        from py_mini_racer import JSEvalException, JSTimeoutException

        try:
            answer = self.call(self._check, len(text), text, module)
        except (JSEvalException, JSTimeoutException, UnicodeEncodeError) as exc:
            return EngineVerdict(f"engine could not check: {type(exc).__name__}", None, "limit")
        if answer is None:
            return None
        kind, pos, message = str(answer).split("\x00", 2)
        offset = code_point_offset(text, int(pos)) if int(pos) >= 0 else None
        return EngineVerdict(message, offset, _KINDS[kind])

    def analyze_all(
        self, texts: Sequence[str], keep: Sequence[bool], mapped: Sequence[bool] | None = None
    ) -> list[ScriptFacts | EngineVerdict]:
        """Each text's facts or verdict, in one call; the trees of accepted texts marked `keep` stay,
        and the tokens of those marked `mapped` (for `map_all`)."""
        from py_mini_racer import JSEvalException, JSTimeoutException

        answers: dict[int, ScriptFacts | EngineVerdict] = {}
        sent = []
        for i, text in enumerate(texts):
            if has_lone_surrogate(text):  # mini-racer cannot encode it
                answers[i] = EngineVerdict(_UNDECIDED + "UnicodeEncodeError", None, "limit")
            else:
                sent.append(i)
        batch = [texts[i] for i in sent]
        marks = "".join(str(keep[i] + 2 * bool(mapped and mapped[i])) for i in sent)
        try:
            raw = (
                self.call(self._analyze_all, _size(batch), *_joined(batch), marks) if sent else "[]"
            )
        except (JSEvalException, JSTimeoutException) as exc:
            for i in sent:
                # A text the engine could not take (memory, time) fails its batch: each alone.
                answers[i] = (
                    self.analyze_all([texts[i]], [keep[i]], [bool(mapped and mapped[i])])[0]
                    if len(sent) > 1
                    else EngineVerdict(_UNDECIDED + type(exc).__name__, None, "limit")
                )
        else:
            for i, answer in zip(sent, json.loads(str(raw)), strict=True):
                answers[i] = _decoded(texts[i], answer)
        return [answers[i] for i in range(len(texts))]

    def tokens(self, text: str) -> list[tuple[str, int, int]] | None:
        from py_mini_racer import JSEvalException, JSTimeoutException

        try:
            flat = json.loads(str(self.call(self._tokens, len(text), text)))
        except (JSEvalException, JSTimeoutException, UnicodeEncodeError, ValueError):
            return None
        starts, ends = flat[1::3], flat[2::3]
        if _utf16_length(text) != len(text):  # offsets differ from indexes after an astral one
            to_index = _offset_mapper(text)
            starts, ends = [to_index(n) for n in starts], [to_index(n) for n in ends]
        elif starts and (min(starts) < 0 or max(ends) > len(text)):
            return None  # never from acorn: offsets into this very text
        found = list(zip(flat[0::3], starts, ends, strict=True))
        found.sort(key=operator.itemgetter(1))  # comments arrive out of order
        return found

    def safe_all(self, texts: Sequence[str]) -> list[str | None]:
        """The safe minifier's output for each text, in one call; None where acorn cannot tokenize."""
        from py_mini_racer import JSEvalException, JSTimeoutException

        made: list[str | None] = [None] * len(texts)
        sent = [i for i, text in enumerate(texts) if not has_lone_surrogate(text)]
        batch = [texts[i] for i in sent]
        try:
            raw = self.call(self._safe_all, _size(batch), *_joined(batch)) if sent else "[]"
        except (JSEvalException, JSTimeoutException):
            if len(sent) > 1:  # each on its own, as alone
                for i in sent:
                    made[i] = self.safe_all([texts[i]])[0]
            return made
        for i, output in zip(sent, json.loads(str(raw)), strict=True):
            made[i] = output
        return made

    def map_all(self, files: Sequence[ScriptMapJob]) -> list[list[Any] | None]:
        """Each script's map as `scriptMap` in harness.js answers it, in one call; None where not."""
        from py_mini_racer import JSEvalException, JSTimeoutException

        made: list[list[Any] | None] = [None] * len(files)
        sent = [i for i, f in enumerate(files) if not any(map(has_lone_surrogate, f[:3]))]
        if not sent:
            return made
        texts = [text for i in sent for text in files[i][:3]]
        meta = json.dumps([[files[i][3], files[i][4]] for i in sent], separators=(",", ":"))
        try:
            raw = self.call(self._map_all, _size(texts), *_joined(texts), meta)
        except (JSEvalException, JSTimeoutException):
            if len(sent) > 1:  # each on its own, as alone
                for i in sent:
                    made[i] = self.map_all([files[i]])[0]
            return made
        for i, answer in zip(sent, json.loads(str(raw)), strict=True):
            made[i] = answer
        return made

    def same_all(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Whether each pair is proven the same program, in one call."""
        from py_mini_racer import JSEvalException, JSTimeoutException

        proven = [False] * len(pairs)
        sent = [
            i
            for i, (a, b) in enumerate(pairs)
            if not (has_lone_surrogate(a) or has_lone_surrogate(b))
        ]
        if not sent:
            return proven
        texts = [text for i in sent for text in pairs[i]]
        try:
            raw = str(self.call(self._same_all, _size(texts), *_joined(texts)))
        except (JSEvalException, JSTimeoutException):
            if len(sent) > 1:  # each pair on its own, as alone
                for i in sent:
                    proven[i] = self.same_all([pairs[i]])[0]
            return proven
        for i, answer in zip(sent, raw, strict=True):
            proven[i] = answer == "1"
        return proven


_UNDECIDED = "engine could not check: "


def _size(texts: Sequence[str]) -> int:
    return sum(len(text) for text in texts)


def _joined(texts: Sequence[str]) -> tuple[str, str]:
    """The texts as one string and their lengths in UTF-16 units (the engine's), comma-separated."""
    return "".join(texts), ",".join(str(_utf16_length(text)) for text in texts)


def _decoded(text: str, answer: Any) -> ScriptFacts | EngineVerdict:
    """The engine's answer on one text: its facts (a dict), or a verdict (kind, offset, message)."""
    if isinstance(answer, str):
        kind, pos, message = answer.split("\x00", 2)
        offset = code_point_offset(text, int(pos)) if int(pos) >= 0 else None
        if has_lone_surrogate(message):  # JSON keeps what V8 had; a message must print
            message = re.sub("[\ud800-\udfff]", "\ufffd", message)
        return EngineVerdict(message, offset, _KINDS[kind])
    to_index = _offset_mapper(text)
    strict = answer["strict"]
    return ScriptFacts(
        bindings=tuple((name, kind, to_index(at)) for name, kind, at in answer["bindings"]),
        use_strict=to_index(strict) if strict >= 0 else None,
        licenses=tuple((to_index(a), to_index(b)) for a, b in answer["licenses"]),
    )


async def _within(call: Awaitable[Any], timeout: float) -> Any:
    """The call's answer, or JSTimeoutException after `timeout` seconds (the script is stopped)."""
    import asyncio

    from py_mini_racer import JSTimeoutException

    try:
        return await asyncio.wait_for(call, timeout)
    except TimeoutError as exc:
        raise JSTimeoutException from exc


def cancel_calls() -> None:
    """Stop every engine's script in progress: their callers get `Interrupted` (the run is ending).

    The engines stay usable. The executor calls this when its own thread is interrupted, so that
    helper threads do not finish checking big scripts whose results nobody will read.
    """
    for engine in list(_MADE):
        engine.cancel()


_KINDS: dict[str, Kind] = {"syntax": "syntax", "compile": "compile", "limit": "limit"}
_ENGINE: _Engine | None = None  # shared by the threads that have none of their own
_ENGINE_LOCK = threading.Lock()
_MADE: list[_Engine] = []  # every engine of this process (the shared one, lent ones)
_SPARE: list[_Engine] = []  # engines lent to threads before, idle now (their JIT stays warm)
_LENT = threading.local()
_STARTING: list[threading.Thread] = []  # the thread start_early began, once a process


def available() -> bool:
    """True when the `fast` extra (mini-racer) is installed; does not load the engine."""
    if _MADE:
        # V8 does not survive fork(): a child of a process that loaded it must not use it.
        return _MADE[0].pid == os.getpid()
    return importlib.util.find_spec("py_mini_racer") is not None


def start_early() -> None:
    """Begin making the shared engine on a thread of its own, now, when a run knows it will check.

    Loading V8 and evaluating the parsers (~0.1 s) mostly lets go of the GIL (ctypes calls), so
    it overlaps the imports and cache reads that come first; the first `_engine()` waits for it.
    The set-up runs under the engines' lock, as `_engine()` would run it. A failure here is left
    for that first call to meet again (and report as it always has).
    """
    with _ENGINE_LOCK:
        if _ENGINE is not None or _MADE or _STARTING:
            return
        _STARTING.append(threading.Thread(target=_start, name="assetbuild-v8-start", daemon=True))
        starter = _STARTING[0]
        atexit.register(_finish_start)  # before `_close`, which a finished set-up registers
    starter.start()


def _finish_start() -> None:
    """At exit: a set-up still running is waited for, then its engine closed like every other."""
    for starter in _STARTING:
        starter.join(_SETTLE_SECONDS)
    _close()


def _start() -> None:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None and not _MADE:
            with contextlib.suppress(Exception):
                _ENGINE = _made(_Engine())


def _engine() -> _Engine:
    own: _Engine | None = getattr(_LENT, "engine", None)
    if own is not None:
        return own
    global _ENGINE
    with _ENGINE_LOCK:
        _refuse_after_fork()
        if _ENGINE is None:
            _ENGINE = _made(_Engine())
        return _ENGINE


def lend() -> contextlib.AbstractContextManager[None]:
    """An engine (isolate) of a thread's own: inside `with` in that thread, it checks with it.

    V8 runs outside the GIL, so N threads with N engines use N cores for JavaScript, in one process
    (no pickling, one copy of Python and of V8's code). Call this in the main thread: the engine is
    made here if no idle one is left (mini-racer segfaults closing an engine when V8 was set up on
    another thread, or making two at once). It returns to the idle ones after, its JIT warm.
    """
    with _ENGINE_LOCK:
        _refuse_after_fork()
        engine = _SPARE.pop() if _SPARE else None
    if engine is None:
        engine = _Engine()
        with _ENGINE_LOCK:
            _made(engine)
    return _lent(engine)


@contextlib.contextmanager
def _lent(engine: _Engine) -> Iterator[None]:
    held = getattr(_LENT, "engine", None) is not None
    try:
        if held:
            raise RuntimeError("this thread has an engine of its own already")
        _LENT.engine = engine
        yield
    finally:
        if not held:
            _LENT.engine = None
        with _ENGINE_LOCK:
            if engine in _MADE:  # not closed meanwhile
                _SPARE.append(engine)


def _made(engine: _Engine) -> _Engine:
    if not _MADE:
        atexit.register(_close)
    _MADE.append(engine)
    return engine


def _refuse_after_fork() -> None:
    if _MADE and _MADE[0].pid != os.getpid():
        raise RuntimeError("the JavaScript engine was loaded before fork(); use esprima")


def _keep_forever_in_child() -> None:
    # V8's threads do not survive fork(): finalizing an engine in the child would join a thread
    # that is gone and hang at exit, so the child never frees them.
    for engine in _MADE:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(engine))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_keep_forever_in_child)


def _close() -> None:
    global _ENGINE
    with _ENGINE_LOCK:
        engines = list(_MADE)
        _ENGINE = None
        _MADE.clear()
        _SPARE.clear()
    for engine in engines:
        if engine.pid == os.getpid():  # a forked child has no loop thread
            engine.close()


def startup_seconds() -> float:
    """Load the engine now (once per process); the seconds its start-up took."""
    return _engine().startup_seconds


def call_extension(name: str, scripts: Callable[[], Sequence[str]], argument: str) -> str | None:
    """Call, with one string, the function that `scripts` make (evaluated once per engine; the last
    one evaluates to the function), in this thread's engine; its string answer, or None when the
    engine could not answer (time, memory, text it cannot take). Other languages' checks (CSS
    values: css/values.py) run in the engine this way, beside the JavaScript checks."""
    from py_mini_racer import JSEvalException, JSTimeoutException

    if has_lone_surrogate(argument):
        return None
    engine = _engine()
    try:
        return str(engine.call(engine.extension(name, scripts), len(argument), argument))
    except (JSEvalException, JSTimeoutException):
        return None


def check_scripts(texts: Sequence[str], *, module: bool = False) -> list[EngineVerdict | None]:
    """None per text the engine accepts as a classic script (or module); else why not."""
    engine = _engine()
    return [engine.check(text, module) for text in texts]


def analyze_script(text: str) -> ScriptFacts | EngineVerdict:
    """Check a classic script; when accepted, its top-level bindings, strict directive and licenses."""
    return _engine().analyze_all([text], [True])[0]


def analyze_scripts(
    texts: Sequence[str], keep: Sequence[bool] | None = None, mapped: Sequence[bool] | None = None
) -> list[ScriptFacts | EngineVerdict]:
    """`analyze_script` of each text, the same answers, in one call into the engine.

    The trees of accepted texts (those `keep` marks, default all) are held for `same_programs` of
    these texts that follows, and the tokens of those `mapped` marks (default none) for
    `script_maps`, which then need not tokenize them again; the next analysis drops them.
    """
    if not texts:
        return []
    return _engine().analyze_all(texts, [True] * len(texts) if keep is None else keep, mapped)


def script_tokens(text: str) -> list[tuple[str, int, int]] | None:
    """(esprima token type, start, end) of a valid script's tokens and license comments, in order."""
    return _engine().tokens(text)


def safe_minified(texts: Sequence[str]) -> list[str | None]:
    """The safe minifier's output (`safe.emit` over `script_tokens`, the same text) for each text.

    Made inside the engine where the tokens are: a big library has a million of them, which cost
    more to send to Python and emit there than to find. None where the text cannot be tokenized.
    """
    if not texts:
        return []
    return _engine().safe_all(texts)


def script_maps(files: Sequence[ScriptMapJob]) -> list[list[Any] | None]:
    """Each script's map made and proven in the engine, one call for all (maps/scripts.py reads
    the answers): [mappings, first mapping, last mapping, 1 if made from the tokens its check
    heard (`analyze_scripts(..., mapped=...)`; 0: acorn tokenized it)] flat, [""] for none, None
    where the engine could not (lone surrogates, acorn, a pairing or proof that failed)."""
    if not files:
        return []
    return _engine().map_all(files)


def same_programs(pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """True per pair proven to be the same program; False means not proven (ask esprima).

    One call into the engine for all of them; a pair gets the answer it would get alone.
    """
    if not pairs:
        return []
    return _engine().same_all(pairs)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _utf16_length(text: str) -> int:
    """The text's length in UTF-16 code units (an encode is ~20x faster than a regex scan)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _offset_mapper(text: str) -> Callable[[int], int]:
    """UTF-16 offsets to indexes into `text`, in O(log n) per offset after one pass."""
    if _utf16_length(text) == len(text):  # no astral character: the offsets are indexes
        return lambda offset: max(0, min(offset, len(text)))
    import bisect

    # Code-point indexes of astral characters: each one shifts later UTF-16 offsets by one.
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    units = [i + n for n, i in enumerate(astral)]  # UTF-16 offset of each astral character

    def to_index(offset: int) -> int:
        return max(0, min(offset - bisect.bisect_left(units, offset), len(text)))

    return to_index


def code_point_offset(text: str, utf16_offset: int) -> int:
    """Map an offset in UTF-16 code units (the engine's) to an index into `text`."""
    if text.isascii() or utf16_offset <= 0:
        return min(utf16_offset, len(text))
    units = 0
    for index, char in enumerate(text):
        if units >= utf16_offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)
