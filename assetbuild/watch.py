"""Watch mode: build and install once, then rebuild what changed, debounced, until told to stop.

The observer thread only filters paths and queues them; the calling thread debounces bursts into one
batch, decides what changed by comparing source stamps (glob expansion plus stat, so a new file that
matches a glob, a deleted or renamed one and an editor's atomic save all show up the same way), and
rebuilds only the affected bundles. Unchanged files are content-cache hits (kept in memory across
rebuilds), so a rebuild after one edit costs about one file's check. Nothing here prints: results go
to the callbacks the caller supplies.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild import watched
from assetbuild.errors import AssetbuildError, ConfigError, SourceError
from assetbuild.versions import is_version_name
from assetbuild.watched import Stamps, tree_label

if TYPE_CHECKING:
    from assetbuild.build.results import BuildOptions, InstallOutcome, Policy
    from assetbuild.config import BundleSpec, Config

DEFAULT_DEBOUNCE = 0.02
MAX_BATCH_WAIT = 2.0  # a never-quiet tree still gets rebuilt this often
MAX_WATCHED_DIRS = 2000  # beyond this, one recursive watch per base directory instead
_OWN_TEMP_PREFIXES = (".assetbuild-tmp-", ".tmp-")

_CHANGES = frozenset({"created", "modified", "deleted", "moved", "closed"})


@dataclass(frozen=True)
class Rebuild:
    """One build of watch mode: what changed, what was built, and how it went."""

    changed: tuple[str, ...]  # display paths of changed sources (and the config), in order
    outputs: tuple[str, ...]  # the bundles built
    seconds: float
    outcome: InstallOutcome | None = None  # what was installed (None when nothing was)
    error: AssetbuildError | None = None
    fixed: tuple[str, ...] = ()  # bundles that had failed and now installed
    failed: tuple[str, ...] = ()  # bundles not installed because of `error`
    first: bool = False  # the build at start-up
    config_changed: bool = False
    renamed: tuple[tuple[str, str], ...] = ()  # (old, new) display paths; both are in `changed`
    added: tuple[str, ...] = ()  # new sources (display paths), also in `changed`
    removed: tuple[str, ...] = ()  # deleted sources (display paths), also in `changed`
    config_restored: bool = False  # the config loads again after a broken one

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class WatchDir:
    """A directory to observe; recursive only for very large trees (events are filtered anyway)."""

    path: Path
    recursive: bool


def watch_dirs(config: Config, extra: Iterable[Path] = ()) -> tuple[WatchDir, ...]:
    """The directories that the bundles' sources can match, plus the config file's directory, and
    `extra` ones (where the files the stylesheets' url()s name are)."""
    wanted: dict[Path, bool] = {path: False for path in extra}
    for spec in config.bundles:
        for entry in spec.sources:
            segments, base = watched.split_glob(entry)
            recursive = len(segments) - len(base) > 1
            directory = config.root.joinpath(*base)
            while (
                not directory.is_dir()
                and directory != config.root
                and directory.parent != directory
            ):
                directory, recursive = directory.parent, False  # watch for it to be created
            wanted[directory] = wanted.get(directory, False) or recursive
    for tree in config.modules:  # every directory of a module tree
        wanted[config.root / tree.source] = True
    if config.config_path is not None:
        wanted.setdefault(config.config_path.parent, False)
    else:
        wanted.setdefault(config.root, False)  # zero-config: a new <area>/source/ is a new bundle
    hidden_ok = any(
        seg.startswith(".") and seg not in (".", "..")
        for spec in config.bundles
        for entry in spec.sources
        for seg in entry.split("/")
    )
    dirs: dict[Path, bool] = {}
    for path, recursive in sorted(wanted.items(), key=lambda item: len(item[0].parts)):
        if not path.is_dir() or any(rec and _inside(path, d) for d, rec in dirs.items()):
            continue
        below = _subdirs(path, config.cache_dir, hidden_ok) if recursive else []
        if below is None:
            dirs[path] = True  # too many to list: one recursive watch, its events filtered
            continue
        for directory in (path, *below):
            dirs.setdefault(directory, False)
    return tuple(WatchDir(d, rec) for d, rec in sorted(dirs.items()))


def _subdirs(top: Path, cache_dir: Path, hidden_ok: bool) -> list[Path] | None:
    """Directories below `top` that a glob can enter (not hidden, not versions, not the cache)."""
    found: list[Path] = []
    seen = {os.path.realpath(top)}
    for current, names, _files in os.walk(top, followlinks=True):
        keep = []
        for name in sorted(names):
            path = Path(current, name)
            if (name.startswith(".") and not hidden_ok) or is_version_name(name):
                continue
            real = os.path.realpath(path)
            if real in seen or path == cache_dir:
                continue  # a symlink loop, or our own cache
            seen.add(real)
            keep.append(name)
            found.append(path)
        names[:] = keep
        if len(found) > MAX_WATCHED_DIRS:
            return None
    return found


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


class _Events:
    """A watchdog handler that queues the paths worth a look (thread-safe, no decisions)."""

    def __init__(self, sink: queue.SimpleQueue[str], ignore: Callable[[str], bool]) -> None:
        self.sink = sink
        self.ignore = ignore

    def dispatch(self, event: Any) -> None:
        if event.event_type not in _CHANGES:
            return  # opened / closed-without-writing: our own reads would wake us forever
        if event.event_type == "modified" and getattr(event, "is_directory", False):
            return  # a listing changed: the entry itself has its own created/deleted/moved event
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = os.fsdecode(raw)
            if not self.ignore(path):
                self.sink.put(path)


class Watcher:
    """Builds, installs, then rebuilds on changes until `stop()`; reports through callbacks.

    `compress` names the precompressed variants each install makes: none by default (brotli at
    quality 11 takes ~2 s a megabyte, and a rebuild should take milliseconds; variants that no
    longer match are removed, so a server never serves a stale one), None for the config's.
    """

    def __init__(
        self,
        load: Callable[[], Config],
        options: BuildOptions,
        *,
        policy: Policy = "into-current",
        compress: tuple[str, ...] | None = (),
        debounce: float = DEFAULT_DEBOUNCE,
        on_build: Callable[[Rebuild], None] | None = None,
        on_error: Callable[[Rebuild], None] | None = None,
        on_ready: Callable[[int], None] | None = None,
    ) -> None:
        self.load = load
        self.options = options
        self.policy = policy
        self.compress = compress
        self.debounce = debounce
        self.on_build = on_build or (lambda r: None)
        self.on_error = on_error or (lambda r: None)
        self.on_ready = on_ready or (lambda n: None)
        # SimpleQueue: its put() is reentrant, so stop() may call it from a signal handler that
        # interrupted a put() or get() of this very queue (a Queue's lock would deadlock there).
        self.events: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._config: Config | None = None
        self._stamps: dict[str, Stamps] = {}
        self._listed: dict[str, tuple[Stamps, tuple[Path, ...]]] = {}  # `_paths`, by bundle
        # bundle -> the files its url()s name (copied into its version): an edit there rebuilds it
        self._assets: dict[str, frozenset[str]] = {}
        self._failed: set[str] = set()
        self._config_broken = False  # the last reload failed: the next good one says so
        self._observer: Any = None
        self._watches: dict[WatchDir, Any] = {}
        # The directory each watch was scheduled on (device, inode): a watch follows its directory,
        # so one renamed away and replaced by another at the same path leaves the path unwatched.
        self._identity: dict[WatchDir, tuple[int, int]] = {}
        self.building = False
        from assetbuild.build.session import Memory

        # What one rebuild learned that the next may reuse (prepared jobs, cache memory, entries).
        self.memory = Memory(long_lived=True)

    # -- control

    def stop(self) -> None:
        """Ask the loop to finish (safe from a signal handler or another thread)."""
        self._stop.set()
        self.events.put("")  # wake the loop

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Load the config (waiting out a broken one), build once, then watch until stopped."""
        from watchdog.observers import Observer

        self._run(Observer)

    def _run(self, observer_class: Any) -> None:
        self._observer = observer_class()
        self._observer.daemon = True
        try:
            self._observer.start()
            if not self._first_config():
                return
            self._reschedule()
            self._build(self._config.bundles if self._config else (), [], first=True)
            if self._assets:
                self._reschedule()  # and where the files the stylesheets' url()s name are
            if not self.stopping:
                self.on_ready(len(self._watches))
            while not self.stopping:
                batch = self._next_batch()
                if batch and not self.stopping:
                    self._handle(batch)
        finally:
            self._observer.stop()
            self._observer.join(timeout=5)

    def _first_config(self) -> bool:
        """Load the config; while it is broken, report it and wait for a change. False: stopped."""
        waiting: list[Any] = []
        try:
            while not self.stopping:
                try:
                    self._config = self.load()
                    return True
                except ConfigError as exc:
                    self.on_error(Rebuild((), (), 0.0, error=exc, first=True, config_changed=True))
                    if not waiting:
                        waiting = self._watch_for_config(exc)
                        self.on_ready(len(waiting))
                while not self.stopping and not self._next_batch():
                    pass
            return False
        finally:
            for watch in waiting:
                with contextlib.suppress(KeyError, ValueError):
                    self._observer.unschedule(watch)

    def _watch_for_config(self, exc: ConfigError) -> list[Any]:
        """Watch where a config can appear or be fixed: here, and the files the error names."""
        folders = {os.getcwd()}
        for diag in exc.diagnostics:
            if diag.location is not None:
                folders.add(os.path.dirname(os.path.abspath(diag.location.path)))
        handler = _Events(self.events, lambda path: False)  # any change: try loading again
        watches = []
        for folder in sorted(folders):
            with contextlib.suppress(OSError):
                watches.append(self._observer.schedule(handler, folder, recursive=False))
        return watches

    # -- events

    def _ignored(self, path: str) -> bool:
        config = self._config
        if config is None:
            return True
        p = Path(path)
        if p.name.startswith(_OWN_TEMP_PREFIXES) or p.name == ".assetbuild.lock":
            return True
        if p == config.manifest_path or _inside(p, config.cache_dir):
            return True
        try:
            rel = p.relative_to(config.root).parts
        except ValueError:
            return config.config_path is None or p != config.config_path
        for name in {s.area for s in config.bundles} | {t.area for t in config.modules}:
            area = tuple(name.split("/")) if name else ()
            n = len(area)
            if rel[:n] == area and len(rel) > n and is_version_name(rel[n]):
                return True  # our own version directories
        return False

    def _next_batch(self) -> set[str]:
        """Block for an event, then gather until `debounce` seconds pass without one."""
        try:
            first = self.events.get(timeout=0.5)
        except queue.Empty:
            # Quiet: a directory swapped in at a watched path sends no event to the old watch
            # (renamed away, it hears its own files). Look, and treat a swap as an event there.
            return self._swapped()
        batch = {first} if first else set()
        start = time.monotonic()
        while not self.stopping and time.monotonic() - start < MAX_BATCH_WAIT:
            try:
                path = self.events.get(timeout=self.debounce)
            except queue.Empty:
                break
            if path:
                batch.add(path)
        return batch

    def _swapped(self) -> set[str]:
        """The watched paths that no longer name the directory their watch was scheduled on."""
        return {
            str(watch_dir.path)
            for watch_dir, identity in list(self._identity.items())
            if _identity(watch_dir.path) != identity
        }

    def _reschedule(self) -> None:
        assert self._config is not None
        asset_dirs = {Path(p).parent for paths in self._assets.values() for p in paths}
        wanted = set(watch_dirs(self._config, sorted(asset_dirs)))
        for old in set(self._watches):
            if old not in wanted or _identity(old.path) != self._identity.get(old):
                self._identity.pop(old, None)
                with contextlib.suppress(KeyError, ValueError):
                    self._observer.unschedule(self._watches.pop(old))
        handler = _Events(self.events, self._ignored)
        for new in sorted(wanted - set(self._watches), key=lambda w: str(w.path)):
            # Identified before scheduling: a swap in between makes the next look schedule again.
            identity = _identity(new.path)
            if identity is None:
                continue  # vanished meanwhile; the next batch looks again
            try:
                self._watches[new] = self._observer.schedule(
                    handler,  # duck-typed: dispatch() is all watchdog calls
                    str(new.path),
                    recursive=new.recursive,
                )
            except OSError:
                continue
            self._identity[new] = identity

    # -- rebuilding

    def _handle(self, batch: set[str]) -> None:
        config = self._config
        assert config is not None
        config_changed = restored = False
        if config.config_path is None or str(config.config_path) in batch:
            try:
                new = self.load()
            except AssetbuildError as exc:
                self._config_broken = True
                self.on_error(
                    Rebuild(
                        (_display(config.config_path),), (), 0.0, error=exc, config_changed=True
                    )
                )
                return
            restored, self._config_broken = self._config_broken, False
            if new != config:
                config_changed = True
                self._config = config = new
                self._stamps.clear()  # everything may build differently now
        self._reschedule()
        names = {str(p) for p in batch}
        todo: list[BundleSpec] = []
        changed: list[str] = []
        renamed: list[tuple[str, str]] = []
        added: list[str] = []
        removed: list[str] = []
        taken: dict[str, Stamps] = {}
        for spec in config.bundles:
            old = self._stamps.get(spec.output)
            assets = sorted(names & self._assets.get(spec.output, frozenset()))
            if assets:
                todo.append(spec)  # a file one of its url()s names changed
                changed += [path for path in assets if path not in changed]
                taken[spec.output] = watched.bundle_stamps(config, spec)
                continue
            if (
                old is not None
                and not watched.has_links(old)
                and not watched.may_concern(config, spec, names)
            ):
                taken[spec.output] = old  # no event at or below its globs' directories
                continue
            quick = watched.restamped(config, spec, old, names) if old is not None else None
            stamps = taken[spec.output] = quick or watched.bundle_stamps(config, spec)
            sources = {s[0] for s in stamps} if stamps[:1] != ("error",) else set()
            touched = [p for p in sorted(names & sources)]
            if stamps != old or touched:
                todo.append(spec)
                paths, moves, new_files, gone = watched.changes(old, stamps)
                for path in [*paths, *touched]:
                    if path not in changed:
                        changed.append(path)
                renamed += [move for move in moves if move not in renamed]
                added += [p for p in new_files if p not in added]
                removed += [p for p in gone if p not in removed]
        trees = []
        for tree in config.modules:  # rebuilt (only its changed modules: cache hits) on an edit
            old = self._stamps.get(tree_label(tree))
            stamps = taken[tree_label(tree)] = watched.tree_stamps(config, tree)
            if stamps != old:
                trees.append(tree_label(tree))
                mine = {str(config.root / s[0]): s for s in stamps}
                before = {str(config.root / s[0]): s for s in old or ()}
                changed += [p for p in mine if before.get(p) != mine[p] and p not in changed]
                added += [p for p in mine if p not in before and p not in added]
                gone = [p for p in before if p not in mine]
                removed += [p for p in gone if p not in removed]
                changed += [p for p in gone if p not in changed]
        if config_changed and config.config_path is not None:
            changed.insert(0, str(config.config_path))
        if todo or trees:
            self._build(
                tuple(todo),
                changed,
                config_changed=config_changed,
                stamps=taken,
                renamed=renamed,
                added=added,
                removed=removed,
                restored=restored,
                trees=tuple(trees),
            )
        elif restored:
            # Back to the last good content: nothing to build, but say the config is good again.
            shown = (_display(config.config_path),) if config.config_path is not None else ()
            self.on_build(Rebuild(shown, (), 0.0, config_changed=True, config_restored=True))

    def _build(
        self,
        specs: Iterable[BundleSpec],
        changed: list[str],
        *,
        first: bool = False,
        config_changed: bool = False,
        stamps: Mapping[str, Stamps] | None = None,
        renamed: Sequence[tuple[str, str]] = (),
        added: Sequence[str] = (),
        removed: Sequence[str] = (),
        restored: bool = False,
        trees: tuple[str, ...] = (),
    ) -> None:
        config = self._config
        assert config is not None
        specs = tuple(specs)
        if first:
            trees = tuple(tree_label(t) for t in config.modules)
        outputs = tuple(s.output for s in specs) + trees
        for spec in specs:  # stamped before reading, so a change during the build is seen next time
            taken = stamps.get(spec.output) if stamps is not None else None
            self._stamps[spec.output] = (
                taken if taken is not None else watched.bundle_stamps(config, spec)
            )
        for tree in config.modules:
            if tree_label(tree) in trees:
                taken = stamps.get(tree_label(tree)) if stamps is not None else None
                self._stamps[tree_label(tree)] = taken or watched.tree_stamps(config, tree)
        only = None
        if not first and config.manifest_format == "json":
            # A PHP manifest is written from this install's bundles alone: build them all for it.
            only = frozenset(s.output for s in specs)  # the trees are built every time
        options = replace(self.options, only=only)
        start = time.perf_counter()
        self.building = True
        try:
            outcome, error = self._install(config, options, outputs)
        finally:
            self.building = False
        if outcome is not None:
            before = dict(self._assets)
            for b in outcome.build.bundles:
                self._assets[b.output] = frozenset(path for _, path in b.asset_sources)
            if self._assets != before and not first:
                self._reschedule()  # watch where the url()s' files are
        installed = (
            tuple(b.output for b in outcome.build.bundles)
            + tuple(posixpath.join(t.output, "*") for t in outcome.report.trees)
            if outcome is not None
            else ()
        )
        failed = tuple(o for o in outputs if o not in installed) if error is not None else ()
        fixed = tuple(o for o in installed if o in self._failed)
        self._failed.difference_update(installed)
        self._failed.update(failed)
        rebuild = Rebuild(
            tuple(_display(Path(p)) for p in changed),
            outputs,
            time.perf_counter() - start,
            outcome=outcome,
            error=error,
            fixed=fixed,
            failed=failed,
            first=first,
            config_changed=config_changed,
            renamed=tuple((_display(Path(a)), _display(Path(b))) for a, b in renamed),
            added=tuple(_display(Path(p)) for p in added),
            removed=tuple(_display(Path(p)) for p in removed),
            config_restored=restored,
        )
        (self.on_build if error is None else self.on_error)(rebuild)

    def _paths(self, output: str, stamps: Stamps) -> tuple[Path, ...]:
        """A bundle's sources as paths, made again only when its stamps are new ones (a bundle
        not touched by a batch keeps its stamps, the same tuple: hundreds of paths not rebuilt)."""
        known = self._listed.get(output)
        if known is None or known[0] is not stamps:
            known = self._listed[output] = (stamps, tuple(Path(s[0]) for s in stamps))
        return known[1]

    def _install(
        self, config: Config, options: BuildOptions, outputs: tuple[str, ...]
    ) -> tuple[InstallOutcome | None, AssetbuildError | None]:
        """Install everything; when sources have errors, still install the bundles without any.
        A module tree with an error leaves every tree where the manifest names it (JSON only)."""
        from assetbuild.build.pipeline import Session, build, install

        # Watch serves development: it installs locally; the config's `target` is for `install`.
        config = replace(config, target=None) if config.target is not None else config

        def session(options: BuildOptions) -> Session:
            made = Session(config, options, self.memory)
            if options.only is not None:  # sources as _handle stamped them (no state recorded)
                for spec in config.bundles:
                    stamps = self._stamps.get(spec.output)
                    if stamps is not None and stamps[:1] != ("error",):
                        made.adopt(spec, self._paths(spec.output, stamps))
            return made

        try:
            return install(session(options), policy=self.policy, compress=self.compress), None
        except SourceError as exc:
            error: AssetbuildError = exc
        except AssetbuildError as exc:
            return None, exc
        result = build(session(options))  # cache hits: this only sorts good bundles from bad
        good = frozenset(b.output for b in result.bundles if b.ok)
        trees_ok = result.modules is None or result.modules.ok
        partial = len(good) < len(config.bundles) or not trees_ok
        if not good or (config.manifest_format != "json" and partial):
            return None, error
        try:
            only = replace(options, only=good, modules=trees_ok)
            return install(session(only), policy=self.policy, compress=self.compress), error
        except AssetbuildError as exc:
            return None, exc


def _identity(path: Path) -> tuple[int, int] | None:
    """The directory at `path` (device, inode), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _display(path: Path | None) -> str:
    from assetbuild.sources import display_path

    return display_path(path) if path is not None else "configuration"
