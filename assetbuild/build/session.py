"""What one run knows, learned once; and what a long-lived process carries from one run to the next.

A `Session` is one run: its config and options, each bundle's sources as collected (once, for both
the no-change snapshot and the build) and the directories that listing read. A `Memory` outlives runs
in a long-lived process (watch mode keeps one): each source's job as last prepared, the content
caches with their in-memory layers, and the installed bundles' manifest entries. A one-shot run gets
a fresh `Memory`, so nothing it learned can leak into another run of the same process.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild.build.results import BuildOptions, FileJob, InstallOutcome, Policy
from assetbuild.config import BundleSpec, Config
from assetbuild.diagnostics import Diagnostic
from assetbuild.errors import SourceError
from assetbuild.sources import collect
from assetbuild.stamps import Stamp

if TYPE_CHECKING:  # imported when used: the no-change answer needs neither
    from collections.abc import Sequence

    from assetbuild.cache.content import ContentCache
    from assetbuild.cache.state import Snapshot
    from assetbuild.install.entries import DiskEntries


def _disk_entries() -> DiskEntries:
    from assetbuild.install.entries import DiskEntries

    return DiskEntries()


Prepared = tuple[FileJob, int, tuple[Diagnostic, ...]]  # job, raw size, token diagnostics
# key (full text and settings), the prepared job, and the stamp and settings it was read under
_Entry = tuple[tuple[object, ...], Prepared, "tuple[Stamp, tuple[object, ...]] | None"]


class PreparedJobs:
    """Each source's job as last prepared (read, decoded, substituted), for a long-lived process.

    Watch mode rebuilds a bundle after one edit: a file whose stat stamp (taken before its last
    read, and old enough to be trusted, as in state.py) and settings are unchanged is not read again;
    a file read again whose text and settings are equal is not substituted or hashed again. One
    entry per path, bounded in total size.
    """

    MAX_BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.long_lived = False  # stamps are trusted only in a long-lived process (watch)
        self._bytes = 0

    def original(self, path: str) -> str | None:
        """The text of `path` as this memory last read it (before substitution), if it did."""
        entry = self._entries.get(path)
        return entry[1][0].original if entry is not None else None

    def get(self, path: str, key: tuple[object, ...]) -> Prepared | None:
        entry = self._entries.get(path)
        if entry is None or entry[0] != key:
            return None
        self._entries.move_to_end(path)
        return entry[1]

    def unchanged(
        self, path: str, stamp: Stamp | None, settings: tuple[object, ...]
    ) -> Prepared | None:
        """The job prepared from this path when its stamp (taken before that read) is the same."""
        entry = self._entries.get(path)
        if not self.long_lived or stamp is None or entry is None or entry[2] != (stamp, settings):
            return None
        self._entries.move_to_end(path)
        return entry[1]

    def put(
        self,
        path: str,
        key: tuple[object, ...],
        prepared: Prepared,
        seen: tuple[Stamp, tuple[object, ...]] | None = None,
    ) -> None:
        old = self._entries.pop(path, None)
        if old is not None:
            self._bytes -= _weight(old[1])
        self._entries[path] = (key, prepared, seen)
        self._bytes += _weight(prepared)
        while self._bytes > self.MAX_BYTES and self._entries:
            _, (_, dropped, _) = self._entries.popitem(last=False)
            self._bytes -= _weight(dropped)


def _weight(prepared: Prepared) -> int:
    job = prepared[0]
    return len(job.original) + len(job.text)


@dataclass
class Memory:
    """What a long-lived process carries between runs; a one-shot run gets a fresh one."""

    long_lived: bool = False
    prepared: PreparedJobs = field(default_factory=PreparedJobs)
    disk_entries: DiskEntries = field(default_factory=_disk_entries)
    caches: dict[tuple[Path, bool], ContentCache] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.prepared.long_lived = self.long_lived

    def cache(self, directory: Path, *, read_only: bool = False) -> ContentCache:
        """The content cache of a directory, kept with its memory layer for the next run.

        A read-only cache (for `assetbuild check`, which writes nothing) serves hits and stores
        nothing.
        """
        from assetbuild.cache.content import ContentCache

        path = Path(os.path.abspath(directory))
        cache = self.caches.get((path, read_only))
        if cache is None or (not cache.writable and not read_only):
            cache = self.caches[(path, read_only)] = ContentCache(path, read_only=read_only)
        return cache


class Session:
    """One run: the config and options, and what it learned once (each bundle's sources)."""

    def __init__(self, config: Config, options: BuildOptions, memory: Memory | None = None) -> None:
        self.config = config
        self.options = options
        self.memory = memory if memory is not None else Memory()
        self.listed: set[str] = set()  # every directory whose listing decided a bundle's sources
        self._sources: dict[BundleSpec, tuple[Path, ...] | SourceError] = {}
        # Set once the no-change state was asked and could not prove "up to date" (the quick path
        # asks before click is imported and hands the session on): the install does not ask again.
        self.checked = False
        self.snapshot: Snapshot | None = None
        self.proof: dict[str, Any] | None = None  # the state that proved it, when it did
        # A dry run: like `check`, it reads the cache and the state and writes neither.
        self.read_only = False

    def sources(self, spec: BundleSpec) -> tuple[Path, ...]:
        """The bundle's sources in order, collected once a run; SourceError when they cannot be."""
        found = self._sources.get(spec)
        if found is None:
            try:
                found = collect(
                    self.config.root,
                    spec,
                    allow_outside=self.config.allow_symlinks_outside,
                    listed=self.listed,
                )
            except SourceError as exc:
                found = exc
            self._sources[spec] = found
        if isinstance(found, SourceError):
            raise found
        return found

    def adopt(self, spec: BundleSpec, paths: Sequence[Path]) -> None:
        """Take a bundle's sources as collected by the caller moments ago (watch, which stamps
        every bundle's sources to see what changed), so that this run does not list them again.
        Not for a run that records the no-change state: it needs the directories listed."""
        self._sources.setdefault(spec, tuple(paths))

    def cache(self) -> ContentCache | None:
        """The content cache of this run (read-only for `check` and dry runs), None with --no-cache."""
        if not self.options.use_cache:
            return None
        read_only = self.read_only  # `check` fills it too (CI runs it first); a dry run does not
        return self.memory.cache(self.config.cache_dir, read_only=read_only)

    def wanted(self) -> tuple[BundleSpec, ...]:
        """The bundles this run builds (all, or the outputs `options.only` names)."""
        only = self.options.only
        return tuple(s for s in self.config.bundles if only is None or s.output in only)

    def prove_up_to_date(
        self, methods: Sequence[str], *, policy: Policy = "auto", dry_run: bool = False
    ) -> InstallOutcome | None:
        """The outcome of an install the no-change state proves up to date, else None.

        Stamps only (and the content of sources too young for their stamps to prove anything): no
        checker is imported. The session remembers the snapshot and that the state was asked, so
        the install that follows (here, or after the quick path handed the session to the command
        line) does not collect, stamp or ask again.
        """
        from assetbuild.cache import state

        config, options = self.config, self.options
        settings = state.settings_key(config, options, methods)
        self.snapshot = state.take_snapshot(config, settings, self.sources, self.listed)
        self.checked = True
        if self.snapshot is not None and policy != "bump":
            self.proof = state.check(config, self.snapshot, write=not self.read_only)
        outcome = state.up_to_date(config, self.proof, dry_run) if self.proof else None
        if outcome is None:
            start_engine()  # a build follows: its checks' engine starts while it imports and reads
        return outcome


def start_engine() -> None:
    """Start the JavaScript engine on a thread when the checks will use it (`js.engine`)."""
    if os.environ.get("ASSETBUILD_ENGINE", "auto").strip().lower() == "esprima":
        return  # js.check.ENV_ENGINE: esprima decides, no engine is loaded
    from assetbuild.js import engine

    if engine.available():
        engine.start_early()
