"""The benchmark corpus generator (bench/corpus.py) and the benchmark's untimed helpers."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import esprima
import pytest
import tinycss2

from tests.helpers.benchload import load_bench

BENCH = Path(__file__).resolve().parent.parent / "bench"


corpus = load_bench("corpus")
site_bench = load_bench("site_bench")

# The documented site, shrunk: same groups and bundles, a few small files each.
TINY = tuple(
    replace(
        b,
        groups=tuple(
            replace(
                g,
                count=1 if g.vendor else 3,
                min_size=4_000 if g.vendor else 500,
                max_size=6_000 if g.vendor else 2_500,
            )
            for g in b.groups
        ),
    )
    for b in corpus.BUNDLES
)


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def parse(text: str) -> dict[str, Any]:
    tree: dict[str, Any] = esprima.parseScript(text).toDict()
    return tree


# --------------------------------------------------------------------------- the documented shape


def test_documented_shape_of_the_full_site() -> None:
    groups = [g for b in corpus.BUNDLES for g in b.groups]
    js = [g for g in groups if g.kind == "js"]
    css = [g for g in groups if g.kind == "css"]
    assert sum(g.count for g in js) == 350
    assert sum(g.count for g in css) == 200
    vendors = [g for g in js if g.vendor]
    assert vendors and all(200_000 <= g.min_size <= g.max_size <= 300_000 for g in vendors)
    assert all(1_000 <= g.min_size < g.max_size <= 10_000 for g in js if not g.vendor)
    areas = {b.output.rpartition("/")[0] for b in corpus.BUNDLES}
    assert {"js", "css", "admin/js", "admin/css"} <= areas
    for b in corpus.BUNDLES:
        assert all(g.kind == b.kind for g in b.groups)


@pytest.mark.parametrize("scale", [1, 2])
def test_tiny_site_layout_and_config(tmp_path: Path, scale: int) -> None:
    stats = corpus.generate(tmp_path, scale=scale, seed=3, bundles=TINY)
    config = tomllib.loads((tmp_path / "assetbuild.toml").read_text("utf-8"))
    assert config["root"] == "static"
    assert config["static_url"] == corpus.STATIC_URL
    assert [b["output"] for b in config["bundle"]] == [b.output for b in TINY]
    root = tmp_path / "static"
    for bundle, entry in zip(TINY, config["bundle"], strict=True):
        assert entry["sources"] == list(bundle.sources)
        matched: set[Path] = set()
        for pattern in bundle.sources:
            matched.update(root.glob(pattern))
        assert len(matched) == sum(g.count for g in bundle.groups) * scale
        assert all(p.suffix == f".{bundle.kind}" for p in matched)
    expected_js = sum(g.count for b in TINY for g in b.groups if g.kind == "js") * scale
    assert stats.js_files == expected_js == len(list(root.rglob("*.js")))
    assert stats.js_bytes == sum(p.stat().st_size for p in root.rglob("*.js"))
    assert stats.css_files == len(list(root.rglob("*.css")))


def test_generation_is_deterministic(tmp_path: Path) -> None:
    corpus.generate(tmp_path / "a", seed=7, bundles=TINY)
    corpus.generate(tmp_path / "b", seed=7, bundles=TINY)
    corpus.generate(tmp_path / "c", seed=8, bundles=TINY)
    a, b, c = (files_of(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() != c.keys() or a != c


def test_hash_randomisation_does_not_change_output(tmp_path: Path) -> None:
    script = (
        f"import sys; sys.path.insert(0, {str(BENCH)!r}); import corpus, hashlib; "
        "print(hashlib.sha256(corpus.js_source(corpus.random.Random('x'), 'P1', 4000, vendor=False).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_larger_scales_contain_the_smaller_ones(tmp_path: Path) -> None:
    corpus.generate(tmp_path / "one", scale=1, seed=1, bundles=TINY)
    corpus.generate(tmp_path / "two", scale=2, seed=1, bundles=TINY)
    one, two = files_of(tmp_path / "one" / "static"), files_of(tmp_path / "two" / "static")
    assert len(two) == 2 * len(one)
    assert {k: two[k] for k in one} == one


def test_refuses_to_overwrite_a_site(tmp_path: Path) -> None:
    corpus.generate(tmp_path, bundles=TINY)
    with pytest.raises(FileExistsError):
        corpus.generate(tmp_path, bundles=TINY)


def test_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus, "BUNDLES", TINY)
    assert corpus.main([str(tmp_path / "site"), "--seed", "2"]) == 0
    assert "JS files" in capsys.readouterr().out
    assert corpus.main([str(tmp_path / "site")]) == 2
    assert "already holds a site" in capsys.readouterr().err


# --------------------------------------------------------------------------- JavaScript


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("vendor", [False, True])
def test_js_files_parse_as_classic_scripts(seed: int, vendor: bool) -> None:
    text = corpus.js_source(random.Random(f"t{seed}"), f"File{seed}", 6_000, vendor=vendor)
    tree = parse(text)
    assert tree["sourceType"] == "script"
    assert not any(n.get("type", "").startswith(("Import", "Export")) for n in walk(tree))
    assert text.endswith("\n")


@pytest.mark.parametrize("size", [1_000, 4_000, 30_000])
def test_js_file_size_is_near_the_target(size: int) -> None:
    for seed in range(5):
        text = corpus.js_source(random.Random(f"s{seed}"), "Sized", size, vendor=False)
        assert size * 0.5 <= len(text) <= size * 1.5


@pytest.mark.parametrize("seed", range(4))
def test_edit_source_parses_and_declares_nothing_global(seed: int) -> None:
    text = corpus.edit_source(30_000, seed=seed)
    tree = parse(text)
    assert 25_000 <= len(text) <= 40_000
    assert [n["type"] for n in tree["body"]] == ["EmptyStatement", "ExpressionStatement"]


def test_tiny_bundles_concatenate_into_valid_scripts(tmp_path: Path) -> None:
    """Top-level let/const/class never collide across the files of one bundle."""
    corpus.generate(tmp_path, scale=2, seed=5, bundles=TINY)
    root = tmp_path / "static"
    for bundle in (b for b in TINY if b.kind == "js"):
        files = [p for pattern in bundle.sources for p in sorted(root.glob(pattern))]
        parse("".join(p.read_text("utf-8") for p in files))


SYNTAX: dict[str, Callable[[dict[str, Any]], bool]] = {
    "private field": lambda n: n.get("type") == "PrivateIdentifier",
    "static block": lambda n: n.get("type") == "StaticBlock",
    "optional chaining": lambda n: n.get("type") == "ChainExpression",
    "??": lambda n: n.get("type") == "LogicalExpression" and n.get("operator") == "??",
    "??=": lambda n: n.get("type") == "AssignmentExpression" and n.get("operator") == "??=",
    "await": lambda n: n.get("type") == "AwaitExpression",
    "arrow": lambda n: n.get("type") == "ArrowFunctionExpression",
    "template": lambda n: n.get("type") == "TemplateLiteral",
    "object destructuring": lambda n: n.get("type") == "ObjectPattern",
    "array destructuring": lambda n: n.get("type") == "ArrayPattern",
    "spread": lambda n: n.get("type") == "SpreadElement",
    "rest": lambda n: n.get("type") == "RestElement",
    "BigInt": lambda n: n.get("type") == "Literal" and n.get("bigint") is not None,
    "numeric separator": lambda n: n.get("type") == "Literal" and "_" in str(n.get("raw", "")),
    "regex with flags": lambda n: (
        n.get("type") == "Literal" and bool((n.get("regex") or {}).get("flags"))
    ),
    "getter": lambda n: n.get("kind") == "get",
    "setter": lambda n: n.get("kind") == "set",
    "generator": lambda n: n.get("generator") is True,
    "yield": lambda n: n.get("type") == "YieldExpression",
    "label": lambda n: n.get("type") == "LabeledStatement",
    "class extends": lambda n: (
        n.get("type") == "ClassDeclaration" and n.get("superClass") is not None
    ),
    "for await": lambda n: n.get("type") == "ForOfStatement" and n.get("await") is True,
    "switch": lambda n: n.get("type") == "SwitchStatement",
    "try/finally": lambda n: n.get("type") == "TryStatement" and n.get("finalizer") is not None,
}


@pytest.fixture(scope="module")
def sample_nodes() -> list[dict[str, Any]]:
    texts = [
        corpus.js_source(random.Random(f"f{i}"), f"F{i}", 8_000, vendor=i % 5 == 0)
        for i in range(30)
    ]
    return [n for t in texts for n in walk(parse(t))]


@pytest.mark.parametrize("feature", sorted(SYNTAX))
def test_current_syntax_is_present(feature: str, sample_nodes: list[dict[str, Any]]) -> None:
    assert any(SYNTAX[feature](n) for n in sample_nodes), feature


def test_nested_templates_and_static_tokens_appear() -> None:
    gen = corpus.JsGen(random.Random("n"), "N", nested_templates=True)
    nested = [gen.template(0) for _ in range(40)]
    assert any(t.count("`") >= 4 for t in nested)
    texts = [corpus.js_source(random.Random(f"k{i}"), "K", 5_000, vendor=False) for i in range(10)]
    assert sum(t.count("{$static}") for t in texts) >= 10


def test_identifiers_vary_between_files() -> None:
    names = []
    for i in range(6):
        text = corpus.js_source(random.Random(f"v{i}"), f"V{i}", 5_000, vendor=False)
        names.append({n["name"] for n in walk(parse(text)) if n.get("type") == "Identifier"})
    shared = set.intersection(*names)
    assert len(shared) < min(map(len, names)) / 2


# --------------------------------------------------------------------------- CSS


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("vendor", [False, True])
def test_css_files_parse_cleanly(seed: int, vendor: bool) -> None:
    text = corpus.css_source(random.Random(f"c{seed}"), 5_000, vendor=vendor)
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    assert rules and not [r for r in rules if r.type == "error"]
    assert text.count("{") == text.count("}")


def test_css_features_are_present() -> None:
    text = "".join(
        corpus.css_source(random.Random(f"cf{i}"), 8_000, vendor=i == 0) for i in range(12)
    )
    for needle in (
        "@media",
        "@font-face",
        "@keyframes",
        "--",
        "url(",
        "{$static}",
        "&",
        "@supports",
        "var(",
    ):
        assert needle in text, needle
    assert re.search(r"\n  &[:.\s>]", text)


# --------------------------------------------------------------------------- benchmark helpers (untimed)


@pytest.mark.parametrize(
    ("help_text", "seconds"),
    [
        ("  --debounce MS  Wait this long after a change.  [default: 50]", 0.05),
        ("  --debounce MS       Quiet time that ends a burst.  [default: 50; x>=0]", 0.05),
        ("  --debounce-ms INTEGER  quiet period  [default: 80]", 0.08),
        ("  --debounce SECONDS  quiet period in seconds  [default: 0.2]", 0.2),
        ("Rebuilds after a 100 ms debounce.", 0.1),
        ("  --poll  Poll instead of events.", None),
    ],
)
def test_parse_debounce(help_text: str, seconds: float | None) -> None:
    found, _ = site_bench.parse_debounce(help_text)
    assert found == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize("static_url", ["/static", "https://cdn.example.com/a&b|c/", "/s\\x"])
def test_floor_script_concatenates_and_substitutes(tmp_path: Path, static_url: str) -> None:
    corpus.generate(tmp_path / "site", bundles=TINY)
    site = site_bench._load_site_fallback(tmp_path / "site")
    out = tmp_path / "out"
    script = tmp_path / "floor.sh"
    script.write_text(site_bench.floor_script(site, out, static_url), "utf-8")
    subprocess.run(["sh", str(script)], check=True)
    for bundle in site.bundles:
        expected = b"".join(p.read_bytes() for p in bundle.files).replace(
            b"{$static}", static_url.encode()
        )
        assert (out / bundle.output).read_bytes() == expected


def test_fallback_site_reader_matches_the_package(tmp_path: Path) -> None:
    corpus.generate(tmp_path, scale=2, bundles=TINY)
    fallback = site_bench._load_site_fallback(tmp_path)
    assert [(b.output, len(b.files)) for b in fallback.bundles] == [
        (b.output, sum(g.count for g in b.groups) * 2) for b in TINY
    ]
    try:
        package = site_bench.load_site(tmp_path)
    except ImportError:
        pytest.skip("assetbuild.config is not importable")
    assert package.bundles == fallback.bundles
    assert package.root == fallback.root
    assert package.static_url == fallback.static_url == corpus.STATIC_URL


def test_webassets_module_builds_the_same_bundles(tmp_path: Path) -> None:
    corpus.generate(tmp_path / "site", bundles=TINY)
    site = site_bench._load_site_fallback(tmp_path / "site")
    text = site_bench.webassets_env_module(site, tmp_path / "out", tmp_path / "cache", "/static")
    namespace: dict[str, Any] = {}
    exec(compile(text, "bench_wa_env.py", "exec"), namespace)
    env = namespace["environment"]
    assert len(list(env)) == len(site.bundles)
    for wa_bundle, bundle in zip(env, site.bundles, strict=True):
        assert [Path(site.root, c) for c in wa_bundle.contents[:]] == list(bundle.files)


@pytest.mark.parametrize("code", [0, 3])
def test_run_process_reports_exit_output_and_resources(tmp_path: Path, code: int) -> None:
    script = f"import sys; data = bytearray(30_000_000); print('out'); print('err', file=sys.stderr); sys.exit({code})"
    done = site_bench.run_process([sys.executable, "-c", script], tmp_path)
    assert done.run.returncode == code
    assert (done.stdout, done.stderr) == ("out\n", "err\n")
    assert done.run.max_rss_kb is not None and done.run.max_rss_kb > 30_000
    assert done.run.cpu_seconds is not None and done.run.cpu_seconds > 0


def test_run_process_kills_a_process_that_overruns(tmp_path: Path) -> None:
    done = site_bench.run_process(
        [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, timeout=0.5
    )
    assert done.run.returncode == -9  # killed by the deadline, not finished


def _bench_with(medians: dict[str, tuple[float, float]], tree_mb: float = 100.0) -> Any:
    """A Bench holding one run per key with the given (wall, cpu) seconds."""
    bench = site_bench.Bench(
        work=Path("."),
        reps=1,
        quick=True,
        assetbuild=None,
        webassets_cli=None,
        esbuild=None,
        progress=lambda _: None,
    )
    for key, (wall, cpu) in medians.items():
        m = site_bench.Measurement(key, key)
        m.runs.append(site_bench.Run(wall, 1024, 0, cpu, int(tree_mb * 1024)))
        bench.results[key] = m
    return bench


@pytest.mark.parametrize(
    ("nochange", "python", "wa", "expected"),
    [(0.07, 0.05, 0.3, True), (0.1, 0.05, 0.3, False), (0.07, 0.01, 0.3, False)],
)
def test_no_change_target(nochange: float, python: float, wa: float, expected: bool) -> None:
    bench = _bench_with(
        {"ab_nochange": (nochange, nochange), "python": (python, python), "wa_nochange": (wa, wa)}
    )
    (target,) = [t for t in site_bench.targets(bench) if t.name.startswith("quiet no-change")]
    assert target.met is expected


@pytest.mark.parametrize(
    ("cpu_2x", "cpu_4x", "expected"), [(2.0, 4.0, True), (1.5, 3.0, True), (2.0, 5.0, False)]
)
def test_growth_target_uses_cpu_time(cpu_2x: float, cpu_4x: float, expected: bool) -> None:
    # Wall times that would fail the check, to show they are not what is judged.
    bench = _bench_with(
        {"ab_cold": (1.0, 1.0), "ab_cold_2x": (9.0, cpu_2x), "ab_cold_4x": (20.0, cpu_4x)}
    )
    (target,) = [t for t in site_bench.targets(bench) if t.name.startswith("cold time grows")]
    assert target.met is expected


@pytest.mark.parametrize(("tree_mb", "expected"), [(250.0, True), (350.0, False)])
def test_memory_target_uses_the_process_tree(tree_mb: float, expected: bool) -> None:
    bench = _bench_with({"ab_cold": (1.0, 1.0), "ab_cold_4x": (4.0, 4.0)}, tree_mb=tree_mb)
    (target,) = [t for t in site_bench.targets(bench) if t.name.startswith("peak memory")]
    assert target.met is expected


def test_unmeasured_targets_are_not_judged() -> None:
    assert {t.met for t in site_bench.targets(_bench_with({}))} == {None}
