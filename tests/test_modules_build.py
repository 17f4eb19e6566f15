"""Module trees built in memory: checked as modules, minified verified, every import resolved (issue 15)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assetbuild.modules.build import (
    build_trees,
    collect_tree,
    minify_module,
    module_fingerprint,
    static_closure,
)
from assetbuild.modules.config import ModuleSpec

SiteFactory = Callable[..., Path]
TREE = ModuleSpec("js/modules", "js/app")
ROOT = Path(__file__).resolve().parent.parent


def build(site: Path, importmap: tuple[tuple[str, str], ...] = (), **kw: object):  # type: ignore[no-untyped-def]
    return build_trees(site, [TREE], importmap, {"static": "https://s.example"}, **kw)  # type: ignore[arg-type]


def errors(site: Path, importmap: tuple[tuple[str, str], ...] = ()) -> list[str]:
    result = build(site, importmap)
    return [d.format(False).splitlines()[0] for d in result.diagnostics if d.severity == "error"]


def test_a_valid_tree_is_checked_minified_and_resolved(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/modules/main.js": (
                'import { a } from "./lib/a.js";\nimport p from "pop";\n'
                'import data from "./data.json" with { type: "json" };\n'
                "export * from './lib/b.mjs';\n"
                "const lazy = await import(`./lazy.js`);\n"
                'const cdn = await import("https://cdn.example/x.js");\n'
                "console.log(a, p, data, lazy, cdn, import.meta.url, '{$static}');\n"
            ),
            "js/modules/lib/a.js": "/*! keep me */\nexport const a = 1 + 2; // gone\n",
            "js/modules/lib/b.mjs": "import { a } from './a.js';\nexport const b = a;\n",
            "js/modules/lazy.js": "export default 'lazy';\n",
            "js/modules/data.json": '{"x": 1}\n',
            "js/modules/vendor/pop.js": "export default 1;\n",
            "js/modules/.hidden.js": "syntax error here (\n",
            "js/modules/notes.txt": "",
        }
    )
    result = build(site, (("pop", "js/modules/vendor/pop.js"),))
    assert result.ok, [d.format(False) for d in result.diagnostics]
    (tree,) = result.trees
    by_name = {m.name: m for m in tree.modules}
    assert sorted(by_name) == [
        "data.json",
        "lazy.js",
        "lib/a.js",
        "lib/b.mjs",
        "main.js",
        "vendor/pop.js",
    ]
    main = by_name["main.js"]
    assert main.imports == (
        "js/modules/lib/a.js",
        "js/modules/vendor/pop.js",
        "js/modules/data.json",
        "js/modules/lib/b.mjs",
    )
    assert main.dynamic == ("js/modules/lazy.js",)
    assert "https://s.example" in main.text and "{$static}" not in main.text
    assert by_name["lib/a.js"].text == "/*! keep me */export const a=1+2;"
    assert by_name["lib/a.js"].method == "rjsmin"
    assert by_name["data.json"].method == "json"
    closure = static_closure(result.trees)
    assert closure["js/modules/main.js"] == (
        "js/modules/lib/a.js",
        "js/modules/vendor/pop.js",
        "js/modules/data.json",
        "js/modules/lib/b.mjs",
    )
    assert closure["js/modules/lib/b.mjs"] == ("js/modules/lib/a.js",)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            'import a from "./nope.js";\n',
            'main.js:1:15: error: import "./nope.js": no module js/modules/nope.js',
        ),
        ('import a from "./lib/aa.js";\n', '(did you mean "a.js"?)'),
        ('export * from "./nope.js";\n', 'main.js:1:15: error: import "./nope.js": no module'),
        ('export { x } from "./nope.js";\n', 'main.js:1:19: error: import "./nope.js": no module'),
        ('await import("./nope.js");\n', 'main.js:1:14: error: import() "./nope.js": no module'),
        (
            'import a from "../x.js";\n',
            'main.js:1:15: error: import "../x.js" leaves the module tree js/modules/ (it names js/x.js)',
        ),
        ('import a from "/x.js";\n', 'main.js:1:15: error: import "/x.js" starts with "/"'),
        (
            'import a from "lodash";\n',
            'main.js:1:15: error: import "lodash" is a bare specifier without an [importmap] entry',
        ),
        ('import a from "./data.json";\n', 'a JSON file is imported with { type: "json" }'),
        (
            'import a from "./lib/a.js" with { type: "json" };\n',
            'imported with { type: "json" } but js/modules/lib/a.js is a module',
        ),
        (
            '\n\n  import a from "./lib/a.js"; with (a) {}\n',
            "main.js:3:30: error: Strict mode code may not include a with statement",
        ),
        ("let await = 1;\n", "main.js:1:5: error:"),
        ("export const a = 1;\nexport const a = 2;\n", "main.js:2:"),
    ],
)
def test_every_import_and_module_error_has_its_location(
    make_site: SiteFactory, source: str, expected: str
) -> None:
    site = make_site(
        {
            "js/modules/main.js": source,
            "js/modules/lib/a.js": "export default 1;\n",
            "js/modules/data.json": "{}",
        }
    )
    found = errors(site)
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("js/modules/main.js:")


def test_every_error_of_every_module_is_reported(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/modules/a.js": 'import "./x.js";\nimport "./y.js";\n',
            "js/modules/b.js": "export default (;\n",
            "js/modules/c.json": "{nope}",
        }
    )
    found = errors(site)
    assert [line.split(": error")[0] for line in found] == [
        "js/modules/a.js:1:8",
        "js/modules/a.js:2:8",
        "js/modules/b.js:1:17",
        "js/modules/c.json:1:2",
    ]


def test_prefix_mappings_and_cross_tree_names(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/modules/main.js": 'import { a } from "lib/a.js";\nimport "lib/missing.js";\n',
            "js/modules/lib/a.js": "export const a = 1;\n",
        }
    )
    found = errors(site, (("lib/", "js/modules/lib/"),))
    assert found == [
        'js/modules/main.js:2:8: error: import "lib/missing.js" (mapped to js/modules/lib/missing.js): '
        "no module js/modules/lib/missing.js"
    ]


def test_minify_false_ships_the_checked_text(make_site: SiteFactory) -> None:
    site = make_site({"js/modules/a.js": "export const a = 1 ;\n"})
    (tree,) = build(site, minify=False).trees
    assert tree.modules[0].text == "export const a = 1 ;\n" and tree.modules[0].method == "none"


def test_minified_modules_are_the_same_module_program() -> None:
    text = "export default async function f() {\n  await 1; return import.meta.url + `${x}`;\n}\n"
    made = minify_module(text)
    assert made.method in ("rjsmin", "safe") and len(made.text) < len(text)
    assert module_fingerprint(made.text) == module_fingerprint(text) is not None
    assert module_fingerprint("export default (") is None


def test_collect_skips_hidden_and_other_files(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/modules/b.js": "",
            "js/modules/a.mjs": "",
            "js/modules/.git/x.js": "",
            "js/modules/x.js~": "",
            "js/modules/d/c.json": "",
            "js/modules/d/e.css": "",
        }
    )
    assert collect_tree(site, TREE) == [
        "js/modules/a.mjs",
        "js/modules/b.js",
        "js/modules/d/c.json",
    ]


# --- a real published ESM tree ---------------------------------------------------------------


def _npm_package(name: str) -> Path | None:
    for base in (os.environ.get("ASSETBUILD_NPM_DIR"), ROOT / ".ci" / "npm" / "node_modules"):
        if base and (Path(base) / name / "package.json").is_file():
            return Path(base) / name
    return None


POPPER = _npm_package("@popperjs/core")


@pytest.mark.skipif(POPPER is None, reason="@popperjs/core not installed (.ci/run installs it)")
def test_popper_esm_tree_through_an_importmap_specifier(tmp_path: Path) -> None:
    assert POPPER is not None
    site = tmp_path / "site"
    shutil.copytree(POPPER / "dist" / "esm", site / "js" / "modules" / "vendor" / "popper")
    (site / "js" / "modules" / "main.js").write_text(
        'import { createPopper } from "@popperjs/core";\nexport const made = typeof createPopper;\n'
    )
    importmap = (("@popperjs/core", "js/modules/vendor/popper/index.js"),)
    result = build(tmp_path / "site", importmap)
    assert result.ok, [d.format(False) for d in result.diagnostics][:5]
    (tree,) = result.trees
    assert len(tree.modules) >= 60
    closure = static_closure(result.trees)["js/modules/main.js"]
    assert "js/modules/vendor/popper/index.js" in closure
    assert "js/modules/vendor/popper/dom-utils/getBoundingClientRect.js" in closure
    assert len(closure) >= 50
    assert all(m.method in ("rjsmin", "safe") for m in tree.modules)
    # a typo in the published tree is an error at the import, naming the missing file
    index = site / "js" / "modules" / "vendor" / "popper" / "index.js"
    index.write_text(index.read_text().replace("./enums.js", "./enum.js"))
    found = errors(site, importmap)
    assert (
        len(found) == 1
        and "index.js:1:" in found[0]
        and "no module js/modules/vendor/popper/enum.js" in found[0]
    )
    assert '(did you mean "enums.js"?)' in found[0]


def test_the_library_never_tracebacks_on_bad_bytes(make_site: SiteFactory) -> None:
    site = make_site({"js/modules/a.js": b"export const a = '\xff';\n"})
    found = errors(site)
    assert len(found) == 1 and found[0].startswith("js/modules/a.js:1:")


def test_module_checking_runs_in_a_subprocess_without_the_engine_too(
    make_site: SiteFactory,
) -> None:
    site = make_site({"js/modules/a.js": "import './b.js';\n"})
    code = (
        "import sys; from pathlib import Path; from assetbuild.modules.build import build_trees;"
        "from assetbuild.modules.config import ModuleSpec;"
        "r = build_trees(Path(sys.argv[1]), [ModuleSpec('js/modules','js/app')], [], {});"
        "print(r.diagnostics[0].format(False).splitlines()[0])"
    )
    env = {**os.environ, "ASSETBUILD_ENGINE": "esprima"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(site)], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.startswith('js/modules/a.js:1:8: error: import "./b.js": no module')


# --- the real CLI ------------------------------------------------------------------------------


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assetbuild", *args],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_cli_check_reports_every_module_error_with_its_location(make_site: SiteFactory) -> None:
    config = '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n[importmap]\nlib = "js/modules/lib/a.js"\n'
    site = make_site(
        {
            "js/modules/main.js": (
                'import { a } from "lib";\nimport "./lib/nope.js";\nimport "../up.js";\n'
                'import "/root.js";\nimport "left-pad";\nawait import("./lazy.js");\n'
                'import "https://cdn.example/ok.js";\n'
            ),
            "js/modules/lib/a.js": "export const a = 1;\n",
            "js/modules/bad.mjs": "export default (;\n",
        },
        config,
    )
    done = _cli(site, "check")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    starts = [line.split(": error")[0] for line in done.stderr.splitlines() if ": error:" in line]
    assert starts == [
        "js/modules/bad.mjs:1:17",
        "js/modules/main.js:2:8",
        "js/modules/main.js:3:8",
        "js/modules/main.js:4:8",
        "js/modules/main.js:5:8",
        "js/modules/main.js:6:14",
    ]
    assert "no module js/modules/lib/nope.js" in done.stderr
    assert '\n    import "./lib/nope.js";\n           ^' in done.stderr
    assert "assetbuild: 6 errors" in done.stderr


def test_cli_check_accepts_a_valid_tree_and_zero_config(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/source/a.js": "var a = 1;\n",
            "js/modules/main.mjs": "import { b } from './b.js';\nconsole.log(b, import.meta.url);\n",
            "js/modules/b.js": "export const b = await Promise.resolve(2);\n",
        }
    )
    done = _cli(site, "check")
    assert done.returncode == 0, done.stderr
    (site / "js" / "modules" / "b.js").write_text("export const b = 1;\nexport const b = 2;\n")
    done = _cli(site, "check")
    assert done.returncode == 1 and "js/modules/b.js:2:" in done.stderr, done.stderr


def test_cli_install_installs_a_zero_config_tree(make_site: SiteFactory) -> None:
    site = make_site({"js/source/a.js": "var a;\n", "js/modules/m.js": "export {};\n"})
    done = _cli(site, "install")
    assert done.returncode == 0, done.stderr
    assert "not yet installed" not in done.stderr
    assert (site / "js" / "1" / "modules" / "m.js").read_text() == "export{};"
