"""Token substitution: `{$name}` and `<$name>` replaced by configured values, in one pass.

Decisions worth knowing:
- Only declared names are replaced (`static` is always declared); a value is inserted without its
  trailing "/" so `{$static}/img/a.png` never produces `//`, and it is never scanned again.
- An undeclared `{$name}` is left as is with a warning (an error under strict). An undeclared
  `<$name>` is left silently: `a<$b>c` is an ordinary comparison in JavaScript.
- One diagnostic per token name and file, at its first occurrence, counting the others, so a
  vendor file with thousands of `{$x}` does not flood the output.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from assetbuild.diagnostics import Diagnostic, Severity
from assetbuild.sources import Edit, SourceFile

# Linear: a failed attempt scans one identifier at most, and starts only at "{$" or "<$".
_TOKEN = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}|<\$([A-Za-z_][A-Za-z0-9_]*)>")


def substitute(
    src: SourceFile,
    values: Mapping[str, str | None],
    *,
    strict: bool = False,
    check_only: bool = False,
) -> tuple[SourceFile, tuple[Diagnostic, ...]]:
    """Replace declared tokens in `src.text`; return the new file (edits mapped to the original) and diagnostics."""
    text = src.text
    pieces: list[str] = []
    edits: list[Edit] = []
    found: dict[tuple[str, str], list[int]] = {}  # (problem, token as written) -> offsets
    pos = 0
    new_len = 0
    for match in _TOKEN.finditer(text):
        curly = match.group(1) is not None
        name = match.group(1) if curly else match.group(2)
        written = match.group(0)
        if name not in values:
            if curly:
                found.setdefault(("unknown", written), []).append(match.start())
            continue
        value = values[name]
        if value is None:
            found.setdefault(("novalue", written), []).append(match.start())
            continue
        value = value.rstrip("/")
        pieces.append(text[pos : match.start()])
        new_len += match.start() - pos
        pieces.append(value)
        edits.append(Edit(new_len, new_len + len(value), match.start(), match.end()))
        new_len += len(value)
        pos = match.end()
    diagnostics = tuple(
        _diagnostic(src, problem, written, offsets, values, strict, check_only)
        for (problem, written), offsets in sorted(found.items(), key=lambda item: item[1][0])
    )
    if not edits:
        return src, diagnostics
    pieces.append(text[pos:])
    new = SourceFile(
        src.path, src.display, src.original, "".join(pieces), _compose(edits, src.edits)
    )
    return new, diagnostics


def _diagnostic(
    src: SourceFile,
    problem: str,
    written: str,
    offsets: list[int],
    values: Mapping[str, str | None],
    strict: bool,
    check_only: bool,
) -> Diagnostic:
    name = written[2:-1]
    more = f" ({len(offsets)} occurrences in this file)" if len(offsets) > 1 else ""
    if problem == "novalue":
        if name == "static":
            how = "set static_url in assetbuild.toml, pass --static-url or ASSETBUILD_STATIC_URL"
        else:
            how = f"set it in [tokens] in assetbuild.toml or pass --token {name}=VALUE"
        severity: Severity = "warning" if check_only else "error"
        message = f"token {written} has no value{more}; {how}"
        return src.diagnostic(severity, message, offsets[0], code="token-no-value", subject=written)
    close = difflib.get_close_matches(name, list(values), n=1)
    hint = f" (did you mean {written[:2]}{close[0]}{written[-1]}?)" if close else ""
    if strict:
        message = f"unknown token {written}{hint}{more}; declare it in [tokens] or remove it"
        return src.diagnostic("error", message, offsets[0])
    message = f"unknown token {written} left as is{hint}{more}"
    return src.diagnostic("warning", message, offsets[0], code="unknown-token", subject=written)


def _compose(outer: Sequence[Edit], inner: Sequence[Edit]) -> tuple[Edit, ...]:
    """Chain edits new->old (`outer`) with old->original (`inner`) into new->original edits.

    Spans of both lists, in the old text's coordinates, that overlap are merged into one edit;
    outside the merged spans both mappings are plain shifts.
    """
    if not inner:
        return tuple(outer)
    spans = sorted(
        [(e.orig_start, e.orig_end, 0, e) for e in outer] + [(e.start, e.end, 1, e) for e in inner],
        key=lambda span: (span[0], span[1], span[2]),
    )
    result: list[Edit] = []
    to_new = 0  # new - old, after the last outer span so far
    to_orig = 0  # original - old, after the last inner span so far
    i = 0
    while i < len(spans):
        start, end = spans[i][0], spans[i][1]
        group_new, group_orig = to_new, to_orig
        j = i
        while j < len(spans) and (j == i or spans[j][0] < end):
            _, e, tag, edit = spans[j]
            end = max(end, e)
            if tag == 0:
                group_new = edit.end - edit.orig_end
            else:
                group_orig = edit.orig_end - edit.end
            j += 1
        result.append(Edit(start + to_new, end + group_new, start + to_orig, end + group_orig))
        to_new, to_orig = group_new, group_orig
        i = j
    return tuple(result)


# What `same_but_unset` tries for one token's value: where the text after it may begin again.
_MAX_VALUE = 4096
_MAX_TRIES = 8


def same_but_unset(built: bytes, installed: bytes, unset: Sequence[str]) -> bool:
    """Whether `installed` is `built` with some value in place of each token named in `unset`.

    A bundle built without a token's value keeps `{$name}` as written; `status` compares it with
    what was installed with a value it does not know. Each name stands for one value throughout
    (one line, at most 4 kB), everything else must be the same bytes. Linear in the sizes: each
    value is read where its first occurrence stands, trying the few places the text after it
    starts again.
    """
    names = "|".join(re.escape(name) for name in unset) or "(?!)"
    token = re.compile(rf"\{{\$({names})\}}|<\$({names})>".encode())
    return _solve(built, installed, token, {})


def _solve(
    built: bytes, installed: bytes, token: re.Pattern[bytes], values: dict[bytes, bytes]
) -> bool:
    text = token.sub(lambda m: values.get(m.group(1) or m.group(2), m.group(0)), built)
    match = next(
        (m for m in token.finditer(text) if (m.group(1) or m.group(2)) not in values), None
    )
    if match is None:
        return text == installed
    start = match.start()
    if text[:start] != installed[:start]:
        return False
    following = token.search(text, match.end())
    after = text[match.end() : following.start() if following else len(text)][:64]
    ends = []
    if not after:
        ends = [len(installed)] if following is None else []
    else:
        at = installed.find(after, start, start + _MAX_VALUE + len(after))
        while at >= 0 and len(ends) < _MAX_TRIES:
            ends.append(at)
            at = installed.find(after, at + 1, start + _MAX_VALUE + len(after))
    for end in ends:
        value = installed[start:end]
        if len(value) <= _MAX_VALUE and b"\n" not in value:
            name = match.group(1) or match.group(2)
            if _solve(built, installed, token, {**values, name: value}):
                return True
    return False
