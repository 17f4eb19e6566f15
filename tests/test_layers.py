"""The package's layers point only down, and no import cycle hides inside a function.

Every module is read with `ast`; every `import` counts, at module level or inside a function, except
those under `if TYPE_CHECKING:` (annotations only, never run). ARCHITECTURE.md draws these layers.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assetbuild"

# Lowest first. A module may import modules of its own layer and of the layers below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "assetbuild.errors",
            "assetbuild.diagnostics",
            "assetbuild.stamps",
            "assetbuild.fsutil",
            "assetbuild.versions",
            "assetbuild.minified",
            "assetbuild.cachehome",
            "assetbuild.interrupts",
            "assetbuild.remote.url",
        ),
    ),
    (
        "inputs",
        (
            "assetbuild.config",
            "assetbuild.sources",
            "assetbuild.tokens",
            "assetbuild.manifest",
            "assetbuild.modules.config",
            "assetbuild.modules.maptext",
            "assetbuild.accept",
        ),
    ),
    ("languages", ("assetbuild.js", "assetbuild.css")),
    ("maps", ("assetbuild.maps",)),
    ("values", ("assetbuild.build.results", "assetbuild.build.bundle", "assetbuild.modules")),
    ("cache", ("assetbuild.cache",)),
    ("install", ("assetbuild.install",)),
    ("remote", ("assetbuild.remote",)),
    (
        "run",
        (
            "assetbuild.build.executor",
            "assetbuild.build.session",
            "assetbuild.build.pipeline",
            "assetbuild.build",
            "assetbuild.watch",
            "assetbuild.watched",
        ),
    ),
    (
        "presentation",
        (
            "assetbuild.report",
            "assetbuild.summary",
            "assetbuild.modules.summary",
            "assetbuild.jinja",
            "assetbuild.django",
            "assetbuild.php",
        ),
    ),
    (
        "commands",
        (
            "assetbuild.cli",
            "assetbuild.commands",
            "assetbuild.quick",
            "assetbuild.entry",
            "assetbuild.__main__",
        ),
    ),
)
# The package itself: `__version__`, and the public names it re-exports lazily (from any layer).
FACADE = "assetbuild"


def module_names() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = module_names()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return hidden


def _targets(name: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    return [f"{module}.{alias.name}" for alias in node.names] + [module]


def _owner(target: str) -> str | None:
    """The package module an import target names (a submodule, or the module holding the name)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (function level too; TYPE_CHECKING excluded)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in hidden:
                continue
            targets = _targets(name, node)
            if isinstance(node, ast.ImportFrom):  # `from pkg import sub` names pkg.sub, else pkg
                named = [t for t in targets[:-1] if t in MODULES]
                targets = named or targets[-1:]
            for target in targets:
                owner = _owner(target)
                if owner is not None and owner != name and owner.startswith("assetbuild"):
                    graph[name].add(owner)
    return graph


def layer_of(name: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer): the longest prefix decides
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or name.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    # pipeline imports the install inside `install()`: a function-level edge must be in the graph
    assert "assetbuild.install.local" in graph["assetbuild.build.pipeline"]
    # and a TYPE_CHECKING import must not be
    assert "assetbuild.config" not in graph["assetbuild.cache.state"]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_every_module_has_a_declared_layer() -> None:
    unplaced = [name for name in MODULES if name != FACADE and layer_of(name) is None]
    assert unplaced == [], "place new modules in LAYERS (and in ARCHITECTURE.md)"


def test_imports_only_point_down() -> None:
    upward = []
    for name, targets in import_graph().items():
        if name == FACADE:
            continue  # re-exports the public names, lazily, from whatever layer holds them
        mine = layer_of(name)
        assert mine is not None
        for target in sorted(targets):
            if target == FACADE:
                continue  # `__version__`
            theirs = layer_of(target)
            assert theirs is not None
            if theirs > mine:
                upward.append(f"{name} ({LAYERS[mine][0]}) -> {target} ({LAYERS[theirs][0]})")
    assert upward == []


def test_the_facade_is_imported_only_for_its_version() -> None:
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == FACADE and not node.level:
                names = {alias.name for alias in node.names}
                assert names <= {"__version__"} | set(_subpackages()), (name, names)


def _subpackages() -> list[str]:
    return [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()] + [
        p.stem for p in PACKAGE.glob("*.py")
    ]


@pytest.mark.parametrize("limit", [700])
def test_no_module_is_too_long(limit: int) -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > limit
    }
    assert long == {}


def test_the_top_level_stays_small() -> None:
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= 20, sorted(p.name for p in top)


_LOADED = """
import json, sys
from assetbuild.build.bundle import join_bundle, process_file
from assetbuild.build.results import FileJob
for kind, text in (("js", "var a = 1;\\nfunction f(x) { return x + 1 }\\n"),
                   ("css", "@import 'y.css';\\na { color: red; background: url(x.png) }\\n")):
    for first in (True, False):
        for minify in (True, False):
            job = FileJob(kind, "/s/a." + kind, "a." + kind, text, text, (), minify, first,
                          "/s/1", "/s")
            result = process_file(job)
            join_bundle("x/main." + kind, kind, [result, result], 10)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("assetbuild"))))
"""


def test_the_cache_key_covers_all_code_that_computes_a_result() -> None:
    """Every module `process_file` and `join_bundle` load is among the files that key the cache."""
    from assetbuild.cache.fingerprint import PACKAGE_DIR, result_code_files

    out = subprocess.run(
        [sys.executable, "-c", _LOADED], capture_output=True, text=True, check=True
    ).stdout
    keyed = set(result_code_files())
    missing = [m for m in json.loads(out) if MODULES[m] not in keyed]
    assert missing == []
    # and only that code: the CLI's wording, the install and the cache itself are not in the key
    names = {p.relative_to(PACKAGE_DIR).as_posix() for p in keyed}
    assert not names & {"cli.py", "report.py", "install/local.py", "cache/content.py", "quick.py"}
    assert "js/vendor/acorn.js" in names


def test_editing_the_cli_keeps_cache_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetbuild.cache import fingerprint

    fingerprint.environment_key.cache_clear()
    before = fingerprint.environment_key()
    fingerprint.environment_key.cache_clear()
    # a copy of the package whose cli.py differs keys the same; whose js/check.py differs does not
    import shutil

    copy = tmp_path / "assetbuild"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", copy)
    try:
        assert fingerprint.environment_key() == before
        fingerprint.environment_key.cache_clear()
        (copy / "cli.py").write_text("# reworded\n", encoding="utf-8")
        assert fingerprint.environment_key() == before
        fingerprint.environment_key.cache_clear()
        with (copy / "js" / "check.py").open("a", encoding="utf-8") as f:
            f.write("# edited\n")
        assert fingerprint.environment_key() != before
        fingerprint.environment_key.cache_clear()
        (copy / "js" / "check.py").unlink()
        (copy / "build" / "bundle.py").rename(copy / "build" / "moved.py")
        with pytest.raises(RuntimeError, match=r"RESULT_CODE names build/bundle\.py"):
            fingerprint.environment_key()
    finally:
        fingerprint.environment_key.cache_clear()


def test_preload_names_are_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    from assetbuild.build import executor

    assert executor.preload_modules() == executor.PRELOAD
    monkeypatch.setattr(executor, "PRELOAD", (*executor.PRELOAD, "assetbuild.no_such_module"))
    with pytest.raises(RuntimeError, match="no_such_module"):
        executor.preload_modules()
