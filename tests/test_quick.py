"""The quick answer to a quiet no-change install: the same outcome as the click path, or no answer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assetbuild import quick
from assetbuild.cli import main

CONFIG = """\
static_url = "/static"

[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]
"""

FILES = {"js/source/a.js": "var a = 1;\n", "js/source/b.js": "var b = '{$undeclared}';\n"}


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["install"],  # not quiet: the summary table is click's
        ["-q", "install"],
        ["install", "-q", "--json"],
        ["install", "-q", "--bump"],
        ["install", "-q", "--no-cache"],
        ["install", "-q", "--dry-run"],
        ["install", "-q", "-C", "a", "-C", "b"],
        ["-C", "a", "install", "-q", "-C", "b"],
        ["install", "-q", "--token", "novalue"],
        ["install", "-q", "--token", "=x"],
        ["install", "-q", "--static-url"],
        ["install", "-q", "--static-url", "-q"],
        ["install", "-q", "--help"],
        ["check", "-q"],
        ["install", "install", "-q"],
        ["install", "-q", "--"],
    ],
)
def test_unusual_lines_get_no_answer(argv: list[str]) -> None:
    assert quick._parse(argv) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["install", "-q"], quick._Line(None, None, None, ())),
        (["install", "--quiet", "-Cdir"], quick._Line("dir", None, None, ())),
        (["-C", "d", "install", "-q", "--config=x.toml"], quick._Line("d", "x.toml", None, ())),
        (
            ["install", "-q", "--token", "a=1", "--token=b=", "--static-url=/s"],
            quick._Line(None, None, "/s", (("a", "1"), ("b", ""))),
        ),
    ],
)
def test_plain_lines_parse(argv: list[str], expected: quick._Line) -> None:
    assert quick._parse(argv) == expected


def _click(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv, prog_name="assetbuild")
    return int(exit_info.value.code or 0)


def test_answers_only_when_up_to_date_and_prints_what_click_prints(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(FILES, CONFIG)
    past = os.path.getmtime(site / "assetbuild.toml") - 60
    for path in [*site.rglob("*.js"), site / "assetbuild.toml"]:
        os.utime(path, (past, past))
    monkeypatch.chdir(site.parent)
    argv = ["-C", site.name, "install", "-q"]
    assert quick.answer(argv) is None  # nothing installed yet
    assert Path.cwd() == site.parent  # the directory is restored for click
    assert _click(argv) == 0
    monkeypatch.chdir(site.parent)
    clicked = capsys.readouterr()
    assert "undeclared" in clicked.err  # the token warning, printed again on every install
    assert quick.answer(argv) == 0
    answered = capsys.readouterr()
    assert (answered.out, answered.err) == ("", clicked.err)
    (site / "js/source/a.js").write_text("var a = 3;\n")
    monkeypatch.chdir(site.parent)
    assert quick.answer(argv) is None  # changed: the build decides
