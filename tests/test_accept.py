"""Warnings known and accepted ([[accept]], issue 13): names, config errors, the library and the CLI."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetbuild.accept.entries import WARNINGS, Accept, parse_accept, partition
from assetbuild.diagnostics import Diagnostic, Location
from tests.test_cli import run, write

PACKAGE = Path(__file__).resolve().parent.parent / "assetbuild"


def test_every_warning_has_a_listed_name_and_every_name_is_given() -> None:
    text = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    given_names = set(re.findall(r'code="([a-z-]+)"', text))
    given_names |= set(re.findall(r'^_?[A-Z]+ = "([a-z]+(?:-[a-z]+)+)"', text, re.M))  # constants
    given_names |= set(re.findall(r'^\s+"(css-selector)",$', text, re.M))
    assert given_names and given_names <= set(WARNINGS)
    assert set(WARNINGS) == given_names, set(WARNINGS) - given_names


def test_a_warning_prints_its_name_and_json_gives_it() -> None:
    from assetbuild.report import diagnostic_json

    warning = Diagnostic(
        "warning", "unknown token {$e} left as is", Location("a.js", 1, 2), code="unknown-token"
    )
    assert warning.format().splitlines()[0] == (
        "a.js:1:2: warning: unknown token {$e} left as is [unknown-token]"
    )
    assert diagnostic_json(warning)["warning"] == "unknown-token"
    error = Diagnostic("error", "x", code="css-selector")  # --strict: an error, not a named warning
    assert error.format() == "error: x" and "warning" not in diagnostic_json(error)


TOML = """\
root = "static"

[[accept]]
warning = "unknown-tokn"
sources = ["../x/*.js"]

[[accept]]
warning = "use-strict"
token = "{$e}"
resons = "x"

[[accept]]
warning = "use-strict"
"""


def test_bad_entries_are_located_errors() -> None:
    import tomllib

    rules, problems = parse_accept(tomllib.loads(TOML)["accept"], TOML, "a.toml", "")
    assert rules == ()
    shown = [p.format() for p in problems]
    assert shown[0].startswith(
        'a.toml:4:11: error: accept[1].warning: no warning is named "unknown-tokn"; '
        'did you mean "unknown-token"?'
    )
    assert shown[0].splitlines()[1:] == ['    warning = "unknown-tokn"', "              ^"]
    assert shown[1].startswith("a.toml:5:11: error: accept[1].sources: expected a glob")
    assert shown[2].startswith(
        'a.toml:10:1: error: accept[2].resons: unknown key (did you mean "reason"?)'
    )
    assert shown[3].startswith(
        'a.toml:9:9: error: accept[2].token: "use-strict" is not about a token'
    )
    assert shown[4].startswith("a.toml:13:11: error: accept[3].warning: say where it is accepted")
    assert len(shown) == 5
    assert (
        parse_accept({"warning": "x"}, "accept = 1", "a.toml", "")[1][0]
        .format()
        .startswith("a.toml:1:1: error: accept: expected [[accept]] tables")
    )


def test_good_entries_parse() -> None:
    value = [
        {"warning": "unknown-token", "token": "{$e}", "sources": "js/vendor/*.js", "reason": "r"},
        {"warning": "use-strict", "sources": ["**"]},
    ]
    rules, problems = parse_accept(value, "", "a.toml", "")
    assert problems == []
    assert rules == (
        Accept("unknown-token", "{$e}", ("js/vendor/*.js",)),
        Accept("use-strict", None, ("**",)),
    )


def _unknown(path: str, token: str = "{$e}", severity: str = "warning") -> Diagnostic:
    return Diagnostic(
        severity,  # type: ignore[arg-type]
        f"unknown token {token}",
        Location(path, 1, 1),
        code="unknown-token",
        subject=token,
    )


def test_partition_by_name_token_and_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "static"
    vendor = _unknown("static/js/vendor/highlight.min.js")
    other_token = _unknown("static/js/vendor/highlight.min.js", "{$x}")
    app = _unknown("static/js/app.js")
    strict = _unknown("static/js/vendor/highlight.min.js", severity="error")
    diags = [vendor, other_token, app, strict]
    rule = Accept("unknown-token", "{$e}", ("js/vendor/highlight*.js",))
    assert partition(diags, [rule], root) == ((other_token, app, strict), (vendor,))
    everywhere = Accept("unknown-token", "{$e}")
    assert partition(diags, [everywhere], root) == ((other_token, strict), (vendor, app))
    assert partition(diags, [Accept("use-strict", None, ("**",))], root) == (tuple(diags), ())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.js", "js/v/a.js", "js/b.js"]),
            st.sampled_from(["{$e}", "{$f}"]),
            st.sampled_from(["warning", "error"]),
        ),
        max_size=12,
    ),
    st.lists(
        st.builds(
            Accept,
            st.sampled_from(["unknown-token", "use-strict"]),
            st.sampled_from([None, "{$e}"]),
            st.sampled_from([(), ("js/**",), ("*.js",)]),
        ),
        max_size=3,
    ),
)
def test_partition_keeps_every_diagnostic_and_accepts_only_warnings(
    items: list[tuple[str, str, str]], rules: list[Accept]
) -> None:
    diags = [_unknown(path, token, severity) for path, token, severity in items]
    shown, accepted = partition(diags, rules, Path("/nowhere"))
    assert sorted(map(repr, shown + accepted)) == sorted(map(repr, diags))
    assert all(d.severity == "warning" for d in accepted)
    if not rules:
        assert accepted == ()


def _site(tmp_path: Path, accept: str) -> Path:
    write(tmp_path / "static" / "js" / "vendor" / "highlight.min.js", 'var h = "${$e}";\n')
    write(tmp_path / "static" / "js" / "source" / "app.js", '"use strict";\nvar a = "{$e}";\n')
    write(
        tmp_path / "assetbuild.toml",
        'root = "static"\nstatic_url = "/static"\n\n[[bundle]]\noutput = "js/main.js"\n'
        'sources = ["js/vendor/*.js", "js/source/*.js"]\n' + accept,
    )
    return tmp_path


ACCEPT = """
[[accept]]
warning = "unknown-token"
token = "{$e}"
sources = "js/vendor/highlight*.js"
reason = "highlight.js's own template syntax"

[[accept]]
warning = "use-strict"
sources = "js/source/app.js"
"""


def test_cli_accepted_warnings_are_counted_never_printed(tmp_path: Path) -> None:
    site = _site(tmp_path, ACCEPT)
    first = run("install", cwd=site)
    assert first.returncode == 0, first.stderr
    assert "js/source/app.js:2:10: warning: unknown token {$e} left as is [unknown-token]" in (
        first.stderr
    )
    assert "highlight" not in first.stderr and "use strict" not in first.stderr
    assert first.stdout.splitlines()[-1] == "2 warnings accepted ([[accept]] in the config)"
    time.sleep(2.2)  # old enough stamps: the no-change answers come from the state, then the record
    for _ in range(2):
        again = run("install", cwd=site)
        assert again.returncode == 0 and "highlight" not in again.stderr
        assert "use strict" not in again.stderr and "[unknown-token]" in again.stderr
        assert again.stdout.splitlines()[-2:] == [
            "up to date",
            "2 warnings accepted ([[accept]] in the config)",
        ]
        quiet = run("install", "-q", cwd=site)
        assert quiet.stdout == "" and "highlight" not in quiet.stderr
    data = json.loads(run("install", "--json", cwd=site).stdout)
    assert data["accepted_warnings"] == {
        "count": 2,
        "by_warning": {"unknown-token": 1, "use-strict": 1},
    }
    assert [d["warning"] for d in data["diagnostics"]] == ["unknown-token"]
    checked = run("check", cwd=site)
    assert checked.stdout.splitlines()[-1].startswith("2 warnings accepted")


def test_cli_without_accept_every_warning_prints(tmp_path: Path) -> None:
    site = _site(tmp_path, "")
    result = run("install", cwd=site)
    assert result.returncode == 0, result.stderr
    assert "highlight.min.js:1:11: warning: unknown token {$e} left as is [unknown-token]" in (
        result.stderr
    )
    assert "[use-strict]" in result.stderr and "accepted" not in result.stdout


def test_cli_bad_accept_is_a_config_error(tmp_path: Path) -> None:
    site = _site(tmp_path, '\n[[accept]]\nwarning = "unknown-tokn"\ntoken = "{$e}"\n')
    result = run("install", cwd=site)
    assert result.returncode == 2
    assert result.stderr.startswith(
        'assetbuild.toml:9:11: error: accept[1].warning: no warning is named "unknown-tokn"; '
        'did you mean "unknown-token"?'
    )
    assert "Traceback" not in result.stderr and not (site / "static" / "js" / "1").exists()


_TOML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["unknown-token", "use-strict", "{$e}", "**", "../x", "/abs", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["warning", "token", "sources", "reason", "x"]), inner)
    ),
    max_leaves=12,
)


@given(_TOML_VALUES)
def test_any_accept_value_gives_entries_or_located_problems_never_an_exception(
    value: object,
) -> None:
    text = "[[accept]]\nwarning = 1\n"
    rules, problems = parse_accept(value, text, "a.toml", "")
    assert all(p.severity == "error" and p.location is not None for p in problems)
    assert all(r.warning in WARNINGS for r in rules)
    if value is not None and not problems:
        assert isinstance(value, list) and len(rules) == len(value)
