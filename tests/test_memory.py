"""Peak memory stays a small multiple of the input (issue 12, item 11).

Python's regular-expression engine keeps one backtracking record per iteration of a repeated group
(`(?:a|b)*`): over a 3 MB unterminated CSS string that was 373 MB for one `match`. Possessive
repeats (`*+`) keep none. The first test reads every pattern the package compiles and refuses an
unbounded, backtrackable repeat of anything wider than one character; the others measure the peak
of the Python heap (tracemalloc) on the hostile inputs that found it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import re._constants as sre_constants
import re._parser as sre_parser
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import assetbuild

_ONE_CHARACTER = (
    sre_constants.LITERAL,
    sre_constants.NOT_LITERAL,
    sre_constants.IN,
    sre_constants.ANY,
    sre_constants.CATEGORY,
)


def backtracking_repeats(pattern: str, flags: int = 0) -> list[str]:
    """The unbounded greedy or lazy repeats of more than one character in `pattern`."""

    def walk(items: Any) -> Iterator[str]:
        for op, av in items:
            if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                _, most, sub = av
                single = len(sub.data) == 1 and sub.data[0][0] in _ONE_CHARACTER
                if most == sre_constants.MAXREPEAT and not single:
                    yield str(sub)[:120]
                yield from walk(sub.data)
            elif op == sre_constants.POSSESSIVE_REPEAT:
                yield from walk(av[2].data)
            elif op == sre_constants.SUBPATTERN:
                yield from walk(av[-1].data)
            elif op == sre_constants.BRANCH:
                for branch in av[1]:
                    yield from walk(branch.data)
            elif op == sre_constants.ATOMIC_GROUP:
                yield from walk(av.data)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                yield from walk(av[1].data)

    return list(walk(sre_parser.parse(pattern, flags).data))


def package_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.walk_packages(assetbuild.__path__, "assetbuild."):
        if info.name.startswith("assetbuild.django"):
            continue  # needs Django settings; it compiles no pattern
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else [value]
            for item in values:
                if isinstance(item, re.Pattern) and isinstance(item.pattern, str):
                    found[f"{info.name}.{name}"] = item
    return found


def test_the_detector_sees_a_backtracking_repeat() -> None:
    assert backtracking_repeats(r'"(?:[^"\\]|\\.)*"')
    assert backtracking_repeats(r"(?:ab)+?c")
    assert not backtracking_repeats(r'"(?:[^"\\]|\\.)*+"')
    assert not backtracking_repeats(r"[a-z]*x+")


def test_no_pattern_of_the_package_backtracks_over_a_long_input() -> None:
    patterns = package_patterns()
    assert len(patterns) > 20  # the walk found the package's patterns
    bad = {
        name: found
        for name, p in patterns.items()
        if (found := backtracking_repeats(p.pattern, p.flags))
    }
    assert bad == {}


def peak_of(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SIZE = 1_000_000
HOSTILE_CSS = {
    "unterminated string": 'a{content:"' + "x" * SIZE + "\n}",
    "escapes in a string": 'a{content:"' + "\\x" * (SIZE // 2) + "\n}",
    "unquoted url": "a{background:url(" + "x" * SIZE + ")}",
    "unterminated url": "a{background:url(" + "x" * SIZE,
    "long at-rule name": "@" + "x" * SIZE + ";",
    "unterminated comment": "a{}/*" + "x" * SIZE,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CSS))
def test_checking_hostile_css_takes_a_small_multiple_of_its_size(tmp_path: Path, name: str) -> None:
    from assetbuild.css.check import check_css
    from assetbuild.sources import read_source

    path = tmp_path / "a.css"
    path.write_text(HOSTILE_CSS[name], encoding="utf-8")
    src = read_source(path, "a.css")
    peak = peak_of(lambda: check_css(src))
    assert peak < 20 * SIZE, f"{name}: {peak / 1e6:.0f} MB for {SIZE / 1e6:.0f} MB"


def test_rewriting_a_long_url_takes_a_small_multiple_of_its_size() -> None:
    from assetbuild.css.urls import _QUOTED, _UNQUOTED

    text = "url(" + "x" * SIZE + ")"
    assert peak_of(lambda: _UNQUOTED.match(text)) < SIZE
    quoted = '"' + "x" * SIZE + '"'
    assert peak_of(lambda: _QUOTED['"'].match(quoted)) < SIZE


def test_reading_a_long_php_string_takes_a_small_multiple_of_its_size() -> None:
    from assetbuild.manifest import _PHP_STRING

    text = "'" + "x" * SIZE + "'"
    assert peak_of(lambda: _PHP_STRING.match(text)) < SIZE
