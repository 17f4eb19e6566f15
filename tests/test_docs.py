"""The README documents every command, and every command has help text."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assetbuild.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            names.extend(_commands(command, f"{prefix}{name} "))
    return names


COMMANDS = _commands(main)


def test_there_are_commands() -> None:
    assert {"install", "check", "build", "status", "watch", "prune", "cache clear"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented_in_readme(command: str) -> None:
    assert f"assetbuild {command}" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 20


@pytest.mark.parametrize("code", ["0", "1", "2", "3"])
def test_exit_codes_are_documented(code: str) -> None:
    assert re.search(rf"^\| {code} \|", README, re.MULTILINE)


def test_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    assert "assetbuild -C fixtures/site/static install" in blocks[0]
    assert "python -m pytest" in blocks[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci
