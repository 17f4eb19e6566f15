"""atheris fuzzer: token substitution on arbitrary text and values.

Invariants: substitute never raises; its text equals an independent one-pass reference; every edit maps a
token of the original to its value; every diagnostic lies inside the file.
Run: .venv/bin/python fuzz/fuzz_tokens.py -max_total_time=150 -timeout=10 fuzz/corpus/tokens
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from assetbuild.diagnostics import line_col
    from assetbuild.sources import SourceFile
    from assetbuild.tokens import substitute

TOKEN = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}|<\$([A-Za-z_][A-Za-z0-9_]*)>")
NAMES = ("a", "b", "static", "x_1", "Z")
PIECES = (
    *(f"{{${n}}}" for n in NAMES),
    *(f"<${n}>" for n in NAMES),
    "{$",
    "<$",
    "}",
    ">",
    "{$unknown}",
    "<$nope>",
    "\n",
    "/",
    "$",
    "{",
    "<",
    "\r\n",
    "\u2028",
)


def reference(text: str, values: dict[str, str | None]) -> str:
    def one(m: re.Match[str]) -> str:
        value = values.get(m.group(1) or m.group(2))
        return m.group(0) if value is None else value.rstrip("/")

    return TOKEN.sub(one, text)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    values: dict[str, str | None] = {}
    for name in NAMES:
        if fdp.ConsumeBool():
            values[name] = (
                None if fdp.ConsumeIntInRange(0, 7) == 0 else fdp.ConsumeUnicodeNoSurrogates(8)
            )
    strict, check_only = fdp.ConsumeBool(), fdp.ConsumeBool()
    # Regex matching happens in C, invisible to coverage: build the text from token-shaped pieces.
    pieces: list[str] = []
    while fdp.remaining_bytes() > 0 and len(pieces) < 64:
        choice = fdp.ConsumeIntInRange(0, len(PIECES))
        pieces.append(PIECES[choice] if choice < len(PIECES) else fdp.ConsumeUnicodeNoSurrogates(4))
    text = "".join(pieces)
    src = SourceFile(Path("f.js"), "f.js", text, text)
    out, diags = substitute(src, values, strict=strict, check_only=check_only)
    assert out.original == text
    assert out.text == reference(text, values), (text, values)
    for edit in out.edits:
        token = TOKEN.fullmatch(text, edit.orig_start, edit.orig_end)
        assert token is not None
        value = values[token.group(1) or token.group(2)]
        assert value is not None and out.text[edit.start : edit.end] == value.rstrip("/")
    lines = text.count("\n") + 1
    for diag in diags:
        assert diag.location is not None and 1 <= diag.location.line <= lines
    for offset in (0, len(out.text) // 2, len(out.text)):
        assert out.line_col(offset) == line_col(text, out.original_offset(offset))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
