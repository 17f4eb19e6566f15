"""The no-change fast path: decide "up to date" from file stamps, without reading sources or checking.

After each successful install we record (atomically, in the cache directory) what it was built from and
what it left on disk:
- a hash of every setting that changes the build (the resolved config, the config file's bytes, the
  options, the working directory, ASSETBUILD_* variables, the tool's and the checkers' installed files);
- the sources after glob expansion, in order, each with size, mtime_ns, ctime_ns and inode, as stamped
  *before* the build read them (a file changed during the build differs from its stamp next time);
- every installed file (bundles, their precompressed variants or their absence, the manifest and the
  files it names) with stamps and SHA-256, and the version directories of each area.

The state file is signed (HMAC-SHA256) with the user's cache key, which lives outside the cache
directory (`cachehome`): a state written by anyone else - forged, restamped, copied from another site
or machine - is not read, and the full path runs. `check` answers only when all of that still holds;
any doubt means None, and the full path runs (it compares bytes). A stamp taken less than RACY_NS after the file's mtime cannot prove the file did not
change again within the file system's timestamp granularity: such a source sends us down the full path,
and such an installed file is compared by hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild import __version__, stamps
from assetbuild.accept.entries import partition
from assetbuild.build.results import (
    AreaResult,
    BuildOptions,
    BuildResult,
    Built,
    InstalledFile,
    InstallOutcome,
    InstallReport,
    Output,
    TreeInstalled,
)
from assetbuild.cache.codec import decode_diagnostics, encode_diagnostics
from assetbuild.cache.fingerprint import code_dirs, code_files, package_origins
from assetbuild.cachehome import ENV_KEY, Key, load_key, read_cache_file

if TYPE_CHECKING:
    from assetbuild.config import BundleSpec, Config
    from assetbuild.diagnostics import Diagnostic

STATE_FORMAT = 8
MAX_BUNDLE_BYTES = 512 * 2**20  # an installed bundle read back (install/entries' bound)
_MAGIC = b"ABSTATE4"  # then the key's id (8 bytes), the HMAC (32), the JSON state
MAX_STATE_BYTES = 256 * 1024 * 1024
RACY_NS = stamps.RACY_NS
_SUFFIXES = (".gz", ".br")  # compress.SUFFIXES, without importing gzip here

Stamp = stamps.Stamp


@dataclass(frozen=True)
class Snapshot:
    """What the build is about to read: settings hash and source stamps, taken before reading."""

    settings: str
    sources: tuple[tuple[str, Stamp], ...]
    racy: bool
    dirs: tuple[str, ...] = ()  # every directory the globs listed (quick.py stamps them)
    bundles: tuple[tuple[str, tuple[str, ...]], ...] = ()  # each bundle's sources, in order
    young: tuple[str, ...] = ()  # sources whose stamps are too recent to prove anything yet


def _canonical(value: Any) -> Any:
    """A JSON-ready, order-stable form of a config or options value."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))}
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _code_stamps() -> list[Any]:
    """Stamps of our own code and of the checkers' and compressors' installed files."""
    found: list[Any] = [__version__]
    for path in code_files():
        found.append([str(path), stamps.stamp(path)])
    for name, origin in package_origins():
        found.append([name, origin, stamps.stamp(origin) if origin else None])
    return found


def quick_paths(config: Config, snapshot: Snapshot, saved: Mapping[str, Any]) -> list[str]:
    """Every path whose stamp, unchanged, proves this up-to-date answer still holds (for quick.py).

    The answer came from the config file (and where discovery looked for one), our code and the
    checkers' (and sys.path, where a newly installed one would appear), the sources and the
    directories their globs listed, and the installed files with their areas' version listings.
    """
    import sys

    paths = [str(d) for d in code_dirs()]
    paths += [str(p) for p in code_files()]
    paths += [origin for _, origin in package_origins() if origin]
    paths += [os.path.abspath(entry or ".") for entry in sys.path]
    # Config discovery (config.find_config) looks in the working directory and upwards.
    config_dir = str(config.config_path.parent) if config.config_path is not None else None
    folder = os.getcwd()
    while True:
        paths += [os.path.join(folder, "assetbuild.toml"), os.path.join(folder, "pyproject.toml")]
        parent = os.path.dirname(folder)
        if folder == config_dir or parent == folder:
            break
        folder = parent
    if config.config_path is not None:
        paths.append(str(config.config_path))
    else:  # zero-config mode: its bundles come from listing <root>/<area>/source
        root = str(config.root)
        paths.append(root)
        with contextlib.suppress(OSError):
            for entry in os.scandir(root):
                if entry.is_dir() and not entry.name.startswith("."):
                    paths += [entry.path, os.path.join(entry.path, "source")]
                    paths.append(os.path.join(entry.path, "modules"))  # a zero-config tree
    paths += [p for p, _ in snapshot.sources]
    paths += snapshot.dirs
    paths += list(saved["files"])
    paths += [str(config.root / area) if area else str(config.root) for area in saved["versions"]]
    return list(dict.fromkeys(paths))


def saved(config: Config, snapshot: Snapshot) -> dict[str, Any] | None:
    """The state the last install recorded, when it was recorded from `snapshot` (else None)."""
    key = load_key(create=False)[0]
    if key is None:
        return None
    state = _load(config, key, state_path(config))
    if state is None or state.get("settings") != snapshot.settings:
        return None
    if state.get("sources") != [[p, list(s)] for p, s in snapshot.sources]:
        return None
    return state


def quick_proofs(config: Config, saved: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What the proof says of paths too young for their stamps (quick.py's racily clean entries,
    as git confirms them): a file's SHA-256 as proven, an area's version numbers as listed."""
    from assetbuild.cachehome import read_cache_file
    from assetbuild.sources import max_source_bytes, source_kind

    proofs: dict[str, list[Any]] = {}
    for path, rec in saved["files"].items():
        if isinstance(rec, dict) and isinstance(rec.get("sha256"), str):
            proofs[path] = ["sha256", rec["sha256"]]
    for path, digest in saved.get(
        "young", {}
    ).items():  # proven by their text: its bytes, if they say it
        raw = read_cache_file(path, max_source_bytes(source_kind(Path(path))))
        if raw is None or not isinstance(digest, str):
            continue
        try:
            text = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
        if _text_digest(text) == digest:
            proofs[path] = ["sha256", hashlib.sha256(raw).hexdigest()]
    for area, numbers in saved["versions"].items():
        proofs[str(config.root / area) if area else str(config.root)] = ["versions", list(numbers)]
    return proofs


def settings_key(
    config: Config,
    options: BuildOptions,
    compress: Sequence[str],
    environ: Mapping[str, str] = os.environ,
) -> str:
    """A hash of everything except source files that can change what an install produces."""
    config_bytes = None
    if config.config_path is not None:
        try:
            config_bytes = hashlib.sha256(config.config_path.read_bytes()).hexdigest()
        except OSError:
            config_bytes = "unreadable"
    data = {
        "format": STATE_FORMAT,
        "code": _code_stamps(),
        "cwd": os.getcwd(),
        "config": _canonical(config),
        "config_bytes": config_bytes,
        "options": _canonical(options),
        "compress": list(compress),
        "environ": sorted(
            (k, v) for k, v in environ.items() if k.startswith("ASSETBUILD_") and k != ENV_KEY
        ),
    }
    blob = json.dumps(data, sort_keys=True, ensure_ascii=True, default=repr)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def take_snapshot(
    config: Config,
    settings: str,
    sources: Callable[[BundleSpec], Sequence[Path]] | None = None,
    listed: set[str] | None = None,
) -> Snapshot | None:
    """Expand every bundle's globs (directory listings only) and stamp the sources; None on any problem.

    `sources` collects a bundle's sources (a session's, so the build reuses them) and adds the
    directories it listed to `listed`; by default they are collected here.
    """
    from assetbuild.errors import SourceError

    listed = set() if listed is None else listed
    if sources is None:
        from assetbuild.sources import collect

        def sources(spec: BundleSpec) -> Sequence[Path]:
            return collect(
                config.root, spec, allow_outside=config.allow_symlinks_outside, listed=listed
            )

    now = time.time_ns()
    found: list[tuple[str, Stamp]] = []
    per_bundle: list[tuple[str, tuple[str, ...]]] = []
    young: list[str] = []
    inputs: list[Path] = []  # the bundles' sources, then the trees' modules
    for spec in config.bundles:
        try:
            paths = sources(spec)
        except SourceError:
            return None
        per_bundle.append((spec.output, tuple(str(path) for path in paths)))
        inputs.extend(paths)
    if config.modules:  # every file of every tree, and each directory listed (a file added)
        from assetbuild.modules.config import list_tree

        inputs.extend(
            config.root / rel
            for tree in config.modules
            for rel in list_tree(config.root, tree, listed)
        )
    for path in inputs:
        stamp = stamps.stamp(path)
        if stamp is None:
            return None
        if now - stamp[1] < RACY_NS:
            young.append(str(path))
        found.append((str(path), stamp))
    return Snapshot(
        settings,
        tuple(found),
        bool(young),
        tuple(sorted(listed)),
        tuple(per_bundle),
        tuple(young),
    )


def _site(config: Config) -> bytes:
    """What a state belongs to: its config file, root and manifest (its name and its signature)."""
    ident = "\0".join(str(p) for p in (config.config_path, config.root, config.manifest_path))
    return ident.encode("utf-8", "surrogateescape")


def state_path(config: Config) -> Path:
    """One state file per config file, root and manifest, inside the cache directory."""
    name = hashlib.sha256(_site(config)).hexdigest()[:24]
    return config.cache_dir / "state" / f"{name}.state"


def _signed(config: Config, key: Key, state: Mapping[str, Any]) -> bytes:
    body = json.dumps(state, sort_keys=True).encode("utf-8")
    mac = key.sign(b"state", _site(config), body, new=hashlib.sha256)
    return _MAGIC + key.ident + mac + body


def _save(config: Config, key: Key, target: Path, state: Mapping[str, Any]) -> bool:
    """Write a signed state into our cache directory (tagged first); False when it cannot be."""
    from assetbuild.cache.content import claim, write_in

    try:
        if not claim(config.cache_dir):
            return False
        write_in(config.cache_dir, ("state",), target.name, _signed(config, key, state))
    except OSError:
        return False  # an unwritable cache (or a symlink planted in it) only costs speed
    return True


# --- recording ------------------------------------------------------------------------------------------


def _file_record(path: Path, expect: bytes | None = None) -> dict[str, Any] | None:
    """Stamp and hash of a file as it is now; None when it changes under us or is not `expect`."""
    before = stamps.stamp(str(path))
    if before is None:
        return {"absent": True}
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if stamps.stamp(str(path)) != before or (expect is not None and data != expect):
        return None
    return {
        "stamp": list(before),
        "sha256": hashlib.sha256(data).hexdigest(),
        "racy": _racy(before),
    }


def _racy(stamp: Stamp) -> bool:
    return time.time_ns() - stamp[1] < RACY_NS


def record(
    config: Config,
    snapshot: Snapshot,
    bundles: Sequence[Built],
    outputs: Sequence[Output],
    report: InstallReport,
    diagnostics: Sequence[Any],
    *,
    read: Mapping[str, str | None] | None = None,
) -> bool:
    """Save the state of a successful install; False (and nothing saved) when it cannot be trusted.

    `read`: the text the build read of each young source (its stamp proves nothing yet), so that
    `check` can confirm such a source by content, as git does a racily clean file.
    """
    target = state_path(config)
    key = load_key(create=True)[0]
    # Young sources do not stop the record: their stamps prove nothing (check() says "build"
    # while any is recorded young, reusable() skips their bundles), the others' do.
    if report.dry_run or report.manifest_path is None or key is None:
        _forget(target)
        return False
    by_name = {o.name: o for o in outputs}
    inputs = dict(snapshot.bundles)
    placed = report.placed
    files: dict[str, Any] = {}
    saved_bundles = []
    for b in bundles:
        rel = placed.get(b.output)
        out = by_name.get(b.output)
        if rel is None or out is None:
            _forget(target)
            return False
        path = config.root / rel
        files[str(path)] = _file_record(path, b.data)
        for suffix in _SUFFIXES:
            variant = path.with_name(path.name + suffix)
            files[str(variant)] = _file_record(variant)
        # url() assets: an edited font or image is a change, and so is its installed copy's.
        copied = dict(b.assets)
        for place, source in b.asset_sources:
            if place not in copied:  # missing or refused (a FIFO is never read): its stamp only
                now = stamps.stamp(source)
                files[source] = (
                    {"absent": True}
                    if now is None
                    else {"stamp": list(now), "sha256": None, "racy": _racy(now)}
                )
                continue
            files[source] = _file_record(Path(source), copied[place])
            if place in copied:
                copy = path.parent.joinpath(*place.split("/"))
                files[str(copy)] = _file_record(copy, copied[place])
        if b.map_data:  # its map: a change or removal is noticed like the bundle's
            beside = path.with_name(path.name + ".map")
            files[str(beside)] = _file_record(beside, b.map_data)
        saved_bundles.append(
            {
                "name": b.output,
                "kind": b.kind,
                "sources": list(b.sources),
                "raw_size": b.raw_size,
                "gzip_size": b.known_gzip_size,  # None: not measured (a quiet install)
                "methods": list(b.methods),
                "path": rel,
                "inputs": list(inputs.get(b.output, ())),
                "assets": bool(b.asset_sources),
            }
        )
    for name, entry in report.modules.items():  # installed modules: a change or removal is seen
        out = by_name.get(name)
        path = config.root / entry["path"]
        files[str(path)] = _file_record(path, out.data if out is not None else None)
        for suffix in _SUFFIXES:
            variant = path.with_name(path.name + suffix)
            files[str(variant)] = _file_record(variant)
        if "map" in entry:
            beside = config.root / entry["map"]["path"]
            files[str(beside)] = _file_record(beside)
    manifest = report.manifest_path
    files[str(manifest)] = _file_record(manifest)
    named, areas = _manifest_names(config, report)
    areas.update(tree.area for tree in config.modules)
    for path in named:
        files.setdefault(str(path), _file_record(path))
    areas.update(_area_of(b.output) for b in bundles)
    if any(v is None for v in files.values()):
        _forget(target)
        return False
    versions = {area: _versions(config.root, area) for area in sorted(areas)}
    state = {
        "format": STATE_FORMAT,
        "settings": snapshot.settings,
        "sources": [[p, list(s)] for p, s in snapshot.sources],
        "young": {p: _text_digest((read or {}).get(p)) for p in snapshot.young},
        "files": files,
        "versions": versions,
        "bundles": saved_bundles,
        "areas": [
            {"area": a.area, "version": a.version, "files": [[f.name, f.path] for f in a.files]}
            for a in report.areas
        ],
        "manifest": str(manifest),
        "entries": report.entries if config.manifest_format == "json" else {},
        "modules": report.modules,
        "trees": [[t.output, t.version, t.files, t.size] for t in report.trees],
        "diagnostics": encode_diagnostics(d for d in diagnostics if not d.is_error),
    }
    return _save(config, key, target, state)


def _text_digest(text: str | None) -> str | None:
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _same_text(path: str, digest: Any) -> bool:
    """Whether a source still reads as the text whose digest was recorded."""
    from assetbuild.errors import SourceError
    from assetbuild.sources import read_source

    if not isinstance(digest, str):
        return False
    try:
        return _text_digest(read_source(Path(path), path).original) == digest
    except SourceError:
        return False


def _forget(target: Path) -> None:
    with contextlib.suppress(OSError):
        target.unlink()


def _area_of(name: str) -> str:
    return name.rpartition("/")[0]


def _versions(root: Path, area: str) -> list[int]:
    from assetbuild.versions import list_versions

    return list(list_versions(root / area if area else root))


def _manifest_names(config: Config, report: InstallReport) -> tuple[list[Path], set[str]]:
    """Files the JSON manifest names (with variants) and their areas: an install rereads those too."""
    if config.manifest_format != "json":
        return [], set()
    paths: list[Path] = []
    areas: set[str] = set()
    for name, entry in report.entries.items():
        areas.add(_area_of(name))
        base = config.root / entry["path"]
        paths.extend([base, *(base.with_name(base.name + s) for s in _SUFFIXES)])
    return paths, areas


# --- checking -------------------------------------------------------------------------------------------


def _load(config: Config, key: Key, target: Path) -> dict[str, Any] | None:
    """The state in `target` when this key signed it for this site, else None."""
    raw = read_cache_file(target, MAX_STATE_BYTES)  # never a FIFO, a device or a giant
    if raw is None:
        return None
    head = len(_MAGIC) + len(key.ident) + 32
    if raw[: len(_MAGIC)] != _MAGIC or raw[len(_MAGIC) : head - 32] != key.ident:
        return None
    body = raw[head:]
    if not key.verify(raw[head - 32 : head], b"state", _site(config), body, new=hashlib.sha256):
        return None
    try:
        state = json.loads(body)
    except ValueError:
        return None
    return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else None


def _file_matches(path: str, rec: Any) -> tuple[bool, Any]:
    """Whether a file is as recorded, and its fresher record when a hash had to prove it."""
    if not isinstance(rec, dict):
        return False, None
    stamp = stamps.stamp(path)
    if rec.get("absent"):
        return stamp is None, None
    if stamp is None:
        return False, None
    if list(stamp) == rec.get("stamp") and not rec.get("racy"):
        return True, None
    from assetbuild.fsutil import RefusedFile, read_regular

    try:  # a regular file within a bound, never a FIFO that would hang the read
        digest = hashlib.sha256(
            read_regular(Path(path), MAX_BUNDLE_BYTES, follow_symlinks=False)
        ).hexdigest()
    except (OSError, RefusedFile):
        return False, None
    if digest != rec.get("sha256"):
        return False, None
    fresh = None
    if stamps.stamp(path) == stamp and not _racy(stamp):
        fresh = {"stamp": list(stamp), "sha256": digest, "racy": False}
    return True, fresh


def check(config: Config, snapshot: Snapshot, *, write: bool = True) -> dict[str, Any] | None:
    """The recorded state when nothing changed since it was recorded, else None.

    With `write` (not in a dry run), files proven by hash get their fresh stamps recorded.
    """
    state = saved(config, snapshot)
    if state is None:
        return None
    fresher: dict[str, Any] = {}
    try:
        # Stamps too young to prove anything (when recorded, or now): confirmed by content.
        young = dict(state["young"])
        if any(path not in young for path in snapshot.young):
            return None
        if not all(_same_text(path, digest) for path, digest in young.items()):
            return None
        versions = state["versions"]
        if any(_versions(config.root, area) != v for area, v in versions.items()):
            return None
        for path, rec in state["files"].items():
            ok, fresh = _file_matches(path, rec)
            if not ok:
                return None
            if fresh is not None:
                fresher[path] = fresh
    except (KeyError, TypeError, AttributeError):
        return None
    settled = not snapshot.young and young
    if settled:
        state["young"] = {}  # proven by content and now old: their stamps prove it next time
    if (fresher or settled) and write:
        # Proven by hash and now old enough for the stamp to prove it next time: remember that.
        state["files"].update(fresher)
        key = load_key(create=False)[0]
        if key is not None:
            _save(config, key, state_path(config), state)
    return state


def reusable(config: Config, snapshot: Snapshot) -> dict[str, Built]:
    """Bundles that need no build, from the last install's state: what was installed for them.

    A bundle qualifies when the settings are the same, its sources are the same paths in the same
    order, each with the stamp recorded then (recorded only when old enough to prove the file
    unchanged since, so a source edited later has another stamp), and its installed file still holds
    the bytes written then (by stamp, else by hash). Its bytes are read back from that file; no
    source is read. The rest of the site is built as usual: this is what keeps an install after a
    one-file edit from reading, hashing and decoding every other bundle's sources.
    """
    key = load_key(create=False)[0]
    if key is None:
        return {}
    state = _load(config, key, state_path(config))
    if state is None or state.get("settings") != snapshot.settings:
        return {}
    current = dict(snapshot.bundles)
    now = dict(snapshot.sources)
    found: dict[str, Built] = {}
    try:
        then = {path: stamp for path, stamp in state["sources"]}
        for path in state["young"]:
            then.pop(path, None)  # recorded too young to prove anything: its bundle is built
        diags = decode_diagnostics(state["diagnostics"])
        for b in state["bundles"]:
            inputs = b["inputs"]
            if list(current.get(b["name"], ())) != inputs or not inputs or b.get("assets"):
                continue  # (a bundle with url() assets is built: its assets are read with it)
            if any(list(now[path]) != then.get(path) for path in inputs):
                continue
            built = _installed(config, b, state["files"], diags)
            if built is not None:
                found[built.output] = built
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    return found


def _installed(
    config: Config, bundle: Mapping[str, Any], files: Mapping[str, Any], diags: Sequence[Any]
) -> Built | None:
    """The bundle as its state recorded it, with the bytes of its installed file (if unchanged)."""
    from assetbuild.fsutil import RefusedFile, read_regular

    path = config.root / bundle["path"]
    record = files.get(str(path))
    if not isinstance(record, dict) or not _file_matches(str(path), record)[0]:
        return None
    try:
        data = read_regular(path, MAX_BUNDLE_BYTES, follow_symlinks=False)
    except (OSError, RefusedFile):
        return None
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        return None  # replaced since it was proven
    return Built(
        bundle["name"],
        bundle["kind"],
        tuple(bundle["sources"]),
        int(bundle["raw_size"]),
        data,
        tuple(bundle["methods"]),
        tuple(d for d in diags if _concerns(d, bundle)),
        None if bundle["gzip_size"] is None else int(bundle["gzip_size"]),
        proven=True,
    )


def up_to_date(
    config: Config, state: Mapping[str, Any], dry_run: bool = False
) -> InstallOutcome | None:
    """The outcome of a no-change install rebuilt from the state: the installed bundles as read back."""
    try:
        diags = decode_diagnostics(state["diagnostics"])
        built = []
        for b in state["bundles"]:
            one = _installed(config, b, state["files"], diags)  # proven by check(); read bounded
            if one is None:
                return None
            built.append(one)
        areas = tuple(
            AreaResult(
                a["area"],
                "up-to-date",
                int(a["version"]),
                int(a["version"]),
                tuple(InstalledFile(name, path, "unchanged") for name, path in a["files"]),
            )
            for a in state["areas"]
        )
        entries = dict(state["entries"])
        variants = {
            name: {suffix: int(v["size"]) for suffix, v in entry["variants"].items()}
            for name, entry in entries.items()
        }
        trees = tuple(
            TreeInstalled(str(output), int(version), int(count), int(size), "unchanged")
            for output, version, count, size in state["trees"]
        )
        modules = dict(state["modules"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    report = InstallReport(
        areas,
        Path(state["manifest"]),
        False,
        dry_run,
        entries,
        entries,
        trees=trees,
        modules=modules,
    )
    sizes = {b.output: b.size for b in built}
    shown, accepted = partition(diags, config.accept, config.root)
    return InstallOutcome(
        BuildResult(tuple(built), shown, None, accepted),
        report,
        sizes,
        {} if dry_run else variants,
    )


def shown_diagnostics(config: Config, state: Mapping[str, Any]) -> tuple[Diagnostic, ...]:
    """What a no-change answer from `state` prints: its diagnostics but those the config accepts."""
    return partition(decode_diagnostics(state["diagnostics"]), config.accept, config.root)[0]


def _concerns(diag: Any, bundle: Mapping[str, Any]) -> bool:
    where = diag.location.path if diag.location is not None else ""
    return bool(where == bundle["name"] or where in bundle["sources"])
