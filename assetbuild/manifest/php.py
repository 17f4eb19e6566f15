"""The PHP manifest assetbuild writes, read back without evaluating it (a remote `manifest.php`
decides the next install): the one shape `render_php` writes, everything else a ValueError."""

from __future__ import annotations

import re
from typing import Any

# The PHP assetbuild writes, read back (a remote manifest.php decides the next install): one
# `return` of nested arrays of single-quoted strings, integers, booleans and null. Nothing else
# is accepted; a token that is not one of these is a ValueError, never evaluated.
_PHP_TOKEN = re.compile(
    r"\s*+(?:(?P<str>'(?:[^'\\]|\\.)*+')|(?P<int>-?[0-9]++)|(?P<word>[a-z]++)"
    r"|(?P<punct>=>|[\[\],;]))",
    re.DOTALL,
)
_PHP_WORDS = {"true": True, "false": False, "null": None}
_PHP_MAX_DEPTH = 32
_PHP_HEAD = re.compile(r"<\?php\s++(?://[^\n]*+\n\s*+)*+return\b")


def parse_php(raw: bytes) -> Any:
    """The value a PHP manifest written by `render_php` returns; ValueError for anything else.

    `[]` reads as an empty mapping (the writer writes `{}` and `[]` alike).
    """
    text = raw.decode("utf-8")
    head = _PHP_HEAD.match(text)
    if head is None:
        raise ValueError("not a PHP manifest written by assetbuild (no `<?php ... return`)")
    reader = _PhpReader(text, head.end())
    value = reader.value(0)
    if reader.take() != ("punct", ";") or reader.take() != ("end", ""):
        raise ValueError("the PHP manifest does not end with `;` after its array")
    return value


class _PhpReader:
    """Tokens of the PHP manifest, one at a time (never all at once: the file may be 64 MB)."""

    def __init__(self, text: str, pos: int) -> None:
        self.text, self.pos = text, pos
        self.ahead: tuple[str, str] | None = None

    def take(self) -> tuple[str, str]:
        if self.ahead is not None:
            token, self.ahead = self.ahead, None
            return token
        match = _PHP_TOKEN.match(self.text, self.pos)
        if match is None:
            if not self.text[self.pos :].strip():
                self.pos = len(self.text)
                return "end", ""
            raise ValueError(f"unexpected text at offset {self.pos} of the PHP manifest")
        self.pos = match.end()
        kind = match.lastgroup
        assert kind is not None
        return kind, match.group(kind)

    def value(self, depth: int) -> Any:
        kind, text = self.take()
        if kind == "str":
            return re.sub(r"\\([\\'])", r"\1", text[1:-1])
        if kind == "int":
            return int(text)
        if kind == "word" and text in _PHP_WORDS:
            return _PHP_WORDS[text]
        if (kind, text) != ("punct", "["):
            raise ValueError(f"unexpected {text or 'end'!r} in the PHP manifest")
        if depth >= _PHP_MAX_DEPTH:
            raise ValueError("the PHP manifest nests deeper than any manifest assetbuild writes")
        keyed: dict[Any, Any] = {}
        listed: list[Any] = []
        while True:
            token = self.take()
            if token == ("punct", "]"):
                break
            self.ahead = token
            item = self.value(depth + 1)
            token = self.take()
            if token == ("punct", "=>"):
                if listed or not isinstance(item, str | int) or isinstance(item, bool):
                    raise ValueError("a PHP manifest array mixes keys and plain items")
                keyed[item] = self.value(depth + 1)
                token = self.take()
            elif keyed:
                raise ValueError("a PHP manifest array mixes keys and plain items")
            else:
                listed.append(item)
            if token == ("punct", "]"):
                break
            if token != ("punct", ","):
                raise ValueError(f"expected `,` or `]` in the PHP manifest, not {token[1]!r}")
        return listed if listed else keyed
