"""The manifest: its JSON shape, its atomic writing (JSON or PHP), and the reader templates use.

The reader (`Manifest`) is imported by web application processes, so this module keeps its imports light.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import EllipsisType
from typing import Any, Literal, NotRequired, TypedDict

from assetbuild.errors import AssetbuildError, InstallError
from assetbuild.fsutil import RefusedFile, atomic_write, read_regular
from assetbuild.manifest.php import parse_php
from assetbuild.modules.maptext import importmap_problem, importmap_text, text_hash
from assetbuild.stamps import Stamp, stamp_of

SCHEMA_VERSION = 1

# The largest manifest assetbuild reads (install, prune, the template reader). A manifest is ~300 bytes
# a bundle; anything near this is not one, and reading stops here instead of exhausting memory.
MANIFEST_MAX_BYTES = 64 * 2**20

ManifestFormat = Literal["json", "php"]
FORMATS: tuple[str, ...] = ("json", "php")


class VariantEntry(TypedDict):
    """A precompressed variant of a bundle: `{"path": "js/8/main.js.gz", "size": 321}`."""

    path: str
    size: int


class MapEntry(TypedDict):
    """A bundle's source map: `{"path": "js/8/main.js.map", "url": ..., "size": 4321}`."""

    path: str
    url: str
    size: int


class BundleEntry(TypedDict):
    """Where one bundle is installed now, and what a template needs to reference it."""

    path: str
    url: str
    version: int
    size: int
    integrity: str
    variants: dict[str, VariantEntry]
    assets: NotRequired[list[str]]  # the files its url()s refer to, copied beside it
    map: NotRequired[MapEntry]


class ManifestData(TypedDict):
    """The whole manifest file; `version` is the schema version, not a bundle version."""

    version: int
    bundles: dict[str, BundleEntry]
    # [[modules]] trees (modules/importmap.py): an entry per module, the import map, its CSP hash
    modules: NotRequired[dict[str, Any]]
    importmap: NotRequired[dict[str, dict[str, str]]]
    importmap_csp: NotRequired[str]


class ManifestError(AssetbuildError, KeyError):
    """A manifest that cannot be read, or a bundle name it does not hold."""

    exit_code = 2

    def __str__(self) -> str:
        # KeyError would show the repr of the message, quotes and escaped newlines included.
        return self.message


def integrity(data: bytes) -> str:
    """The Subresource Integrity value of `data`: "sha384-<base64>"."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def make_url(static_url: str | None, path: str) -> str:
    """The public URL of an installed path: static_url joined with one "/", or the path alone."""
    if not static_url:
        return path
    return static_url.rstrip("/") + "/" + path


def bundle_entry(
    path: str,
    version: int,
    data: bytes,
    variants: Mapping[str, int],
    static_url: str | None,
    assets: Sequence[str] = (),
) -> BundleEntry:
    """The entry of a bundle installed at `path`; `variants` maps a suffix (".gz") to its size;
    `assets` are the paths (from the root) of the files its url()s refer to."""
    entry: BundleEntry = {
        "path": path,
        "url": make_url(static_url, path),
        "version": version,
        "size": len(data),
        "integrity": integrity(data),
        "variants": {
            suffix.lstrip("."): {"path": path + suffix, "size": size}
            for suffix, size in sorted(variants.items())
        },
    }
    if assets:
        entry["assets"] = sorted(assets)
    return entry


def map_entry(path: str, size: int, static_url: str | None) -> MapEntry:
    """The entry of a source map installed at `path`."""
    return {"path": path, "url": make_url(static_url, path), "size": size}


def build_manifest(
    entries: Mapping[str, BundleEntry], modules: Mapping[str, Any] | None = None
) -> ManifestData:
    """The manifest holding `entries`, keyed by logical bundle name, and the module trees' fields
    (`modules`, `importmap`, `importmap_csp`) when there are any."""
    data: ManifestData = {
        "version": SCHEMA_VERSION,
        "bundles": {name: entries[name] for name in sorted(entries)},
    }
    if modules:
        data["modules"] = dict(modules["modules"])
        data["importmap"] = dict(modules["importmap"])
        data["importmap_csp"] = str(modules["importmap_csp"])
    return data


def render_json(data: ManifestData) -> bytes:
    """Deterministic JSON: sorted keys, indent 2, trailing newline, no timestamps."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def php_string(value: str) -> str:
    """A single-quoted PHP string literal; only backslash and quote need escaping there."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _php_value(value: Any, indent: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return php_string(value)
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        if not value:
            return "[]"
        pad = "    " * (indent + 1)
        items = (
            f"{pad}{php_string(str(k))} => {_php_value(value[k], indent + 1)},\n"
            for k in sorted(value)
        )
        return "[\n" + "".join(items) + "    " * indent + "]"
    if isinstance(value, list):
        if not value:
            return "[]"
        pad = "    " * (indent + 1)
        listed = (f"{pad}{_php_value(v, indent + 1)},\n" for v in value)
        return "[\n" + "".join(listed) + "    " * indent + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a PHP manifest")


def render_php(data: ManifestData) -> bytes:
    """A PHP file returning the manifest as an array: `$m = require 'manifest.php';`."""
    body = _php_value(data, 0)
    return f"<?php\n// Generated by assetbuild; do not edit.\nreturn {body};\n".encode()


def decode_manifest(raw: bytes, fmt: str) -> Any:
    """The value of a manifest's bytes in `fmt` (JSON, or the PHP `render_php` writes), unchecked;
    ValueError (or RecursionError for JSON nested past Python's limit) when they are not one."""
    if fmt == "php":
        return parse_php(raw)
    return json.loads(raw)


def render(data: ManifestData, fmt: str) -> bytes:
    """The manifest's bytes in `fmt` ("json" or "php")."""
    if fmt == "json":
        return render_json(data)
    if fmt == "php":
        return render_php(data)
    raise ValueError(f"unknown manifest format {fmt!r}; use one of: {', '.join(FORMATS)}")


def write_manifest(
    path: Path,
    fmt: str,
    entries: Mapping[str, BundleEntry],
    *,
    before_replace: Callable[[], None] | None = None,
    existing: bytes | EllipsisType | None = ...,
    modules: Mapping[str, Any] | None = None,
) -> bool:
    """Write the manifest atomically when its bytes change; return whether it changed.

    `existing`: the file's bytes as the caller just read them (None: there is none), so they are
    not read again; by default they are read here. `modules`: the module trees' fields.
    """
    content = render(build_manifest(entries, modules), fmt)
    if existing is ...:
        try:
            existing = read_regular(path, MANIFEST_MAX_BYTES, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError, RefusedFile):
            existing = None  # replaced by the rename, never written through
    if existing == content:
        return False
    atomic_write(path, content, before_replace=before_replace)
    return True


def _invalid(path: Path, why: str) -> ManifestError:
    return ManifestError(
        f"{path}: not a valid assetbuild manifest ({why}); write it again with `assetbuild install`"
    )


def parse_manifest(path: Path, raw: bytes) -> ManifestData:
    """Parse and check the JSON manifest read from `path`."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: [[[[...
        raise _invalid(path, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("bundles"), dict):
        raise _invalid(path, 'no "bundles" object')
    schema = data.get("version")
    if not isinstance(schema, int):
        raise _invalid(path, 'no schema "version"')
    if schema > SCHEMA_VERSION:
        raise ManifestError(
            f"{path}: manifest schema version {schema} is newer than this assetbuild reads "
            f"({SCHEMA_VERSION}); upgrade assetbuild"
        )
    for name, entry in data["bundles"].items():
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("path", "url", "integrity")
        ):
            raise _invalid(path, f"bad entry for {name!r}")
    result: ManifestData = data  # type: ignore[assignment]  # checked above
    return result


def read_manifest(path: Path) -> ManifestData:
    """Read and check a JSON manifest; ManifestError names the file when it is missing or corrupt.

    Only a regular file (links followed) of at most MANIFEST_MAX_BYTES is read: a FIFO, a device or
    a directory there is a ManifestError saying so, never a hang or a runaway read.
    """
    try:
        raw = read_regular(path, MANIFEST_MAX_BYTES)
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: manifest not found; run `assetbuild install` to write it, "
            "or point the template integration at the right file"
        ) from None
    except RefusedFile as exc:
        raise ManifestError(f"{path}: cannot read the manifest: it {exc.problem}") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    return parse_manifest(path, raw)


def installed_static_url(path: Path) -> str | None:
    """The static_url the manifest's URLs were made with (None: none, or no readable manifest).

    `status` compares with what was installed, so it needs no token value: the manifest knows
    the one the install used.
    """
    try:
        data = read_manifest(path)
    except ManifestError:
        return None
    for entry in data["bundles"].values():
        url, where = entry.get("url"), entry.get("path")
        if isinstance(url, str) and isinstance(where, str) and url.endswith("/" + where):
            return url[: -len(where) - 1] or None
    return None


# An unterminated string runs to the end (keeping more, never less): otherwise every escaped quote of
# a long unterminated one starts a new scan to the end, which is quadratic.
_PHP_STRING = re.compile(r"'((?:[^'\\]|\\.)*+)(?:'|\Z)", re.DOTALL)


def _json_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def referenced_strings(manifest_path: Path | None) -> frozenset[str]:
    """Every string in the manifest (JSON or our PHP), however it is shaped: what prune must keep.

    Deliberately looser than `read_manifest`: a manifest this assetbuild would not accept (a newer
    schema, a hand edit) still names the versions a site serves.
    """
    if manifest_path is None:
        return frozenset()
    try:
        raw = read_regular(manifest_path, MANIFEST_MAX_BYTES)
    except FileNotFoundError:
        return frozenset()
    except RefusedFile as exc:
        raise InstallError(
            f"{manifest_path}: cannot read the manifest: it {exc.problem}; "
            "refusing to prune without knowing which versions it references"
        ) from None
    except OSError as exc:
        raise InstallError(
            f"{manifest_path}: cannot read the manifest ({exc.strerror}); "
            "refusing to prune without knowing which versions it references"
        ) from None
    text = raw.decode("utf-8", "replace")
    if text.lstrip().startswith("<?php"):
        return frozenset(re.sub(r"\\([\\'])", r"\1", m) for m in _PHP_STRING.findall(text))
    try:
        return frozenset(_json_strings(json.loads(text)))
    except (ValueError, RecursionError) as exc:
        raise InstallError(
            f"{manifest_path}: the manifest is not valid JSON ({exc}); refusing to prune without "
            "knowing which versions it references. Write it again with `assetbuild install` first"
        ) from None


_cache: dict[str, tuple[Stamp, Manifest]] = {}


class Manifest:
    """A loaded manifest: look bundles up by logical name ("js/main.js")."""

    def __init__(self, path: Path, data: ManifestData) -> None:
        self.path_on_disk = path
        self.data = data
        self._importmap_text: str | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Load a JSON manifest, reusing the last load while the file is unchanged."""
        file = Path(path)
        key = str(file)
        try:
            st = file.stat()
        except FileNotFoundError:
            raise ManifestError(
                f"{file}: manifest not found; run `assetbuild install` to write it, "
                "or point the template integration at the right file"
            ) from None
        except OSError as exc:
            raise ManifestError(f"{file}: cannot read the manifest: {exc.strerror}") from None
        # The writer replaces the file by rename, so a new inode means new content.
        stamp = stamp_of(st)
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        manifest = cls(file, read_manifest(file))
        _cache[key] = (stamp, manifest)
        return manifest

    def names(self) -> tuple[str, ...]:
        """Every bundle name, sorted."""
        return tuple(sorted(self.data["bundles"]))

    def __contains__(self, name: object) -> bool:
        return name in self.data["bundles"]

    def entry(self, name: str) -> BundleEntry:
        """The entry of `name`; ManifestError (a KeyError) says which names exist."""
        try:
            return self.data["bundles"][name]
        except (KeyError, TypeError):
            raise ManifestError(self._missing_message(name)) from None

    def _missing_message(self, name: str) -> str:
        import difflib

        names = self.names()
        message = f"{self.path_on_disk}: no bundle named {name!r}"
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        return message + (f" (bundles: {shown})" if names else " (the manifest holds no bundles)")

    def url(self, name: str) -> str:
        """The public URL of the installed bundle."""
        return self.entry(name)["url"]

    def path(self, name: str) -> str:
        """The installed path relative to the static root: "js/8/main.js"."""
        return self.entry(name)["path"]

    def integrity(self, name: str) -> str:
        """The SRI value: "sha384-..."."""
        return self.entry(name)["integrity"]

    def tag(self, name: str, **attributes: AttributeValue) -> str:
        """An HTML `<script>` or stylesheet `<link>` with integrity; attribute values escaped.

        Keyword arguments add attributes: `True` a boolean one (`defer=True`), a string or number
        a valued one (`nonce="..."`, `media="print"`, `type="module"`), `False` or `None` none;
        `_` in a name is `-` (`data_turbo_track="reload"`).
        """
        entry = self.entry(name)
        kind = self._kind(name)
        import html  # templates only; the CLI never needs it

        url = html.escape(entry["url"], quote=True)
        base: dict[str, AttributeValue]
        if kind == "css":
            base = {"rel": "stylesheet", "href": url}
        else:
            base = {"type": "module"} if kind == "mjs" else {}
            base["src"] = url
        extra = _attributes(attributes, fixed=("src", "href", "integrity", "rel"))
        if "type" in extra:
            base.pop("type", None)
        base["integrity"] = html.escape(entry["integrity"], quote=True)
        base["crossorigin"] = "anonymous"
        body = _render({**base, **extra})
        return f"<link {body}>" if kind == "css" else f"<script {body}></script>"

    def preload(self, name: str, **attributes: AttributeValue) -> str:
        """`<link rel="preload">` for a bundle, with the right `as=` (`modulepreload` for .mjs)."""
        entry = self.entry(name)
        kind = self._kind(name)
        import html

        base: dict[str, AttributeValue] = {
            "rel": "modulepreload" if kind == "mjs" else "preload",
            "href": html.escape(entry["url"], quote=True),
        }
        if kind != "mjs":
            base["as"] = "style" if kind == "css" else "script"
        base["integrity"] = html.escape(entry["integrity"], quote=True)
        base["crossorigin"] = "anonymous"
        extra = _attributes(attributes, fixed=("href", "rel", "as", "integrity"))
        return f"<link {_render({**base, **extra})}>"

    # ES modules (issue 15): entries with an "imports" closure, the import map and its CSP hash.

    def _module_entries(self) -> Mapping[str, object]:
        raw: Mapping[str, object] = self.data
        modules = raw.get("modules")
        if isinstance(modules, dict):
            return modules
        if modules is not None:
            raise _invalid(self.path_on_disk, '"modules" is not an object')
        bundles = self.data["bundles"]
        return {k: v for k, v in bundles.items() if isinstance(v.get("imports"), list)}

    def module(self, name: str) -> Mapping[str, Any]:
        """The entry of the module `name` ("js/app/main.js"); ManifestError says which exist."""
        modules = self._module_entries()
        entry = modules.get(name)
        if entry is None:
            import difflib

            names = sorted(modules)
            message = f"{self.path_on_disk}: no module named {name!r}"
            close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise ManifestError(
                message + (f" (modules: {shown})" if names else " (the manifest holds no modules)")
            )
        if (
            not isinstance(entry, dict)
            or not all(isinstance(entry.get(key), str) for key in ("url", "integrity"))
            or not isinstance(entry.get("imports"), list)
            or not all(isinstance(i, str) for i in entry["imports"])
        ):
            raise _invalid(self.path_on_disk, f"bad module entry for {name!r}")
        return entry

    def module_tag(self, name: str, **attributes: AttributeValue) -> str:
        """`<script type="module" src integrity crossorigin>` for a module entry point; attributes as
        for `tag` (`async_=True`, `nonce=...`)."""
        if name.lower().endswith(".json"):
            raise ValueError(f"{self.path_on_disk}: {name!r} is a JSON module, not a script")
        entry = self.module(name)
        return f"<script {_render(_module_base(entry, attributes, 'src'))}></script>"

    def modulepreload(self, name: str, **attributes: AttributeValue) -> str:
        """`<link rel="modulepreload">` (with integrity) for each module of `name`'s static import
        closure, one a line ("" when it imports nothing); JSON modules are not preloaded."""
        links = []
        for imported in self.module(name)["imports"]:
            if not imported.lower().endswith(".json"):
                entry = self.module(imported)
                links.append(f"<link {_render(_module_base(entry, attributes, 'href'))}>")
        return "\n".join(links)

    def importmap(self) -> Mapping[str, Any]:
        """The import map a page embeds: `{"imports": {...}, "integrity": {...}}`."""
        raw: Mapping[str, object] = self.data
        value = raw.get("importmap")
        if value is None:
            raise ManifestError(
                f"{self.path_on_disk}: the manifest holds no import map "
                "(no [[modules]] tree was installed)"
            )
        problem = importmap_problem(value)
        if problem is not None:
            raise _invalid(self.path_on_disk, f"bad importmap: {problem}")
        assert isinstance(value, dict)
        return value

    def importmap_text(self) -> str:
        """The exact text of the import map element: the text `importmap_csp` is the hash of.

        A manifest whose `importmap_csp` is not that text's hash is refused (a hand edit, or a
        writer that disagrees): a page with a strict policy would silently lose its modules."""
        if self._importmap_text is None:
            text = importmap_text(self.importmap())
            raw: Mapping[str, object] = self.data
            recorded = raw.get("importmap_csp")
            if recorded != text_hash(text):
                raise _invalid(
                    self.path_on_disk, "its importmap_csp is not the hash of its import map"
                )
            self._importmap_text = text
        return self._importmap_text

    def importmap_csp(self) -> str:
        """The import map element's Content-Security-Policy hash, `sha256-...` (a policy quotes it:
        `script-src 'sha256-...'`)."""
        return text_hash(self.importmap_text())

    def importmap_tag(self, **attributes: AttributeValue) -> str:
        """`<script type="importmap">` holding exactly `importmap_text()`; attributes as for `tag`
        (`nonce=...`)."""
        text = self.importmap_text()
        extra = _attributes(attributes, fixed=("type", "src"))
        return f"<script {_render({'type': 'importmap', **extra})}>{text}</script>"

    def _kind(self, name: str) -> str:
        ext = posixpath.splitext(name)[1].lower()
        if ext not in _TAG_KINDS:
            raise ValueError(
                f"{self.path_on_disk}: no HTML tag for {name!r} (only .js, .mjs and .css); "
                "use its url instead"
            )
        return ext[1:]


AttributeValue = str | int | float | bool | None
_TAG_KINDS = (".js", ".mjs", ".css")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]*\Z")


def _attributes(
    given: dict[str, AttributeValue], fixed: tuple[str, ...]
) -> dict[str, AttributeValue]:
    """Keyword arguments as HTML attributes; names checked, the tag's own refused."""
    import html

    out: dict[str, AttributeValue] = {}
    for key, value in given.items():
        attr = key.rstrip("_").replace("_", "-").lower()  # `async_` for the keyword `async`
        if not _ATTRIBUTE_NAME.match(attr):
            raise ValueError(f"not an HTML attribute name: {key!r}")
        if attr in fixed:
            raise ValueError(f"{attr!r} is set from the manifest; it cannot be given")
        if value is None or value is False:
            continue
        out[attr] = True if value is True else html.escape(str(value), quote=True)
    return out


def _render(attributes: dict[str, AttributeValue]) -> str:
    """`name="value"` pairs (values already escaped) and bare boolean attributes, in order."""
    return " ".join(
        name if value is True else f'{name}="{value}"' for name, value in attributes.items()
    )


def _module_base(
    entry: Mapping[str, Any], given: dict[str, AttributeValue], url_attribute: str
) -> dict[str, AttributeValue]:
    """A module's tag attributes: src (or rel and href), integrity and crossorigin, then `given`."""
    import html

    base: dict[str, AttributeValue]
    if url_attribute == "src":
        base = {"type": "module", "src": html.escape(entry["url"], quote=True)}
        fixed: tuple[str, ...] = ("type", "src", "integrity")
    else:
        base = {"rel": "modulepreload", "href": html.escape(entry["url"], quote=True)}
        fixed = ("rel", "href", "as", "integrity")
    base["integrity"] = html.escape(entry["integrity"], quote=True)
    base["crossorigin"] = "anonymous"
    return {**base, **_attributes(given, fixed=fixed)}
