"""Source files: collecting globs into ordered paths, reading them, locating offsets."""

from __future__ import annotations

import array
import bisect
import contextlib
import difflib
import errno
import fnmatch
import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NoReturn

from assetbuild.diagnostics import Diagnostic, Location, Severity, line_col
from assetbuild.errors import SourceError
from assetbuild.fsutil import file_id
from assetbuild.versions import is_version_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from assetbuild.config import BundleSpec


@dataclass(frozen=True)
class Edit:
    """A substitution: `text[start:end]` replaced `original[orig_start:orig_end]`."""

    start: int
    end: int
    orig_start: int
    orig_end: int


@dataclass(frozen=True)
class SourceFile:
    """One source as read (`original`) and as processed so far (`text`).

    `edits` records token substitutions, sorted by position, so that an offset in
    `text` maps back to the file the user edited.
    """

    path: Path
    display: str
    original: str
    text: str
    edits: tuple[Edit, ...] = ()

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [e.start for e in self.edits]

    def original_offset(self, offset: int) -> int:
        """Map an offset in `text` to the corresponding offset in `original`."""
        # Edits are sorted and disjoint: find the last one starting at or before offset.
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return offset
        edit = self.edits[i]
        if offset < edit.end:
            return edit.orig_start
        return offset + edit.orig_end - edit.end

    @functools.cached_property
    def _newlines(self) -> array.array[int]:
        found, text = array.array("q"), self.original
        at = text.find("\n")
        while at >= 0:
            found.append(at)
            at = text.find("\n", at + 1)
        return found

    def line_col(self, offset: int) -> tuple[int, int, str]:
        """`diagnostics.line_col` of the original file at an offset of `text`, for many offsets.

        Each line_col call scans the text before the offset, so locating every top-level binding
        of a large one-line vendor file was quadratic; this indexes the newlines once. Each line's
        text is sliced once and shared: a copy per binding of a 3 MB one-line script held
        gigabytes (issue 12, found by bench/reliability.py's memory row).
        """
        original = self.original
        at = max(0, min(self.original_offset(offset), len(original)))
        if len(original) < 4096:
            return line_col(original, at)
        newlines = self._newlines
        i = bisect.bisect_left(newlines, at)  # newlines before `at`
        start = newlines[i - 1] + 1 if i else 0
        text = self._line_texts.get(i)
        if text is None:
            end = newlines[i] if i < len(newlines) else len(original)
            text = self._line_texts[i] = original[start:end]
        return i + 1, at - start + 1, text

    @functools.cached_property
    def _line_texts(self) -> dict[int, str]:
        return {}

    def location(self, offset: int | None) -> Location:
        if offset is None:
            return Location(self.display)
        line, col, _ = self.line_col(offset)
        return Location(self.display, line, col)

    def diagnostic(
        self,
        severity: Severity,
        message: str,
        offset: int | None = None,
        notes: tuple[Diagnostic, ...] = (),
        *,
        code: str = "",
        subject: str = "",
    ) -> Diagnostic:
        """A diagnostic at an offset of `text`, reported at the original line and column."""
        if offset is None:
            return Diagnostic(severity, message, Location(self.display), None, notes, code, subject)
        line, col, src_line = self.line_col(offset)
        where = Location(self.display, line, col)
        return Diagnostic(severity, message, where, src_line, notes, code, subject)

    def with_text(self, text: str) -> SourceFile:
        """The same file with new processed text that keeps offsets (no new edits)."""
        return SourceFile(self.path, self.display, self.original, text, self.edits)


# --- collecting ------------------------------------------------------------------------
# Globs support `*`, `?`, `[...]` within one path segment and `**` for any depth. They skip
# hidden names (leading "."), editor temp files (trailing "~", ".swp", ".tmp") and numbered
# version directories, which assetbuild manages; a pattern segment that itself starts with "."
# may match hidden names. Matches are ordered by the byte order of their relative posix path.

_MAGIC = frozenset("*?[")
_TEMP_SUFFIXES = ("~", ".swp", ".tmp")
_KIND_SUFFIXES = {"js": (".js",), "css": (".css",)}
_MAX_PATHS_TO_DIR = 1000  # paths (through symlinks) by which one glob may enter one directory


def _byte_key(rel: str) -> bytes:
    return rel.encode("utf-8", "surrogateescape")


def _ignored(name: str, pattern: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return True
    return name.endswith(_TEMP_SUFFIXES) and not pattern.endswith(_TEMP_SUFFIXES)


class _TooManyPaths(Exception):
    """Symlinks lead one glob into one directory by too many paths (the walk stops)."""


class _Walker:
    """Expands one glob pattern under root without following symlink loops.

    A state is a directory (by its path relative to root) and the index of the pattern segment
    still to match there; each state is expanded once. Without that, every `**` could stop at any
    directory below the previous one, and `a/**/**/**/*.js` on a deep tree visited the same
    directory once per way of splitting its depth among the `**`s: exponential in their number.
    A state's outcome depends only on its directory's path (the chain of real directories above
    it, used to detect symlink loops, follows from the path), so skipping a repeated state changes
    neither the matches nor the problems found, nor the order in which they are first found.

    Symlinks inside the root can still make a tree of paths out of few directories (each level
    linking twice to the next gives 2**depth paths): a directory reached by more than
    `_MAX_PATHS_TO_DIR` paths is a problem that ends the walk, not a walk that never ends.
    """

    def __init__(
        self, root: Path, allow_outside: bool, problems: list[str], listed: set[str] | None = None
    ) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.allow_outside = allow_outside
        self.problems = problems
        self.listed = listed  # every directory the expansion looked into, when asked
        self._segs: list[str] = []
        self._done: set[tuple[str, int]] = set()
        self._subdir_cache: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        self._paths_to: dict[str, set[str]] = {}  # real directory -> the paths that entered it

    def expand(self, segments: list[str]) -> list[str]:
        self._segs = _collapse(segments)  # before walking
        self._done = set()
        self._subdir_cache = {}
        self._paths_to = {}
        found: list[str] = []
        with contextlib.suppress(_TooManyPaths):  # reported as a problem: the bundle fails
            self._match(self.root, "", 0, found, (self.real_root,))
        return found

    def _match(
        self, directory: Path, rel: str, index: int, out: list[str], chain: tuple[str, ...]
    ) -> None:
        state = (rel, index)
        if state in self._done:
            return
        self._done.add(state)
        if self.listed is not None:
            self.listed.add(str(directory))
        segs = self._segs
        seg, last = segs[index], index == len(segs) - 1
        if seg == "**":
            if not last:
                self._match(directory, rel, index + 1, out, chain)
            for name, child_rel, real in self._subdirs(directory, rel, "*", chain):
                self._match(directory / name, child_rel, index, out, (*chain, real))
            if last:
                self._files(directory, rel, "*", out)
            return
        if last:
            self._files(directory, rel, seg, out)
            return
        if not (_MAGIC & set(seg)):
            child = directory / seg
            if child.is_dir():
                real = os.path.realpath(child)
                if self._enter_ok(child, f"{rel}{seg}", real, chain):
                    self._match(child, f"{rel}{seg}/", index + 1, out, (*chain, real))
            return
        for name, child_rel, real in self._subdirs(directory, rel, seg, chain):
            self._match(directory / name, child_rel, index + 1, out, (*chain, real))

    def _entries(self, directory: Path, pattern: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as it:
                return [
                    e
                    for e in it
                    if fnmatch.fnmatchcase(e.name, pattern) and not _ignored(e.name, pattern)
                ]
        except OSError:
            return []

    def _subdirs(
        self, directory: Path, rel: str, pattern: str, chain: tuple[str, ...]
    ) -> list[tuple[str, str, str]]:
        """The directories below `directory` to enter for `pattern` (listed once per walk)."""
        key = (rel, pattern)
        cached = self._subdir_cache.get(key)
        if cached is not None:
            return cached
        dirs = []
        for entry in self._entries(directory, pattern):
            if is_version_name(entry.name):
                continue
            if not os.path.isdir(entry.path):
                continue
            real = os.path.realpath(entry.path)
            if self._enter_ok(Path(entry.path), f"{rel}{entry.name}", real, chain):
                dirs.append((entry.name, f"{rel}{entry.name}/", real))
        self._subdir_cache[key] = dirs
        return dirs

    def _enter_ok(self, path: Path, rel: str, real: str, chain: tuple[str, ...]) -> bool:
        if real in chain:
            self.problems.append(f'symlink loop at "{rel}" (it leads back to a directory above it)')
            return False
        if not self.allow_outside and not _inside(real, self.real_root):
            self.problems.append(
                f'directory "{rel}" resolves to {real}, outside the root; '
                "set allow_symlinks_outside = true to allow it"
            )
            return False
        paths = self._paths_to.setdefault(real, set())
        if rel not in paths:
            if len(paths) >= _MAX_PATHS_TO_DIR:
                self.problems.append(
                    f'directory "{rel}" is one of over {_MAX_PATHS_TO_DIR} paths to {real} '
                    "through symlinks; link it from fewer places"
                )
                raise _TooManyPaths
            paths.add(rel)
        return True

    def _files(self, directory: Path, rel: str, pattern: str, out: list[str]) -> None:
        for entry in self._entries(directory, pattern):
            # Not a directory (as os.path.isdir, without its stat when the entry's type is known):
            # broken links and loops are reported later.
            if not _entry_is_dir(entry):
                out.append(f"{rel}{entry.name}")


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    """`os.path.isdir(entry.path)`, using the type the directory listing already gave."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _entry_problem(entry: str) -> str | None:
    if not entry:
        return "is empty"
    if "\\" in entry:
        return "use / as the separator, not a backslash"
    if entry.startswith("/") or (len(entry) > 1 and entry[1] == ":" and entry[0].isalpha()):
        return "must be relative to root, not absolute"
    if ".." in entry.split("/"):
        return "must stay inside root (no .. segments)"
    return None


def collect(
    root: Path,
    spec: BundleSpec,
    *,
    allow_outside: bool = False,
    listed: set[str] | None = None,
) -> tuple[Path, ...]:
    """The bundle's source files in order: globs in byte order, duplicates kept at first place.

    With `listed`, every directory whose listing (or lack of an entry) decided the result is
    added to it: a file created, deleted or renamed in one of them changes its stamp.
    """
    root = Path(os.path.abspath(root))
    real_root = os.path.realpath(root)
    problems: list[Diagnostic] = []
    result: list[Path] = []
    seen: set[str] = set()
    suffixes = _KIND_SUFFIXES[spec.kind]
    real_dirs: dict[str, str] = {}  # realpath of each directory, resolved once per call

    def problem(entry: str, message: str) -> None:
        problems.append(Diagnostic("error", f'bundle "{spec.output}": source "{entry}": {message}'))

    for entry in spec.sources:
        bad = _entry_problem(entry)
        if bad:
            problem(entry, bad)
            continue
        segments = [s for s in entry.split("/") if s not in ("", ".")]
        if not segments:
            problem(entry, "names the root directory, not a file")
            continue
        is_glob = bool(_MAGIC & set(entry))
        if is_glob:
            walk_problems: list[str] = []
            matches = _Walker(root, allow_outside, walk_problems, listed).expand(segments)
            for walk_problem in dict.fromkeys(walk_problems):
                problem(entry, walk_problem)
            if not matches and not walk_problems:
                problem(entry, "matched no files")
            rels = sorted(set(matches), key=_byte_key)
        else:
            rels = ["/".join(segments)]
        for rel in rels:
            path = root.joinpath(*rel.split("/"))
            real = _realpath(path, real_dirs)
            bad = _file_problem(path, rel, spec, suffixes, real_root, allow_outside, real)
            if bad:
                problem(entry, f'match "{rel}" {bad}' if is_glob else bad)
                continue
            if real not in seen:
                seen.add(real)
                result.append(path)
    if problems:
        one = len(problems) == 1
        text = problems[0].message if one else f'bundle "{spec.output}": problems with its sources'
        raise SourceError(text, problems)
    return tuple(result)


def entry_matches(entry: str, rel: str) -> bool:
    """Whether the source entry `entry` (a path or a glob) names the file at `rel` (a posix path
    relative to the root), by the rules `collect` follows, without looking at the disk.

    Polynomial: each (pattern segment, path segment) pair is decided once.
    """
    if _entry_problem(entry):
        return False
    segments = _collapse([s for s in entry.split("/") if s not in ("", ".")])
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not segments or not parts:
        return False
    if not (_MAGIC & set(entry)):
        return segments == parts

    @functools.cache
    def match(i: int, j: int) -> bool:
        seg, last = segments[i], i == len(segments) - 1
        if seg == "**":
            if not last and match(i + 1, j):
                return True
            if j < len(parts) - 1 and _enters(parts[j], "*"):
                return match(i, j + 1)
            return last and j == len(parts) - 1 and _takes(parts[j], "*")
        if last:
            return j == len(parts) - 1 and _takes(parts[j], seg)
        if j >= len(parts) - 1:
            return False
        if _MAGIC & set(seg):
            return _enters(parts[j], seg) and match(i + 1, j + 1)
        return parts[j] == seg and match(i + 1, j + 1)

    return match(0, 0)


def _collapse(segments: list[str]) -> list[str]:
    """`**/**` matches exactly what `**` matches."""
    return [s for i, s in enumerate(segments) if not (s == "**" and segments[i - 1 : i] == ["**"])]


def _enters(name: str, pattern: str) -> bool:
    """Whether a glob segment enters the directory `name` (as `_Walker._subdirs` decides)."""
    return (
        fnmatch.fnmatchcase(name, pattern)
        and not _ignored(name, pattern)
        and not is_version_name(name)
    )


def _takes(name: str, pattern: str) -> bool:
    """Whether a glob's last segment takes the file `name` (as `_Walker._files` decides)."""
    return fnmatch.fnmatchcase(name, pattern) and not _ignored(name, pattern)


def output_conflicts(
    root: Path,
    bundles: Sequence[BundleSpec],
    targets: Sequence[tuple[str, Path]],
    *,
    allow_outside: bool = False,
    collected: Callable[[BundleSpec], Sequence[Path]] | None = None,
) -> list[str]:
    """Why writing each `(what, path)` would damage the sources, one message per problem.

    A path that is a source (after symlinks) would be overwritten; one that a source entry names
    (inside the root, lexically or after symlinks) would be read back by the next run: a bundle that
    swallows its own output grows on every build. Collection problems are left to the build.
    `collected(spec)` gives a bundle's sources when the run has them already.
    """
    root = Path(os.path.abspath(root))
    real_root = os.path.realpath(root)
    existing = {file_id(p): os.path.realpath(p) for _, p in targets}  # device and inode first:
    existing.pop(None, None)  # one stat a source, its realpath only when the file is the same
    sources: dict[str, str] = {}  # real path of a written file -> the bundle it is a source of
    for spec in bundles if existing else ():
        try:
            if collected is not None:
                found = collected(spec)
            else:
                found = collect(root, spec, allow_outside=allow_outside)
        except SourceError:
            continue
        for path in found:
            if (real := existing.get(file_id(path))) and os.path.realpath(path) == real:
                sources.setdefault(real, spec.output)  # (a hard link is renamed over, not this)
    problems: list[str] = []
    for what, path in targets:
        absolute = os.path.abspath(path)
        real = os.path.realpath(absolute)
        owner = sources.get(real)
        if owner is not None:
            problems.append(f'{what} would overwrite {real}, a source of bundle "{owner}"')
            continue
        rels = {
            os.path.relpath(candidate, base).replace(os.sep, "/")
            for candidate in (absolute, real)
            for base in (str(root), real_root)
            if _inside(candidate, base)
        }
        hit = next(
            (
                (spec, entry)
                for spec in bundles
                for entry in spec.sources
                for rel in sorted(rels)
                if entry_matches(entry, rel)
            ),
            None,
        )
        if hit is not None:
            spec, entry = hit
            problems.append(
                f'{what} would be written to {absolute}, which source "{entry}" of bundle '
                f'"{spec.output}" matches: the next run would read it back as a source'
            )
    return problems


def _file_problem(
    path: Path,
    rel: str,
    spec: BundleSpec,
    suffixes: tuple[str, ...],
    real_root: str,
    allow_outside: bool,
    real: str | None = None,
) -> str | None:
    """Why one collected path cannot be a source of this bundle (a predicate phrase), or None."""
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop"
        if path.is_symlink():
            return f"is a broken symlink (to {os.readlink(path)})"
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return "does not exist" + _suggest(path)
        return f"cannot be accessed: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return f'is a directory; list files, or use a glob such as "{rel}/*{suffixes[0]}"'
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if not rel.lower().endswith(suffixes):
        return f"is not a {spec.kind.upper()} file (a {spec.kind} bundle takes {', '.join(suffixes)} files)"
    parts = rel.split("/")
    area = _area_parts(spec.output)
    below = parts[len(area) : -1] if tuple(parts[: len(area)]) == area else []
    version = next((p for p in below if is_version_name(p)), None)
    if version is not None:
        return (
            f'is inside version directory "{version}", which assetbuild manages; '
            "sources must live outside numbered directories"
        )
    real = os.path.realpath(path) if real is None else real
    if not allow_outside and not _inside(real, real_root):
        return (
            f"resolves to {real}, outside the root; set allow_symlinks_outside = true to allow it"
        )
    return None


@functools.lru_cache(maxsize=256)
def _area_parts(output: str) -> tuple[str, ...]:
    """The output's area as path segments (`BundleSpec.area`, computed once per output)."""
    parent = PurePosixPath(output).parent.as_posix()
    return () if parent == "." else tuple(parent.split("/"))


def _realpath(path: Path, real_dirs: dict[str, str]) -> str:
    """`os.path.realpath(path)`, resolving each parent directory once (a glob matches many siblings).

    When the last component is not a symlink, the real path is the parent's real path plus the name,
    which is what realpath computes component by component anyway.
    """
    text = str(path)
    try:
        if stat.S_ISLNK(os.lstat(text).st_mode):
            return os.path.realpath(text)
    except OSError:
        return os.path.realpath(text)
    parent, name = os.path.split(text)
    if not name or name in (".", ".."):
        return os.path.realpath(text)
    real_parent = real_dirs.get(parent)
    if real_parent is None:
        real_parent = real_dirs[parent] = os.path.realpath(parent)
    return os.path.join(real_parent, name)


def _suggest(path: Path) -> str:
    """A " (did you mean ...?)" hint from the names next to a missing file."""
    try:
        names = [e.name for e in os.scandir(path.parent) if not e.name.startswith(".")]
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


# --- reading ---------------------------------------------------------------------------


ENV_MAX_SOURCE_MB = "ASSETBUILD_MAX_SOURCE_MB"
# Checking, minifying and verifying one source takes at most about this many bytes of memory per
# source byte (`python bench/reliability.py --only-figures --figures memory`, above the process's
# baseline): a stylesheet's token lists ~55 (dense selectors), a script's parse trees ~35 on real
# libraries and ~85 on the densest code (a function every 45 bytes). The limits keep one file's
# peak under about half a gigabyte (CSS) and a gigabyte (the densest JavaScript).
MEMORY_PER_BYTE = {"css": 55, "js": 85}
_DEFAULT_MAX_SOURCE_MB = {"css": 8, "js": 10}


def source_kind(path: Path) -> str:
    """The kind of a source by its name: "css" for a stylesheet, else "js"."""
    return "css" if path.suffix.lower() == ".css" else "js"


def max_source_bytes(kind: str = "js") -> int:
    """The largest source file of this kind ("css" or "js") assetbuild will check, in bytes.

    `ASSETBUILD_MAX_SOURCE_MB` sets one limit for both kinds.
    """
    default = _DEFAULT_MAX_SOURCE_MB.get(kind, _DEFAULT_MAX_SOURCE_MB["js"])
    value = os.environ.get(ENV_MAX_SOURCE_MB, "").strip()
    try:
        megabytes = float(value) if value else default
    except ValueError:
        megabytes = default
    if megabytes != megabytes:  # NaN
        megabytes = default
    return int(min(max(megabytes, 0), 1e6) * 1_000_000)


def source_limits() -> tuple[int, int]:
    """The limits of both kinds (CSS, JavaScript): what a remembered read depends on."""
    return max_source_bytes("css"), max_source_bytes("js")


def read_source(path: Path, display: str) -> SourceFile:
    """Read a source as UTF-8 (dropping a BOM); bad bytes, binaries and OS errors become SourceError.

    Only a regular file is read (a FIFO or a device never is), and never more than its kind's limit,
    even if it grows while it is read.
    """
    from assetbuild.fsutil import RefusedFile, read_regular

    kind = source_kind(path)
    limit = max_source_bytes(kind)
    try:
        data = read_regular(path, limit)
    except RefusedFile as exc:
        if not exc.too_large:
            _fail(display, f"cannot read source: it {exc.problem}")
        try:
            size = f"{path.stat().st_size / 1e6:.1f} MB"
        except OSError:
            size = "larger than that"
        language = "CSS" if kind == "css" else "JavaScript"
        _fail(
            display,
            f"file is {size}; assetbuild checks {language} sources of up to {limit / 1e6:g} MB "
            f"(checking takes up to ~{MEMORY_PER_BYTE[kind]} bytes of memory per source byte); "
            f"split it, or raise the limit with {ENV_MAX_SOURCE_MB}",
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, IsADirectoryError):
            reason = "it is a directory"
        diag = Diagnostic("error", f"cannot read source: {reason}", Location(display))
        raise SourceError(f"{display}: {diag.message}", [diag]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        _fail(display, "looks like UTF-16 (byte order mark); save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column, _ = _byte_position(data, nul)
        _fail(
            display,
            "looks like a binary file (contains a NUL byte); sources must be UTF-8 text",
            line,
            column,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column, src_line = _byte_position(data, exc.start)
        message = f"invalid UTF-8 byte 0x{data[exc.start]:02x}; assetbuild reads sources as UTF-8"
        _fail(display, message, line, column, src_line)
    text = text.removeprefix("\ufeff")
    return SourceFile(path, display, text, text)


def _byte_position(data: bytes, index: int) -> tuple[int, int, str]:
    """1-based line and character column of a byte offset, and that line decoded leniently."""
    line_start = data.rfind(b"\n", 0, index) + 1
    line_end = data.find(b"\n", index)
    line_end = len(data) if line_end < 0 else line_end
    prefix = data[line_start:index]
    if line_start == 0:
        prefix = prefix.removeprefix(b"\xef\xbb\xbf")
    column = len(prefix.decode("utf-8", "replace")) + 1
    src_line = data[line_start:line_end].decode("utf-8", "replace").replace("\x00", "\\0")
    return data.count(b"\n", 0, index) + 1, column, src_line


def _fail(
    display: str, message: str, line: int = 0, column: int = 0, src_line: str | None = None
) -> NoReturn:
    location = Location(display, line, column)
    diag = Diagnostic("error", message, location, src_line if line else None)
    raise SourceError(f"{location}: {message}", [diag])


def display_path(path: Path, start: Path | None = None) -> str:
    """`path` relative to `start` (default: the working directory) when under it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        base = Path(os.path.abspath(start)) if start is not None else Path(os.getcwd())
    except OSError:
        return absolute.as_posix()
    try:
        return absolute.relative_to(base).as_posix() or "."
    except ValueError:
        pass
    # A resolved root under a symlinked working directory (/tmp on macOS); resolved only when needed.
    try:
        return (
            Path(os.path.realpath(absolute)).relative_to(os.path.realpath(base)).as_posix() or "."
        )
    except ValueError:
        return absolute.as_posix()
