"""Declarations whose value cannot parse for their property: browsers drop them.

The grammars are css-tree's (vendored: `vendor/csstree.js`, MIT), the ones stylelint uses, matched
by its lexer in the V8 engine that checks JavaScript (`js/engine.py`; `values.js` is the JavaScript
side): one call per stylesheet, never per declaration, and only for the (property, value) pairs this
process has not judged yet: the lexer's answer depends on nothing else, and most declarations repeat
across a site's files (the bench corpus: 17,180 asked, 5,859 distinct; 200 calls of 0.72 s CPU
became 0.1-0.2 s). Only what the grammars can decide is asked:
never custom properties, vendor-prefixed properties or values, values holding `var()`, `env()`,
`attr()` (their value is known only in the browser), escapes (the `\\9` hack), old Internet
Explorer's `expression()` and `progid:`; the lexer itself leaves alone properties it does not know.
Without the engine (an esprima-only install, `ASSETBUILD_ENGINE=esprima`) nothing is checked here,
and the build says so once (`css-value-unchecked`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Sequence
from importlib import resources

from assetbuild.diagnostics import Diagnostic, Severity
from assetbuild.sources import SourceFile

CODE = "css-value"
UNCHECKED = "css-value-unchecked"
_MAX_REPORTS = 50  # per file, as for the rule check
_PROPERTY = re.compile(r"[a-z][a-z-]*")
# Values only a browser can decide, or written for browsers of another age or engine.
_UNDECIDABLE = re.compile(
    r"var\(|env\(|attr\(|expression\(|progid:|\\|\{\$|<\$|(?<![\w-])-(?:webkit|moz|ms|o|khtml)-",
    re.IGNORECASE,
)
# A declaration: (property as written, start and end of its value in the file's text; the end
# excludes `!important` and the `;`).
Declaration = tuple[str, int, int]
# A mismatch as the engine reports it: (syntax, offset, length) in UTF-16 units; None: it fits.
Answer = tuple[str, int, int] | None
# The engine's answers for pairs already asked, in this process: bounded in entries and in the
# length of a value remembered (a long `data:` value is asked again rather than kept).
_ANSWERS: dict[tuple[str, str], Answer] = {}
_ANSWERS_MAX = 65_536
_ANSWER_VALUE_MAX = 512
_ANSWERS_LOCK = threading.Lock()


def available() -> bool:
    """Whether values can be checked here: the engine is installed and not turned off."""
    if os.environ.get("ASSETBUILD_ENGINE", "auto").strip().lower() == "esprima":
        return False
    from assetbuild.js import engine

    return engine.available()


def value_diagnostics(
    src: SourceFile, declarations: Sequence[Declaration], severity: Severity
) -> list[Diagnostic]:
    """A warning (an error when `severity` says so) per value that does not fit its property."""
    asked: list[tuple[str, str, int]] = []
    for name, start, end in declarations:
        prop = name.lower()
        value = src.text[start:end].rstrip()
        if _PROPERTY.fullmatch(prop) and value and not _UNDECIDABLE.search(value):
            asked.append((prop, value, start))
    if not asked or not available():
        return []
    answers = _answers([(prop, value) for prop, value, _ in asked])
    if answers is None:
        return []  # the engine could not answer (time, memory): nothing is claimed
    from assetbuild.js import engine

    found: list[Diagnostic] = []
    for (prop, value, start), mismatch in zip(asked, answers, strict=True):
        if mismatch is None or len(found) >= _MAX_REPORTS:
            continue
        syntax, at, length = mismatch
        index = engine.code_point_offset(value, at)
        bad = value[index : engine.code_point_offset(value, at + length)] if length > 0 else ""
        what = f"'{_short(bad)}' in " if bad and bad != value else ""
        message = (
            f"invalid value: {what}'{prop}: {_short(value)}' does not fit the property's grammar "
            f"{_short(syntax, 60)}; browsers drop this declaration"
        )
        found.append(src.diagnostic(severity, message, start + index, code=CODE))
    return found


def _answers(pairs: Sequence[tuple[str, str]]) -> list[Answer] | None:
    """The engine's answer for each pair: the new ones (each once) in one call; None when it
    could not answer them."""
    with _ANSWERS_LOCK:
        known = {pair: _ANSWERS[pair] for pair in pairs if pair in _ANSWERS}
    new = [pair for pair in dict.fromkeys(pairs) if pair not in known]
    if new:
        from assetbuild.js import engine

        payload = json.dumps([[prop, value] for prop, value in new])
        answer = engine.call_extension("css-values", _scripts, payload)
        if answer is None:
            return None
        found = [_answer(item) for item in json.loads(answer)]
        if len(found) != len(new):
            return None  # not the harness's answer: nothing is claimed
        known.update(zip(new, found, strict=True))
        with _ANSWERS_LOCK:
            if len(_ANSWERS) + len(new) > _ANSWERS_MAX:
                _ANSWERS.clear()
            for pair, item in zip(new, found, strict=True):
                if len(pair[1]) <= _ANSWER_VALUE_MAX:
                    _ANSWERS[pair] = item
    return [known[pair] for pair in pairs]


def _answer(item: object) -> Answer:
    """One pair's answer as the harness writes it: null, or [syntax, offset, length]."""
    if not isinstance(item, list) or len(item) != 3:
        return None
    return str(item[0]), int(item[1]), int(item[2])


def forget() -> None:
    """Drop the remembered answers (tests: a fresh process's behaviour)."""
    with _ANSWERS_LOCK:
        _ANSWERS.clear()


@functools.cache
def _scripts() -> tuple[str, str]:
    vendor = resources.files("assetbuild.css.vendor").joinpath("csstree.js").read_text("utf-8")
    harness = resources.files("assetbuild.css").joinpath("values.js").read_text("utf-8")
    return vendor, harness


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
