"""The typed values a run passes between its layers: jobs, checked files, bundles, install reports.

Plain frozen dataclasses with no behaviour beyond a few derived properties, so that every layer (the
checkers' caller, the cache, the install, the no-change state, the presentation) can name them
without importing one another.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assetbuild.diagnostics import Diagnostic

if TYPE_CHECKING:
    from assetbuild.manifest import BundleEntry
    from assetbuild.maps.align import FileMap
    from assetbuild.maps.build import BundleMap
    from assetbuild.modules.build import TreesResult

Policy = Literal["auto", "into-current", "bump"]
POLICIES: tuple[str, ...] = ("auto", "into-current", "bump")


# --- building ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """Options of one run that change what is built."""

    minify: bool = True
    check_only: bool = False  # `assetbuild check`: a token without a value is only a warning
    strict_tokens: bool = False
    strict: bool = False  # what browsers drop from CSS (css/rules) is an error, not a warning
    use_cache: bool = True
    only: frozenset[str] | None = None  # build only these outputs (watch mode)
    sourcemap: str | None = None  # `--sourcemap MODE` for every bundle; None: the config's
    # build and install the [[modules]] trees; False (watch, when a tree has an error): the
    # bundles alone, the manifest keeping the trees where it names them
    modules: bool = True
    debug_id: bool | None = None  # `--debug-id`; None: the config's `sourcemap_debug_id`


@dataclass(frozen=True)
class FileJob:
    """What `process_file` needs: the substituted source and every option that changes the result."""

    kind: str  # "js" | "css"
    path: str  # absolute path, as a string (for url() rewriting)
    display: str
    original: str
    text: str
    edits: tuple[tuple[int, int, int, int], ...]
    minify: bool
    first: bool
    output_dir: str  # where the bundle will be installed (for url() rewriting), "" for none
    root: str
    sourcemap: bool = False  # make the file's map too
    input_map: str | None = None  # the text of the map file its sourceMappingURL names, as read
    strict: bool = False  # CSS: what browsers would drop is an error


@dataclass(frozen=True)
class FileResult:
    """A checked (and possibly minified) file, ready to join."""

    display: str
    text: str  # what joins the bundle (checked; minified when asked and verified)
    checked_text: str  # checked but not minified, for bundle-level CSS handling
    method: str  # "rjsmin" | "rcssmin" | "safe" | "none" | "off"
    diagnostics: tuple[Diagnostic, ...]
    facts: Any = None  # JsReport or CssReport, for bundle-level checks
    # files its url()s refer to, copied beside the bundle: (place from the bundle's directory, path)
    assets: tuple[tuple[str, str], ...] = ()
    sourcemap: FileMap | None = None  # when the job asked for one and it could be made

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class Built:
    """A bundle built in memory: its bytes and how it got them."""

    output: str  # logical name, "js/main.js"
    kind: str
    sources: tuple[str, ...]  # display paths, in bundle order
    raw_size: int  # bytes of the sources as read
    data: bytes
    methods: tuple[str, ...]  # per file
    diagnostics: tuple[Diagnostic, ...]
    known_gzip_size: int | None = None  # when already measured (the state, or while installing)
    # the files its url()s refer to: (place from the bundle's directory, absolute source path)
    asset_sources: tuple[tuple[str, str], ...] = ()
    # those of them read (bounded regular files inside the root): (place, bytes)
    assets: tuple[tuple[str, bytes], ...] = ()
    sourcemap: BundleMap | None = None  # the proven map, when one was asked for and made
    map_data: bytes = b""  # that map as installed (sources relative to the version directory)
    proven: bool = False  # taken from the last install's state: no source of it was read

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def size(self) -> int:
        return len(self.data)

    @functools.cached_property
    def gzip_size(self) -> int:
        """Bytes served to a browser that accepts gzip (level 9, as the .gz variant)."""
        if self.known_gzip_size is not None:
            return self.known_gzip_size
        return len(gzip.compress(self.data, 9, mtime=0))


@dataclass(frozen=True)
class BuildResult:
    bundles: tuple[Built, ...]
    diagnostics: tuple[Diagnostic, ...]
    modules: TreesResult | None = None  # the [[modules]] trees, when configured
    accepted: tuple[Diagnostic, ...] = ()  # warnings [[accept]] silences: counted, not shown

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


# --- installing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One bundle to install: its logical name ("js/main.js"), bytes and precompressed variants."""

    name: str
    data: bytes
    variants: tuple[tuple[str, bytes], ...] = ()
    assets: tuple[tuple[str, bytes], ...] = ()  # (place from the bundle's directory, bytes)
    # A module of a [[modules]] tree: the tree's output ("js/app"); `name` is then "js/app/lib/a.js"
    # and the file installs as <area>/<N>/app/lib/a.js, every file of the tree in one version.
    tree: str = ""


@dataclass(frozen=True)
class ModulesInput:
    """What the install needs of the [[modules]] trees for the manifest: the built trees (modules.build's
    BuiltTree values) and the `[importmap]` pairs."""

    trees: tuple[Any, ...]
    importmap: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TreeInstalled:
    """What happened to one module tree: where it is (one version for all its files), how big."""

    output: str  # "js/app"
    version: int
    files: int
    size: int  # bytes of its modules as installed
    action: str  # "written" (some file new or changed) | "unchanged" | "linked" (--bump)


@dataclass(frozen=True)
class ManifestSettings:
    """Where and how to write the manifest."""

    path: Path
    format: str
    static_url: str | None


@dataclass(frozen=True)
class InstalledFile:
    """What happened to one bundle's file: "written", "unchanged" (it keeps its URL), or "linked"
    (`--bump`: the new version's name for the same bytes). `path` is the one the manifest names."""

    name: str
    path: str
    action: str


@dataclass(frozen=True)
class AreaResult:
    """What happened to one area (the directory of a bundle name)."""

    area: str
    action: str  # "created" | "bumped" | "added" | "overwritten" | "up-to-date"
    version: int
    previous: int | None
    files: tuple[InstalledFile, ...]
    # files of a new version copied because they could not be hard-linked: (path in it, reason)
    not_linked: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RemoteSummary:
    """What an install into a target (`s3://...`) did there."""

    target: str
    uploaded: int  # objects created
    uploaded_bytes: int
    skipped: int  # objects already there with the same bytes (a resumed run)
    taken: tuple[str, ...]  # versions other bytes already held ("js/8"), so the next was claimed


@dataclass(frozen=True)
class InstallReport:
    """The outcome of an install, or of a dry run (which computes the same and writes nothing)."""

    areas: tuple[AreaResult, ...]
    manifest_path: Path | None
    manifest_changed: bool
    dry_run: bool
    previous: dict[str, BundleEntry] = field(default_factory=dict)  # the manifest's entries before
    entries: dict[str, BundleEntry] = field(default_factory=dict)  # and after (or would be, dry)
    remote: RemoteSummary | None = None  # an install into a target
    trees: tuple[TreeInstalled, ...] = ()  # the [[modules]] trees installed
    modules: dict[str, Any] = field(default_factory=dict)  # their manifest entries (and after)

    @property
    def placed(self) -> dict[str, str]:
        """Bundle name -> where it is installed, relative to the root ("js/8/main.js")."""
        return {f.name: f.path for area in self.areas for f in area.files}


@dataclass(frozen=True)
class InstallOutcome:
    """A build and its install, with the sizes the manifest named before (for the change column)."""

    build: BuildResult
    report: InstallReport
    previous_sizes: dict[str, int] = field(default_factory=dict)  # bundle sizes the manifest named
    # sizes of the precompressed files the manifest now lists (JSON manifests, not dry runs)
    variant_sizes: dict[str, dict[str, int]] = field(default_factory=dict)
