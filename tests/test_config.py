"""Config discovery, parsing, validation, zero-config mode and overrides."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assetbuild.config import (
    BundleSpec,
    Config,
    Overrides,
    find_config,
    load_config,
)
from assetbuild.diagnostics import Diagnostic
from assetbuild.errors import AssetbuildError, ConfigError
from assetbuild.sources import collect, display_path, read_source
from assetbuild.tokens import substitute
from assetbuild.versions import normalise_output, output_problem

SiteFactory = Callable[..., Path]

MINIMAL = """
[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]
"""


def load(site: Path, **kwargs: object) -> Config:
    kwargs.setdefault("environ", {})
    return load_config(site, **kwargs)  # type: ignore[arg-type]


def errors_of(site: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(site, **kwargs)
    assert info.value.exit_code == 2
    return [d.message for d in info.value.diagnostics]


# --- discovery -------------------------------------------------------------------------


def test_find_config_in_cwd_and_parents(make_site: SiteFactory) -> None:
    site = make_site({"a/b/c/.keep": ""}, MINIMAL)
    assert find_config(site) == site / "assetbuild.toml"
    assert find_config(site / "a" / "b" / "c") == site / "assetbuild.toml"


def test_find_config_none(make_site: SiteFactory) -> None:
    site = make_site({"pyproject.toml": "[tool.other]\n", "a/.keep": ""})
    assert find_config(site / "a") is None


@pytest.mark.parametrize(
    ("files", "start", "expected"),
    [
        # assetbuild.toml wins over pyproject.toml in the same directory
        (
            {"assetbuild.toml": MINIMAL, "pyproject.toml": "[tool.assetbuild]\n"},
            "",
            "assetbuild.toml",
        ),
        # a pyproject.toml without our table is skipped
        (
            {"assetbuild.toml": MINIMAL, "sub/pyproject.toml": "[project]\nname='x'\n"},
            "sub",
            "assetbuild.toml",
        ),
        # the nearest file of either kind wins
        (
            {"assetbuild.toml": MINIMAL, "sub/pyproject.toml": "[tool.assetbuild]\n"},
            "sub",
            "sub/pyproject.toml",
        ),
        # an unparseable pyproject.toml that is not ours is skipped
        (
            {"assetbuild.toml": MINIMAL, "sub/pyproject.toml": "[project\n"},
            "sub",
            "assetbuild.toml",
        ),
        # an unparseable one that mentions us is ours (load_config then reports the syntax error)
        ({"pyproject.toml": "[tool.assetbuild]\nroot = \n"}, "", "pyproject.toml"),
    ],
)
def test_find_config_precedence(
    make_site: SiteFactory, files: dict[str, str], start: str, expected: str
) -> None:
    site = make_site(files)
    assert find_config(site / start) == site / expected


def test_pyproject_table(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "pyproject.toml": '[project]\nname = "x"\n\n[tool.assetbuild]\nstatic_url = "/s/"\n'
            + MINIMAL.replace("[[bundle]]", "[[tool.assetbuild.bundle]]")
        }
    )
    config = load(site)
    assert config.config_path == site / "pyproject.toml"
    assert config.static_url == "/s/"
    assert config.bundles == (BundleSpec("js/main.js", "js", ("js/src/*.js",)),)


def test_pyproject_errors_name_the_table(make_site: SiteFactory) -> None:
    site = make_site(
        {"pyproject.toml": "[tool.assetbuild]\nminfy = 1\n[[tool.assetbuild.bundle]]\noutput = 3\n"}
    )
    messages = errors_of(site)
    assert (
        'unknown key "minfy" in tool.assetbuild (did you mean "minify"? it is set per [[bundle]])'
        in messages
    )
    assert any(m.startswith("tool.assetbuild.bundle[1].output: expected") for m in messages)


def test_explicit_config_file(make_site: SiteFactory) -> None:
    site = make_site({"conf/assets.toml": 'root = ".."\n' + MINIMAL, "js/src/a.js": ""})
    config = load(site, config_file=Path("conf/assets.toml"))
    assert config.config_path == site / "conf" / "assets.toml"
    assert config.base_dir == site / "conf"
    assert config.root == site.resolve()
    assert config.cache_dir == site / "conf" / ".assetbuild-cache"


def test_explicit_pyproject_without_table(make_site: SiteFactory) -> None:
    site = make_site({"x/pyproject.toml": "[project]\nname = 'x'\n"})
    with pytest.raises(ConfigError, match=r"x/pyproject.toml: no \[tool.assetbuild\] table"):
        load(site, config_file=Path("x/pyproject.toml"))


@pytest.mark.parametrize(
    ("name", "what"), [("nope.toml", "does not exist"), ("dir", "is a directory")]
)
def test_explicit_config_missing(make_site: SiteFactory, name: str, what: str) -> None:
    site = make_site({"dir/.keep": ""})
    with pytest.raises(ConfigError, match=f"{name}: config file {what}"):
        load(site, config_file=Path(name))


# --- values and defaults ---------------------------------------------------------------


def test_full_config(make_site: SiteFactory) -> None:
    config_text = """
root = "static"
static_url = "https://cdn.example.com/static/"
manifest = "../build/assets.php"
compress = ["br", "gzip", "br"]
cache_dir = "var/cache"
strict_tokens = true
lock_timeout = 5
allow_symlinks_outside = true

[tokens]
version = "1.2"
_x9 = ""

[[bundle]]
output = "./js//app.js"
sources = ["js/a.js", "js/**/*.js"]
minify = false

[[bundle]]
output = "site.css"
sources = ["css/*.css"]
tokens = false
"""
    site = make_site({"static/js/a.js": ""}, config_text)
    config = load(site)
    assert config.root == (site / "static").resolve()
    assert config.base_dir == site
    assert config.static_url == "https://cdn.example.com/static/"
    assert config.tokens == (
        ("static", "https://cdn.example.com/static/"),
        ("version", "1.2"),
        ("_x9", ""),
    )
    assert config.manifest_path == site / "build" / "assets.php"
    assert config.manifest_format == "php"
    assert config.compress == ("gzip", "br")
    assert config.cache_dir == site / "var" / "cache"
    assert config.strict_tokens is True
    assert config.lock_timeout == 5.0
    assert config.allow_symlinks_outside is True
    assert config.bundles == (
        BundleSpec("js/app.js", "js", ("js/a.js", "js/**/*.js"), minify=False),
        BundleSpec("site.css", "css", ("css/*.css",), tokens=False),
    )
    assert [b.area for b in config.bundles] == ["js", ""]
    assert not config.zero_config


def test_defaults(make_site: SiteFactory) -> None:
    site = make_site({}, MINIMAL)
    config = load(site)
    assert config.root == site.resolve()
    assert config.static_url is None
    assert config.tokens == (("static", None),)
    assert config.manifest_path == site.resolve() / "manifest.json"
    assert config.manifest_format == "json"
    assert config.compress == ()
    assert config.cache_dir == site / ".assetbuild-cache"
    assert (config.strict_tokens, config.allow_symlinks_outside, config.lock_timeout) == (
        False,
        False,
        60.0,
    )


def test_manifest_format_php_default_name(make_site: SiteFactory) -> None:
    site = make_site({}, 'manifest_format = "php"\n' + MINIMAL)
    config = load(site)
    assert (config.manifest_path.name, config.manifest_format) == ("manifest.php", "php")


def test_static_in_tokens_table_is_static_url(make_site: SiteFactory) -> None:
    site = make_site({}, '[tokens]\nstatic = "/s"\n' + MINIMAL)
    assert load(site).static_url == "/s"
    assert dict(load(site).tokens)["static"] == "/s"


def test_bom_in_config_is_accepted(make_site: SiteFactory) -> None:
    site = make_site({"assetbuild.toml": ("\ufeff" + MINIMAL).encode("utf-8")})
    assert load(site).bundles[0].output == "js/main.js"


# --- errors ----------------------------------------------------------------------------

BAD = [
    (
        "minfy = true\n" + MINIMAL,
        'unknown key "minfy" (did you mean "minify"? it is set per [[bundle]])',
    ),
    (
        "minify = true\n" + MINIMAL,
        'unknown key "minify" (did you mean "minify"? it is set per [[bundle]])',
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = ['a.js']\nminfy = false\n",
        'unknown key "minfy" in bundle[1] (did you mean "minify"?)',
    ),
    ("static_ur = 'x'\n" + MINIMAL, 'unknown key "static_ur" (did you mean "static_url"?)'),
    ("[[bundles]]\noutput = 'a.js'\n", 'unknown key "bundles" (did you mean "bundle"?)'),
    ("", 'no [[bundle]] tables; add one with output = "js/main.js" and sources = [...]'),
    ("bundle = 3\n", "bundle: expected [[bundle]] tables"),
    ("static_url = 3\n" + MINIMAL, "static_url: expected a string, got a number"),
    ("strict_tokens = 'yes'\n" + MINIMAL, "strict_tokens: expected true or false, got a string"),
    (
        "allow_symlinks_outside = 1\n" + MINIMAL,
        "allow_symlinks_outside: expected true or false, got a number",
    ),
    ("lock_timeout = -1\n" + MINIMAL, "lock_timeout: expected a number of seconds >= 0, got -1"),
    ("lock_timeout = nan\n" + MINIMAL, "lock_timeout: expected a number of seconds >= 0, got nan"),
    (
        "lock_timeout = true\n" + MINIMAL,
        "lock_timeout: expected a number of seconds, got a boolean",
    ),
    (
        "manifest_format = 'yaml'\n" + MINIMAL,
        'manifest_format: expected "json" or "php", got "yaml"',
    ),
    (
        "manifest = ''\n" + MINIMAL,
        "manifest: expected a path relative to root, got an empty string",
    ),
    ("compress = 'gzip'\n" + MINIMAL, 'compress: expected a list of "gzip" and "br", got a string'),
    (
        "compress = ['brotli']\n" + MINIMAL,
        'compress: unknown method "brotli"; expected "gzip" or "br" (did you mean "br"?)',
    ),
    (
        "compress = ['gzp']\n" + MINIMAL,
        'compress: unknown method "gzp"; expected "gzip" or "br" (did you mean "gzip"?)',
    ),
    ("root = 'nope'\n" + MINIMAL, "root: directory nope does not exist"),
    ("root = 'file.txt'\n" + MINIMAL, "root: file.txt is not a directory"),
    ("tokens = 'x'\n" + MINIMAL, 'tokens: expected a table of NAME = "value", got a string'),
    (
        "[tokens]\n'a-b' = 'x'\n" + MINIMAL,
        "tokens.a-b: token names must match [A-Za-z_][A-Za-z0-9_]*",
    ),
    ("[tokens]\n1a = 'x'\n" + MINIMAL, "tokens.1a: token names must match [A-Za-z_][A-Za-z0-9_]*"),
    ("[tokens]\nv = 1\n" + MINIMAL, "tokens.v: expected a string, got a number"),
    (
        "static_url = '/a'\n[tokens]\nstatic = '/b'\n" + MINIMAL,
        "tokens.static: {$static} is static_url; set only one of the two",
    ),
    ("[[bundle]]\noutput = 'a.js'\n", "bundle[1].sources: expected a non-empty list of strings"),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = []\n",
        "bundle[1].sources: expected a non-empty list of strings",
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = 'a.js'\n",
        "bundle[1].sources: expected a non-empty list of strings",
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = ['a.js', 2]\n",
        "bundle[1].sources: expected a non-empty list of strings",
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = ['']\n",
        "bundle[1].sources: expected a non-empty list of strings",
    ),
    ("[[bundle]]\nsources = ['a.js']\n", 'bundle[1].output: missing; e.g. output = "js/main.js"'),
    (
        "[[bundle]]\noutput = ''\nsources = ['a.js']\n",
        'bundle[1].output: expected a path like "js/main.js", got an empty string',
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = ['a.js']\nminify = 'no'\n",
        "bundle[1].minify: expected true or false, got a string",
    ),
    (
        "[[bundle]]\noutput = 'a.js'\nsources = ['a.js']\ntokens = 0\n",
        "bundle[1].tokens: expected true or false, got a number",
    ),
    (MINIMAL + MINIMAL, 'bundle[2].output: "js/main.js" is also the output of bundle[1]'),
    (
        MINIMAL + MINIMAL.replace("js/main.js", "./js/main.js"),
        'bundle[2].output: "js/main.js" is also the output of bundle[1]',
    ),
    (
        "[[bundle]]\noutput = '../x.js'\nsources = ['a.js']\n",
        'bundle[1].output: "../x.js": must stay inside root (no .. segments)',
    ),
    (
        "[[bundle]]\noutput = 'js/3/main.js'\nsources = ['a.js']\n",
        'bundle[1].output: "js/3/main.js": directory "3" is a version directory name',
    ),
    (
        "[[bundle]]\noutput = 'js/main.ts'\nsources = ['a.js']\n",
        'bundle[1].output: "js/main.ts": the extension must be .js or .css, not .ts',
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_config_errors(make_site: SiteFactory, text: str, expected: str) -> None:
    site = make_site({"file.txt": ""}, text)
    messages = errors_of(site)
    assert any(m.startswith(expected) for m in messages), messages


def test_errors_are_collected_and_name_the_file(make_site: SiteFactory) -> None:
    text = """
minfy = 1
static_url = 2
[[bundle]]
output = "a.js"
sources = ["a.js"]
[[bundle]]
output = "b.css"
sources = []
"""
    site = make_site({}, text)
    with pytest.raises(ConfigError) as info:
        load(site)
    messages = [d.message for d in info.value.diagnostics]
    assert messages == [
        'unknown key "minfy" (did you mean "minify"? it is set per [[bundle]])',
        "static_url: expected a string, got a number",
        "bundle[2].sources: expected a non-empty list of strings",
    ]
    assert {str(d.location) for d in info.value.diagnostics} == {"assetbuild.toml"}
    assert str(info.value) == "assetbuild.toml: invalid configuration"


def test_error_file_shown_relative_to_cwd(make_site: SiteFactory) -> None:
    site = make_site({"sub/.keep": ""}, "minify = 1\n" + MINIMAL)
    with pytest.raises(ConfigError) as info:
        load(site / "sub")
    # outside the cwd the path is absolute
    assert str(info.value).startswith(str(site / "assetbuild.toml"))


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("[[bundle]]\noutput = \n", 2, 10),
        ('static_url = "a\n', 1, 16),
        ("[[bundle]\n", 1, 9),
        ('a = "b"\na = "c"\n', 2, 8),
    ],
)
def test_invalid_toml_is_located(make_site: SiteFactory, text: str, line: int, column: int) -> None:
    site = make_site({}, text)
    with pytest.raises(ConfigError) as info:
        load(site)
    (diag,) = info.value.diagnostics
    assert diag.message.startswith("invalid TOML: ")
    assert diag.location is not None
    assert (diag.location.path, diag.location.line, diag.location.column) == (
        "assetbuild.toml",
        line,
        column,
    )
    assert diag.source_line == text.split("\n")[line - 1]


def test_non_utf8_config(make_site: SiteFactory) -> None:
    site = make_site({"assetbuild.toml": b'static_url = "/caf\xe9"\n'})
    with pytest.raises(ConfigError) as info:
        load(site)
    assert (
        str(info.value)
        == "assetbuild.toml:1:19: invalid UTF-8 byte 0xe9; config files must be UTF-8"
    )


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("js/main.js", None),
        ("main.css", None),
        ("a/b/c.min.js", None),
        ("js/v2/main.js", None),
        ("js/03/main.js", None),  # not a version name ("03" has a leading zero)
        ("../x.js", "no .. segments"),
        ("js/../x.js", "no .. segments"),
        ("js/..", "no .. segments"),
        ("/abs/x.js", "not absolute"),
        ("C:/x.js", "not absolute"),
        ("js\\main.js", "backslash"),
        ("js/", "names a directory"),
        ("js/main", "not none"),
        ("js/main.JS", "not .JS"),
        ("js/main.mjs", "not .mjs"),
        ("js/0/main.js", 'directory "0" is a version directory name'),
        ("12/x/main.js", 'directory "12" is a version directory name'),
        ("js/.assetbuild-tmp-1/main.js", "prefix of assetbuild's temporary files"),
        ("js/a\0.js", "NUL"),
    ],
)
def test_output_problem(output: str, problem: str | None) -> None:
    found = output_problem(output)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("js/main.js", None),
        ("img/logo.png", None),  # the install takes any kind of file
        ("./js/main.js", "not normalised"),
        ("js//main.js", "not normalised"),
        ("js/../x.js", "no .. segments"),
        ("", "names a directory"),
        ("js/3/main.js", "version directory name"),
    ],
)
def test_names_handed_to_the_install_follow_the_same_rule(name: str, problem: str | None) -> None:
    found = output_problem(name, normalised=True, any_kind=True)
    assert found is None if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("raw", "norm"), [("./js//main.js", "js/main.js"), ("a/./b.css", "a/b.css"), ("x.js", "x.js")]
)
def test_normalise_output(raw: str, norm: str) -> None:
    assert normalise_output(raw) == norm


@pytest.mark.parametrize(
    ("output", "area"), [("js/main.js", "js"), ("main.js", ""), ("a/b/c.css", "a/b")]
)
def test_area(output: str, area: str) -> None:
    assert BundleSpec(output, "js", ("x",)).area == area


# --- overrides -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "env", "cli", "expected"),
    [
        (None, None, None, None),
        ("/file", None, None, "/file"),
        ("/file", "/env", None, "/env"),
        ("/file", "/env", "/cli", "/cli"),
        (None, "/env", None, "/env"),
        (None, None, "/cli", "/cli"),
        ("/file", "", None, "/file"),  # an empty variable counts as unset
        ("/file", None, "", ""),  # an explicit empty flag is a value
    ],
)
def test_static_url_precedence(
    make_site: SiteFactory, file: str | None, env: str | None, cli: str | None, expected: str | None
) -> None:
    text = (f'static_url = "{file}"\n' if file is not None else "") + MINIMAL
    site = make_site({}, text)
    environ = {} if env is None else {"ASSETBUILD_STATIC_URL": env}
    config = load(site, environ=environ, overrides=Overrides(static_url=cli))
    assert config.static_url == expected
    assert config.tokens[0] == ("static", expected)


def test_token_overrides(make_site: SiteFactory) -> None:
    site = make_site({}, '[tokens]\na = "1"\nb = "2"\n' + MINIMAL)
    config = load(site, overrides=Overrides(tokens=(("b", "B"), ("c", "C"), ("static", "/s"))))
    assert config.tokens == (("static", "/s"), ("a", "1"), ("b", "B"), ("c", "C"))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (Overrides(tokens=(("a-b", "x"),)), '--token a-b=x: "a-b" is not a token name'),
        (Overrides(tokens=(("", "x"),)), '--token =x: "" is not a token name'),
        (
            Overrides(static_url="/a", tokens=(("static", "/b"),)),
            "--token static=... and --static-url disagree",
        ),
        (Overrides(compress=("zip",)), '--compress: unknown method zip; expected "gzip" or "br"'),
    ],
)
def test_override_errors(make_site: SiteFactory, overrides: Overrides, expected: str) -> None:
    site = make_site({}, MINIMAL)
    assert any(m.startswith(expected) for m in errors_of(site, overrides=overrides))


@pytest.mark.parametrize(
    ("file", "cli", "expected"),
    [(None, None, False), (True, None, True), (True, False, False), (None, True, True)],
)
def test_strict_tokens_override(
    make_site: SiteFactory, file: bool | None, cli: bool | None, expected: bool
) -> None:
    text = (f"strict_tokens = {str(file).lower()}\n" if file is not None else "") + MINIMAL
    config = load(make_site({}, text), overrides=Overrides(strict_tokens=cli))
    assert config.strict_tokens is expected


@pytest.mark.parametrize(
    ("cli", "expected"), [(None, ("gzip",)), ((), ()), (("br", "gzip"), ("gzip", "br"))]
)
def test_compress_override(
    make_site: SiteFactory, cli: tuple[str, ...] | None, expected: tuple[str, ...]
) -> None:
    config = load(
        make_site({}, 'compress = ["gzip"]\n' + MINIMAL), overrides=Overrides(compress=cli)
    )
    assert config.compress == expected


def test_environ_defaults_to_os_environ(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETBUILD_STATIC_URL", "/from-env")
    assert load_config(make_site({}, MINIMAL)).static_url == "/from-env"


# --- zero-config -----------------------------------------------------------------------


def test_zero_config_discovery(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/source/a.js": "",
            "js/source/b.css": "",
            "css/source/site.css": "",
            "css/source/notes.txt": "",
            "B/source/x.js": "",  # "B" sorts before "a" .. "z" in byte order
            "img/source/logo.png": "",  # no js or css: no bundle
            "tmp/source/.hidden.js": "",  # hidden files do not count
            "tmp/source/backup.js~": "",
            "deep/x/source/y.js": "",  # only direct children of the root are areas
            ".git/source/z.js": "",  # hidden areas are skipped
        }
    )
    config = load(site)
    assert config.zero_config
    assert config.config_path is None
    assert config.root == site.resolve()
    assert config.base_dir == site
    assert [(b.output, b.kind, b.sources) for b in config.bundles] == [
        ("B/main.js", "js", ("B/source/*.js",)),
        ("css/main.css", "css", ("css/source/*.css",)),
        ("js/main.js", "js", ("js/source/*.js",)),
        ("js/main.css", "css", ("js/source/*.css",)),
    ]
    assert config.manifest_path == site.resolve() / "manifest.json"
    assert config.tokens == (("static", None),)


def test_zero_config_applies_overrides(make_site: SiteFactory) -> None:
    site = make_site({"js/source/a.js": ""})
    config = load(
        site, environ={"ASSETBUILD_STATIC_URL": "/e"}, overrides=Overrides(tokens=(("v", "1"),))
    )
    assert config.tokens == (("static", "/e"), ("v", "1"))


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"js/source/.a.js": ""},
        {"js/source/readme.txt": ""},
        {"source/a.js": ""},
        {"js/src/a.js": ""},
    ],
)
def test_zero_config_nothing_found(make_site: SiteFactory, files: dict[str, str]) -> None:
    site = make_site(files)
    (message,) = errors_of(site)
    assert "no assetbuild.toml (or pyproject.toml with [tool.assetbuild])" in message
    assert f"no <area>/source/ directory with .js or .css files in {site}" in message
    assert "[[bundle]]" in message


# --- failure scenarios (fixtures/bad/<name>/expected.txt) ------------------------------

BAD_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "bad"


def run_scenario(site: Path) -> tuple[int, list[str]]:
    """Load, collect, read and substitute like a build; the exit code and first diagnostic lines."""
    diags: list[Diagnostic] = []
    try:
        config = load_config(site, environ={})
        for spec in config.bundles:
            for path in collect(config.root, spec, allow_outside=config.allow_symlinks_outside):
                src = read_source(path, display_path(path, site))
                _, found = substitute(src, dict(config.tokens), strict=config.strict_tokens)
                diags.extend(d for d in found if d.is_error)
    except AssetbuildError as exc:
        return exc.exit_code, [d.format().splitlines()[0] for d in exc.diagnostics]
    return (1 if diags else 0), [d.format().splitlines()[0] for d in diags]


@pytest.mark.parametrize("name", sorted(p.name for p in BAD_DIR.iterdir() if p.is_dir()))
def test_bad_scenarios(name: str, tmp_path: Path) -> None:
    site = tmp_path / name
    shutil.copytree(BAD_DIR / name, site, symlinks=True)
    exit_code, lines = run_scenario(site)
    expected = (BAD_DIR / name / "expected.txt").read_text("utf-8").splitlines()
    assert [
        f"exit {exit_code}",
        *(line.replace(str(tmp_path), "<tmp>") for line in lines),
    ] == expected


@pytest.mark.parametrize(
    ("environ", "overrides", "expected"),
    [
        ({}, Overrides(tokens=(("cdn", "\udcff"),)), r"--token: the value holds bytes that are not UTF-8 text: cdn=\xff"),
        ({}, Overrides(static_url="/s\udcfe"), r"--static-url: the value holds bytes that are not UTF-8 text: /s\xfe"),
        ({"ASSETBUILD_STATIC_URL": "\udce9"}, Overrides(), r"ASSETBUILD_STATIC_URL: the value holds bytes that are not UTF-8 text: \xe9"),
    ],
)  # fmt: skip
def test_undecodable_command_line_and_environment_values_are_config_errors(
    make_site: SiteFactory, environ: dict[str, str], overrides: Overrides, expected: str
) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which no bundle can hold."""
    site = make_site({}, MINIMAL)
    with pytest.raises(ConfigError) as info:
        load(site, environ=environ, overrides=overrides)
    assert [d.message for d in info.value.diagnostics] == [expected]
