"""The CSS value check: values against their properties' grammars (css-tree's lexer in V8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css import values
from assetbuild.css.check import check_css
from assetbuild.js import engine
from assetbuild.sources import SourceFile
from tests.test_cli import run, write

pytestmark = pytest.mark.skipif(not values.available(), reason="needs the V8 engine (mini-racer)")


def source(text: str) -> SourceFile:
    return SourceFile(Path("a.css"), "a.css", text, text)


def value_reports(text: str, strict: bool = False) -> list[tuple[int, int, str, str]]:
    found = check_css(source(text), strict=strict).diagnostics
    return [
        (d.location.line, d.location.column, d.severity, d.message)
        for d in found
        if d.code == values.CODE and d.location is not None
    ]


def test_a_value_that_does_not_fit_is_reported_where_it_goes_wrong() -> None:
    text = (
        ".a {\n  padding: auto;\n  color: red blue;\n  margin: 1px 2px 3px 4px 5px !important;\n}\n"
    )
    assert value_reports(text) == [
        (
            2,
            12,
            "warning",
            "invalid value: 'padding: auto' does not fit the property's grammar "
            "<'padding-top'>{1,4}; browsers drop this declaration",
        ),
        (
            3,
            14,
            "warning",
            "invalid value: 'blue' in 'color: red blue' does not fit the property's grammar "
            "<color>; browsers drop this declaration",
        ),
        (
            4,
            27,
            "warning",
            "invalid value: '5px' in 'margin: 1px 2px 3px 4px 5px' does not fit the property's "
            "grammar <'margin-top'>{1,4}; browsers drop this declaration",
        ),
    ]
    assert [r[2] for r in value_reports(text, strict=True)] == ["error"] * 3
    shown = check_css(source(text)).diagnostics[0].format().splitlines()
    assert shown[0].endswith("[css-value]") and shown[1:] == [
        "      padding: auto;",
        "               ^",
    ]


@pytest.mark.parametrize(
    "declaration",
    [
        "width: calc(100% - 1px) !important",
        "--x: anything at all",
        "-webkit-box-flex: 1",
        "display: -webkit-box",
        "color: var(--x) blue",
        "width: env(safe-area-inset-left)",
        "*zoom: 1",
        "_height: 1px",
        "filter: progid:DXImageTransform.Microsoft.gradient(startColorstr='#80000000')",
        "width: expression(document.body.clientWidth > 800 ? '800px' : 'auto')",
        "no-such-property: 1",
        "font: 12px/1.5 'Helvetica Neue', Arial",
        "transition: opacity .15s linear",
        "COLOR: RED",
    ],
)
def test_what_the_grammars_cannot_know_is_left_alone(declaration: str) -> None:
    assert value_reports(f".a {{ {declaration}; }}\n") == []


def test_descriptors_are_not_properties() -> None:
    text = '@font-face { font-weight: 100 900; src: url(a.woff2) format("woff2"); }\n'
    assert value_reports(text) == []
    assert len(value_reports("@media (min-width: 1px) { .a { display: flexx } }\n")) == 1


def test_one_engine_call_per_stylesheet(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = engine.call_extension

    def counted(name: str, scripts: object, argument: str) -> str | None:
        calls.append(argument)
        return real(name, scripts, argument)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "call_extension", counted)
    values.forget()
    text = "".join(f".a{i} {{ padding: {i}px; display: flexx; }}\n" for i in range(200))
    assert len(value_reports(text)) == 50  # reports are capped per file
    assert len(calls) == 1
    # Each distinct pair is asked once: 200 paddings and one `display: flexx`.
    assert len(json.loads(calls[0])) == 201
    monkeypatch.setattr(engine, "call_extension", lambda *a: None)  # the engine could not answer
    assert value_reports(text.replace("px", "em")) == []


def test_pairs_judged_before_are_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[list[str]]] = []
    real = engine.call_extension

    def counted(name: str, scripts: object, argument: str) -> str | None:
        calls.append(json.loads(argument))
        return real(name, scripts, argument)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "call_extension", counted)
    values.forget()
    first = ".a { color: red blue; margin: 0 }\n"
    second = ".b {\n  margin: 0;\n  color: red blue;\n  width: autox;\n}\n"
    assert len(value_reports(first)) == 1
    found = value_reports(second)
    assert calls == [[["color", "red blue"], ["margin", "0"]], [["width", "autox"]]]
    # Reported as a fresh process reports them: at this file's own lines and columns.
    values.forget()
    assert found == value_reports(second)
    assert [(line, column) for line, column, _, _ in found] == [(3, 14), (4, 10)]
    # When every pair is known, the engine is not called at all.
    assert value_reports(second) == found and len(calls) == 3


def test_a_long_value_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    values.forget()
    long = "url(data:image/png;base64," + "A" * 2000 + ")"
    assert value_reports(f".a {{ background: {long} red; color: red }}\n") == []
    assert ("color", "red") in values._ANSWERS
    assert not any(len(value) > 512 for _, value in values._ANSWERS)


def test_without_the_engine_nothing_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETBUILD_ENGINE", "esprima")
    assert not values.available()
    assert value_reports(".a { padding: auto }\n") == []


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["0", "1px", "2em", "3%", "auto", "4rem"]), min_size=1, max_size=6),
    st.sampled_from(["", "/* 😀 */ "]),
)
def test_margin_values_are_judged_by_their_count(parts: list[str], prefix: str) -> None:
    text = f".a {{ margin: {prefix}{' '.join(parts)}; }}\n"
    found = value_reports(text)
    if len(parts) <= 4:
        assert found == []
    else:
        assert len(found) == 1
        line, column, _, message = found[0]
        assert line == 1 and f"'{parts[4]}' in 'margin:" in message
        # The caret is at the fifth value, in characters of the line (not UTF-16 units).
        assert text[column - 1 :].startswith(parts[4])


def test_cli_reports_values_warns_by_default_fails_with_strict(tmp_path: Path) -> None:
    write(tmp_path / "css" / "source" / "a.css", ".a {\n  display: flexx;\n}\n")
    result = run("install", "--static-url", "/s", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "css/source/a.css:2:12: warning: invalid value: 'display: flexx' does not fit the "
        "property's grammar [ <display-outside> || <display-inside> ] | <display-list...; browsers drop "
        "this declaration [css-value]"
    )
    strict = run("check", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert "css/source/a.css:2:12: error: invalid value: 'display: flexx'" in strict.stderr


def test_cli_without_the_engine_says_so_once(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write(tmp_path / "css" / "source" / f"{name}.css", ".a {\n  display: flexx;\n}\n")
    result = run("check", cwd=tmp_path, env={"ASSETBUILD_ENGINE": "esprima"})
    assert result.returncode == 0, result.stderr
    assert "invalid value" not in result.stderr
    assert result.stderr.count("CSS values are not checked") == 1
    assert "[css-value-unchecked]" in result.stderr


def test_cli_reports_a_repeated_value_in_every_file_at_its_own_place(tmp_path: Path) -> None:
    """The second file's pairs come from the first file's answers: each is still reported."""
    write(tmp_path / "css" / "source" / "a.css", ".a {\n  display: flexx;\n  color: red;\n}\n")
    write(tmp_path / "css" / "source" / "b.css", "\n.b { color: red; display: flexx }\n")
    result = run("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = [
        line.split(": warning: ")[0] for line in result.stderr.splitlines() if "[css-value]" in line
    ]
    assert found == ["css/source/a.css:2:12", "css/source/b.css:2:27"]
