"""`[[modules]]` and `[importmap]` config, and zero-config `<area>/modules/` trees (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assetbuild.config import Config, load_config
from assetbuild.errors import ConfigError
from assetbuild.modules.config import ModuleSpec, is_module_file, specifier_problem

SiteFactory = Callable[..., Path]

TREE = {
    "js/modules/main.js": "import { a } from './lib/a.js';\n",
    "js/modules/lib/a.js": "export const a = 1;\n",
    "js/modules/vendor/popper/index.mjs": "export default 1;\n",
}

MODULES = """
[[modules]]
source = "js/modules"
output = "js/app"
"""


def load(site: Path) -> Config:
    return load_config(site, environ={})


def errors_of(site: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(site)
    assert info.value.exit_code == 2
    return [d.message for d in info.value.diagnostics]


def test_a_modules_table_alone_is_a_config(make_site: SiteFactory) -> None:
    config = load(make_site(TREE, MODULES))
    assert config.bundles == ()
    assert config.modules == (ModuleSpec("js/modules", "js/app"),)
    assert config.modules[0].area == "js"
    assert config.modules[0].name == "app"
    assert config.importmap == ()


def test_modules_beside_bundles_with_flags_and_importmap(make_site: SiteFactory) -> None:
    text = (
        MODULES
        + 'minify = false\ntokens = false\n\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/src/*.js"]\n'
        + '\n[importmap]\n"@popperjs/core" = "js/modules/vendor/popper/index.mjs"\n'
        + '"lib/" = "./js/modules/lib/"\n'
    )
    config = load(make_site({**TREE, "js/src/a.js": "var a;\n"}, text))
    assert [b.output for b in config.bundles] == ["js/main.js"]
    assert config.modules == (ModuleSpec("js/modules", "js/app", minify=False, tokens=False),)
    assert config.importmap == (
        ("@popperjs/core", "js/modules/vendor/popper/index.mjs"),
        ("lib/", "js/modules/lib/"),
    )


def test_output_and_source_are_normalised(make_site: SiteFactory) -> None:
    text = '[[modules]]\nsource = "./js//modules/"\noutput = "js/./app/"\n'
    assert load(make_site(TREE, text)).modules == (ModuleSpec("js/modules", "js/app"),)


def test_an_output_at_the_root_has_the_root_area(make_site: SiteFactory) -> None:
    text = '[[modules]]\nsource = "js/modules"\noutput = "app"\n'
    (spec,) = load(make_site(TREE, text)).modules
    assert (spec.area, spec.name) == ("", "app")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('output = "js/app"', 'modules[1].source: missing; e.g. source = "js/modules"'),
        ('source = "js/modules"', 'modules[1].output: missing; e.g. output = "js/app"'),
        ('source = "js/nope"\noutput = "js/app"', 'modules[1].source: "js/nope": does not exist'),
        (
            'source = "js/modules/main.js"\noutput = "js/app"',
            'modules[1].source: "js/modules/main.js": is not a directory',
        ),
        (
            'source = "css"\noutput = "js/app"',
            'modules[1].source: "css": holds no .js or .mjs file',
        ),
        (
            'source = "../outside"\noutput = "js/app"',
            'modules[1].source: "../outside": must stay inside root (no .. segments)',
        ),
        (
            'source = "/js/modules"\noutput = "js/app"',
            'modules[1].source: "/js/modules": must be relative to root, not absolute',
        ),
        (
            'source = 3\noutput = "js/app"',
            "modules[1].source: expected a directory relative to root",
        ),
        (
            'source = "js/modules"\noutput = "js/3"',
            'modules[1].output: "js/3": a numbered name is a version directory',
        ),
        (
            'source = "js/modules"\noutput = "js/3/app"',
            'modules[1].output: "js/3/app": directory "3" is a version directory name',
        ),
        (
            'source = "js/modules"\noutput = "js\\\\app"',
            'modules[1].output: "js\\app": use / as the separator, not a backslash',
        ),
        (
            'source = "js/modules"\noutput = ""',
            'modules[1].output: expected a directory path like "js/app"',
        ),
        (
            'source = "js/modules"\noutput = "js/app"\nminify = "no"',
            "modules[1].minify: expected true or false",
        ),
        (
            'source = "js/modules"\noutput = "js/app"\ntokens = 1',
            "modules[1].tokens: expected true or false",
        ),
        (
            'source = "js/modules"\noutput = "js/app"\nsources = []',
            'unknown key "sources" in modules[1] (expected one of source, output, area, suffixes, minify, tokens)',
        ),
    ],
)
def test_modules_table_errors(make_site: SiteFactory, table: str, expected: str) -> None:
    site = make_site({**TREE, "css/a.css": "a{}"}, f"[[modules]]\n{table}\n")
    messages = errors_of(site)
    assert any(expected in m for m in messages), messages


def test_modules_must_be_tables(make_site: SiteFactory) -> None:
    assert errors_of(make_site(TREE, 'modules = "js/modules"\n')) == [
        "modules: expected [[modules]] tables"
    ]


def test_every_problem_of_every_tree_is_reported(make_site: SiteFactory) -> None:
    text = (
        MODULES
        + '\n[[modules]]\nsource = "js/modules/lib"\noutput = "js/app"\n'
        + '\n[[modules]]\nsource = "js/missing"\noutput = "js/3"\n'
        + '\n[[bundle]]\noutput = "js/other.js"\nsources = ["js/modules/*.js"]\n'
        + '\n[[modules]]\nsource = "js/other"\noutput = "js/other.js"\n'
    )
    site = make_site({**TREE, "js/other/x.mjs": ""}, text)
    messages = errors_of(site)
    assert messages == [
        'modules[2].output: "js/app" is also the output of modules[1]',
        'modules[2].source: "js/modules/lib" overlaps the source "js/modules" of modules[1]; '
        "a module belongs to one tree",
        'modules[3].source: "js/missing": does not exist',
        'modules[3].output: "js/3": a numbered name is a version directory; choose a non-numeric name',
        'modules[4].output: "js/other.js" would install beside bundle "js/other.js" under the same '
        "name in js's version directories; choose another name",
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('"./x" = "js/modules/main.js"', "relative and /-rooted specifiers"),
        ('"/x" = "js/modules/main.js"', "relative and /-rooted specifiers"),
        ('"https://cdn.example/x.js" = "js/modules/main.js"', "a full URL is loaded as it is"),
        ('"" = "js/modules/main.js"', "a specifier must not be empty"),
        ('"a b" = "js/modules/main.js"', "must not contain spaces"),
        ("x = 1", "expected the path of a module file relative to root"),
        ('x = "js/modules/nope.js"', '"js/modules/nope.js" does not exist'),
        ('x = "js/src/a.js"', '"js/src/a.js" is not inside a [[modules]] source ("js/modules")'),
        ('x = "../js/modules/main.js"', "must stay inside root"),
        ('x = "/js/modules/main.js"', "must be relative to root, not absolute"),
        ('x = "js/modules/readme.txt"', "is not a module file (.js or .mjs)"),
        ('"x/" = "js/modules/main.js"', 'a specifier ending in "/" maps a directory'),
        ('x = "js/modules/lib/"', 'a specifier ending in "/" maps a directory'),
        ('"x/" = "js/modules/nope/"', '"js/modules/nope/" is not a directory'),
    ],
)
def test_importmap_errors(make_site: SiteFactory, entry: str, expected: str) -> None:
    files = {**TREE, "js/src/a.js": "", "js/modules/readme.txt": ""}
    messages = errors_of(make_site(files, f"{MODULES}\n[importmap]\n{entry}\n"))
    assert len(messages) == 1 and messages[0].startswith("importmap."), messages
    assert expected in messages[0]


def test_importmap_must_be_a_table(make_site: SiteFactory) -> None:
    messages = errors_of(make_site(TREE, f'importmap = "x"\n{MODULES}'))
    assert messages == ['importmap: expected a table of "specifier" = "path/of/module.js"']


def test_importmap_without_trees_names_none(make_site: SiteFactory) -> None:
    text = '[[bundle]]\noutput = "js/main.js"\nsources = ["js/src/*.js"]\n[importmap]\nx = "js/modules/main.js"\n'
    (message,) = errors_of(make_site(TREE, text))
    assert "is not inside a [[modules]] source (none configured)" in message


def test_a_config_with_neither_bundles_nor_modules_still_asks_for_a_bundle(
    make_site: SiteFactory,
) -> None:
    (message,) = errors_of(make_site(TREE, 'root = "."\n'))
    assert "no [[bundle]] tables" in message


def test_zero_config_finds_area_modules(make_site: SiteFactory) -> None:
    files = {
        "js/source/a.js": "var a;\n",
        "js/modules/main.mjs": "export {};\n",
        "js/modules/deep/x.js": "export {};\n",
        "lib/modules/.hidden.js": "",  # hidden files make no tree
        "img/modules/x.png": "",
        "app/modules/sub/y.js": "export {};\n",  # a tree without a source/ beside it
    }
    config = load(make_site(files))
    assert [b.output for b in config.bundles] == ["js/main.js"]
    assert config.modules == (
        ModuleSpec("app/modules", "app/modules"),
        ModuleSpec("js/modules", "js/modules"),
    )


def test_module_file_names() -> None:
    assert is_module_file("a.js") and is_module_file("a.mjs")
    assert not any(map(is_module_file, [".a.js", "a.js~", "a.json", "a.cjs", "a.js.swp"]))
    assert specifier_problem("@popperjs/core") is None
    assert specifier_problem("lodash/") is None


def test_cli_reports_every_config_problem(make_site: SiteFactory) -> None:
    text = '[[modules]]\nsource = "js/nope"\noutput = "js/3"\n[importmap]\n"./x" = "a.js"\n'
    site = make_site(TREE, text)
    done = subprocess.run(
        [sys.executable, "-m", "assetbuild", "check"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert 'modules[1].source: "js/nope": does not exist' in done.stderr
    assert 'modules[1].output: "js/3": a numbered name is a version directory' in done.stderr
    assert 'importmap."./x": relative and /-rooted specifiers' in done.stderr
