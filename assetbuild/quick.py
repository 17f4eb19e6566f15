"""A plain `assetbuild install` with nothing to do, answered before click is imported.

The console script (`assetbuild.__main__.run`) asks `answer(argv)` first. Only the plain form is
handled here: `[-C DIR] [-c FILE] install [-q | --quiet] [-C DIR] [-c FILE] [--static-url URL]
[--token N=V]...`, and only when the install state proves everything up to date (the same `state`
calls as `pipeline.install`); it prints what click's `install` prints then (the same
`summary.install_summary`, the same warnings). Once that proof holds with stamps old enough to
trust, the paths it rests on (config and where discovery looked, our code and the checkers', the
sources and the directories their globs listed, the installed files and version directories) are
stamped into a quick record, with the output; while every stamp is unchanged the next such run
answers from it, importing nothing beyond `cachehome`, `stamps` and the C modules `marshal` and `_sha256`
(`json` would pull in `re` and `enum`: ~10 ms, as much again as Python's own start-up). The record
is signed with the user's cache key, which lives outside the cache directory (`cachehome`), over
the cache directory it is in and its bytes: one written by anyone else - restamped, copied from
another directory or machine - is not read, and whatever it claims is confirmed by the stamps of
the files themselves, which the cache cannot forge. Anything else - another option
or command, a repeated option, a value that click would reject, a config error, any change, any
doubt - returns None with nothing printed and the working directory restored, and the click
command runs as before. Nothing here decides differently from the click path; it only skips
importing click and the build modules. This module imports neither click nor `cli`.
"""

from __future__ import annotations

import os
import sys

from assetbuild import stamps
from assetbuild.cachehome import (
    ENV_KEY,
    Key,
    light_sha256,
    load_key,
    read_cache_file,
    site_cache_dir,
)
from assetbuild.stamps import stamp as stamp_of_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms) on the quick path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence  # collections: ~2 ms
    from typing import Any

    from assetbuild.build.results import InstallOutcome
    from assetbuild.build.session import Session
    from assetbuild.diagnostics import Diagnostic

    Remember = Callable[[Session, InstallOutcome], None]

_VALUED = {"-C": "directory", "-c": "config", "--config": "config", "--static-url": "static_url"}
_GROUP_OPTIONS = frozenset({"directory", "config"})

# The quick record: stamps that prove the last up-to-date answer still holds, so the next one
# needs neither the config parser nor the build modules. Kept in the cache directory of the site,
# when that is where it can be found without reading the config: the default cache_dir of the
# directory the command runs in, or (zero-config) that directory's site cache in the user's cache
# home (a configured elsewhere cache_dir goes without).
QUICK_FORMAT = 5
QUICK_CACHE = ".assetbuild-cache"  # config.py's default cache_dir
QUICK_NAME = os.path.join("state", "quick.bin")  # `cache clear` removes it
QUICK_FILE = os.path.join(QUICK_CACHE, QUICK_NAME)
# The record is marshal data (only ever str, int, bool, None, list, dict: never code) after this
# magic, the key's id and an HMAC-SHA256 of the cache directory and the data, so a damaged,
# forged or foreign file is refused before it is read.
_MAGIC = b"ABQUICK3"
_MAC_SIZE = 32
MAX_QUICK_BYTES = 64 * 1024 * 1024
MAX_PROVEN_BYTES = 512 * 2**20  # a file confirmed by content (the state's bound for bundles)
QUICK_ENTRIES = 16  # command lines remembered per directory
RACY_NS = stamps.RACY_NS  # a younger stamp proves nothing yet

# (directory, config, static_url, tokens, quiet) of a plain install line.
_Line = tuple[str | None, str | None, str | None, tuple[tuple[str, str], ...], bool]


def _parse(argv: Sequence[str]) -> _Line | None:
    """The options of a plain install, or None when the line is anything else."""
    found: dict[str, str] = {}
    tokens: list[tuple[str, str]] = []
    seen_command = False
    quiet = False
    group: set[str] = set()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "install" and not seen_command:
            seen_command = True
            continue
        if arg in ("-q", "--quiet") and seen_command:
            quiet = True
            continue
        name, value = arg, None
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
        elif arg[:2] in ("-C", "-c") and len(arg) > 2:
            name, value = arg[:2], arg[2:]
        key = _VALUED.get(name) if name != "--token" else "token"
        if key is None or (not seen_command and key not in _GROUP_OPTIONS):
            return None
        if value is None:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if not value or value.startswith("-"):
            return None  # odd enough to leave to click
        if key == "token":
            token_name, sep, text = value.partition("=")
            if not sep or not token_name:
                return None  # click reports it
            tokens.append((token_name, text))
            continue
        if key in found or (not seen_command and key in group):
            return None  # repeated: click's rules decide
        if not seen_command:
            group.add(key)
        found[key] = value
    if not seen_command:
        return None
    return (
        found.get("directory"),
        found.get("config"),
        found.get("static_url"),
        tuple(tokens),
        quiet,
    )


def answer(argv: Sequence[str]) -> int | None:
    """Exit status when this is a plain install that is up to date (its output printed), else None."""
    return attempt(argv)[0]


def attempt(argv: Sequence[str]) -> tuple[int | None, Session | None, Remember | None]:
    """`answer`, with the session the state checked when it could not prove "up to date", and
    what records the next run's answer once the install that follows has succeeded.

    The command line goes on with that session (same config and options: it checks), so an
    install after an edit loads, collects, stamps and asks the state once, not twice.
    """
    line = _parse(argv)
    if line is None:
        return None, None, None
    try:
        start = os.getcwd()
    except OSError:
        return None, None, None
    handoff: list[Session] = []
    try:
        printed = _answer(line, start, handoff)
    except Exception:  # any doubt: the click path decides and reports
        printed = None
        handoff.clear()
    if printed is None:
        os.chdir(start)
        key = _key(line, start)
        return None, handoff[0] if handoff else None, (lambda s, o: _after_install(line, key, s, o))
    out, err = printed
    if err:
        sys.stderr.write(err)
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    return 0, None, None


def _answer(line: _Line, start: str, handoff: list[Session]) -> tuple[str, str] | None:
    """(stdout, stderr) when the install is proven up to date (by the quick record, else the state)."""
    directory, config = line[0], line[1]
    if directory is not None:
        if os.path.exists(directory) and not os.path.isdir(directory):
            return None  # click's "is a file" error
        os.chdir(directory)
    if config is not None and os.path.isdir(config):
        return None  # click's "is a directory" error
    key = _key(line, start)
    status, printed = _lookup(key)
    if status == "valid":
        return printed
    printed = _up_to_date(line, key, handoff)
    if printed is None and status == "stale":
        # Something changed since the last proof and the state cannot prove it either: forget
        # the record (the build goes on with the session the state checked). A file rewritten
        # with the same bytes is proven by content and answered here, its record renewed.
        _remember(key, None)
    return printed


def _places() -> list[str]:
    """The cache directories a record may be in: the default cache_dir here, the zero-config one."""
    return [os.path.abspath(QUICK_CACHE), site_cache_dir(os.path.realpath("."))]


def _identity() -> list[object]:
    """What besides stamps must match: this interpreter, this install, the ASSETBUILD_* variables."""
    return [
        sys.version,
        sys.executable,
        list(sys.path),
        os.path.dirname(os.path.abspath(__file__)),
        sorted(
            [k, v] for k, v in os.environ.items() if k.startswith("ASSETBUILD_") and k != ENV_KEY
        ),
    ]


def _key(line: _Line, start: str) -> str:
    return repr((start, *line))


def _load(cache_dir: str | None = None, key: Key | None = None) -> dict[str, Any] | None:
    """The entries of the record in `cache_dir` (by default the first of `_places()`), or None
    when it is missing, damaged, of another format, or not signed by this user's key for there."""
    import marshal

    if cache_dir is None:
        cache_dir = _places()[0]
    if key is None:
        key = load_key(create=False)[0]
        if key is None:
            return None
    raw = read_cache_file(os.path.join(cache_dir, QUICK_NAME), MAX_QUICK_BYTES)
    if raw is None:  # missing, or a FIFO, a device or a giant planted there
        return None
    head = len(_MAGIC) + len(key.ident) + _MAC_SIZE
    if raw[: len(_MAGIC)] != _MAGIC or raw[len(_MAGIC) : head - _MAC_SIZE] != key.ident:
        return None
    if not key.verify(raw[head - _MAC_SIZE : head], *_signed_parts(cache_dir, raw[head:])):
        return None
    try:
        data = marshal.loads(raw[head:])
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != QUICK_FORMAT:
        return None
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else None


def _holding(key: str) -> list[str]:
    """The places whose record file has an entry for `key`."""
    signer = load_key(create=False)[0]
    if signer is None:
        return []
    return [place for place in _places() if key in (_load(place, signer) or ())]


def _record(key: str) -> Any:
    """The entry for `key` in the first place that has one, else None."""
    signer = load_key(create=False)[0]
    if signer is None:
        return None
    for place in _places():
        entries = _load(place, signer)
        if entries is not None and key in entries:
            return entries[key]
    return None


def _signed_parts(cache_dir: str, payload: bytes) -> tuple[bytes, ...]:
    return (b"quick", os.fsencode(os.path.abspath(cache_dir)), payload)


def _dump(entries: dict[str, Any], cache_dir: str, key: Key) -> bytes:
    import marshal

    payload = marshal.dumps({"format": QUICK_FORMAT, "entries": entries})
    return _MAGIC + key.ident + key.sign(*_signed_parts(cache_dir, payload)) + payload


def _lookup(key: str) -> tuple[str, tuple[str, str] | None]:
    """("valid", (stdout, stderr)), or ("stale", None) when a stamp changed, or ("absent", None)."""
    try:
        record = _record(key)
        if record is None:
            return "absent", None
        if record["identity"] != _identity():
            return "stale", None
        import time  # a built-in module: nothing to load

        before = time.time_ns()  # taken before any content is read (see _settle)
        proven = 0
        for entry in record["stamps"]:
            if stamp_of_path(entry[0]) != entry[1]:
                return "stale", None
            if len(entry) > 2:  # a stamp too young to prove it when recorded: its content does
                if not _still(entry[0], entry[2]):
                    return "stale", None
                proven += 1
        if proven:
            _settle(key, record, before)
        out = str(record["stdout"])
        if not record["warnings"]:
            return "valid", (out, "")
        from assetbuild.report import use_color

        return "valid", (out, str(record["warnings"][1 if use_color(sys.stderr) else 0]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return "absent", None


def _still(path: str, proof: Any) -> bool:
    """Whether a path still holds what the proof recorded: a file's SHA-256, an area's versions."""
    kind, value = proof
    if kind == "sha256":
        data = read_cache_file(path, MAX_PROVEN_BYTES)
        return data is not None and bool(light_sha256()(data).hexdigest() == value)
    if kind == "versions":
        from pathlib import Path

        from assetbuild.versions import list_versions

        return list(list_versions(Path(path))) == list(value)
    return False


def _settle(key: str, record: dict[str, Any], before: int) -> None:
    """Drop the content proofs once every proven stamp is old enough to prove its file alone.

    Their content was confirmed after `before`; when `before` is RACY_NS past a stamp, a change
    after that reading would have given the file another stamp, so later runs need not read it
    again. Nothing is written while any stamp is still young.
    """
    for entry in record["stamps"]:
        stamp = entry[1]
        if len(entry) > 2 and stamp is not None and stamps.settling(stamp, before, RACY_NS):
            return
    settled = dict(record, stamps=[entry[:2] for entry in record["stamps"]])
    signer = load_key(create=False)[0]
    if signer is None:
        return
    for place in _places():
        entries = _load(place, signer)
        if entries is not None and entries.get(key) == record:
            entries[key] = settled
            _write(place, entries, signer)
            return


def _up_to_date(line: _Line, key: str, handoff: list[Session]) -> tuple[str, str] | None:
    """(stdout, stderr) when the state proves the install up to date, else None.

    When the state was asked and could not prove it, the session it checked goes into `handoff`, so
    that the install which follows neither loads, collects, stamps nor asks again.
    """
    from pathlib import Path

    from assetbuild.build.results import BuildOptions
    from assetbuild.build.session import Session
    from assetbuild.config import Overrides, load_config
    from assetbuild.report import use_color

    overrides = Overrides(static_url=line[2], tokens=line[3], strict_tokens=None)
    config_file = Path(line[1]) if line[1] is not None else None
    config = load_config(Path.cwd(), config_file, overrides, os.environ)
    session = Session(config, BuildOptions())  # what cli makes of these settings
    outcome = session.prove_up_to_date(tuple(config.compress))
    snapshot, saved = session.snapshot, session.proof
    if snapshot is None or saved is None or outcome is None:
        handoff.append(session)
        return None
    out = ""
    if not line[4]:
        from assetbuild.summary import install_summary  # what click's `install` prints

        out = "".join(f"{text}\n" for text in install_summary(config, outcome))
    warnings = [d for d in outcome.build.diagnostics if not d.is_error]
    texts = _record_answer(key, session, saved, warnings, out)
    return out, texts[1 if use_color(sys.stderr) else 0]


def _record_answer(
    key: str, session: Session, saved: Mapping[str, Any], warnings: list[Diagnostic], out: str
) -> list[str]:
    """Record the answer the state proves (`out` and the warnings, plain and coloured) under
    `key`, where the quick path looks for it; the warnings' texts."""
    from assetbuild.cache import state
    from assetbuild.report import format_diagnostics

    config = session.config
    shown = [format_diagnostics(warnings, color) for color in (False, True)]
    texts = [t if not t or t.endswith("\n") else t + "\n" for t in shown]
    if session.snapshot is not None and os.path.abspath(config.cache_dir) in _places():
        paths = state.quick_paths(config, session.snapshot, saved)
        proofs = state.quick_proofs(config, saved)
        answer = {"paths": paths, "proofs": proofs, "stdout": out, "warnings": texts}
        _remember(key, answer, str(config.cache_dir))
    return texts


def _after_install(line: _Line, key: str, session: Session, outcome: InstallOutcome) -> None:
    """After a plain `install --quiet` that succeeded, record the answer of the next one.

    The state the install just recorded proves the site up to date (its installed files and young
    sources by content, in `state.quick_proofs`), so the next run answers here instead of loading
    the build to ask the state: right after an install, as `make install` twice does. Only a
    quiet run: what a non-quiet no-change run prints is not what this install printed.
    """
    if not line[4] or session.snapshot is None:
        return
    from assetbuild.cache import state

    saved = state.saved(session.config, session.snapshot)
    if saved is not None:  # the warnings the state's own answer would show, not this run's
        shown = list(state.shown_diagnostics(session.config, saved))
        _record_answer(key, session, saved, shown, "")


def _remember(key: str, answer: dict[str, Any] | None, cache_dir: str | None = None) -> None:
    """Record the stamps of `answer["paths"]` and its output for the next run (None: forget).

    A stamp too recent to prove anything is recorded with what `answer["proofs"]` says of its
    content (checked on every lookup until `_settle` drops it); without such a proof nothing is
    recorded. The record goes into `cache_dir` (one of `_places()`); without one, `key` is
    forgotten wherever it is.
    """
    import time

    if cache_dir is None:
        for place in _holding(key):
            _remember(key, None, place)
        return
    signer = load_key(create=False)[0]
    if signer is None:
        return
    record = None
    if answer is not None:
        now = time.time_ns()
        recorded = []
        proofs = answer.get("proofs", {})
        for path in answer["paths"]:
            stamp = stamp_of_path(path)
            if stamp is not None and stamps.settling(stamp, now, RACY_NS):
                # Changed moments ago, so the stamp could miss a change in its granularity: what
                # the proof says of its content is checked instead (git's racily clean entries).
                if path not in proofs:
                    return
                recorded.append([path, stamp, proofs[path]])
                continue
            recorded.append([path, stamp])
        warnings = answer["warnings"]
        record = {
            "identity": _identity(),
            "stamps": recorded,
            "stdout": answer["stdout"],
            "warnings": warnings if any(warnings) else [],
        }
    entries = _load(cache_dir, signer) or {}
    if entries.pop(key, None) is None and record is None:
        return  # nothing to forget
    if record is not None:
        entries[key] = record
    while len(entries) > QUICK_ENTRIES:
        entries.pop(next(iter(entries)))
    _write(cache_dir, entries, signer)


def _write(cache_dir: str, entries: dict[str, Any], signer: Key) -> None:
    import contextlib
    from pathlib import Path

    from assetbuild.cache.content import claim, write_in

    parts = QUICK_NAME.split(os.sep)
    with contextlib.suppress(OSError):  # an unwritable cache only costs speed
        if claim(Path(cache_dir)):
            write_in(Path(cache_dir), parts[:-1], parts[-1], _dump(entries, cache_dir, signer))
