"""CSS structure check, bundle-level at-rules, and "same stylesheet" verification.

The check scans the text once with the CSS Syntax rules for what can break a
stylesheet's structure (comments, strings, url(), escapes, brackets) and keeps
exact offsets, so every error is reported at the user's line and column, with
compiler-style recovery so one typo gives one error. A file whose tokens (`csstokens`,
shared with url rewriting and minification) close everything has nothing to report:
its top-level statements are read from the tokens instead. `same_stylesheet` compares
the stylesheets' facts; see `cssnorm` for which whitespace counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assetbuild.css.tokens import (
    _NAME_CHAR,  # [\w-] and non-ASCII
    _NAME_START,  # [A-Za-z_] and non-ASCII
    COMMENT,
    OPEN_CURLY,
    OPEN_FN,
    SEMI,
    Tokens,
    text_offsets,
    tokenize,
)
from assetbuild.css.walk import preprocess, stylesheet_key
from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.sources import SourceFile

# Statements that may precede @import (css-cascade: @charset, @import, @layer statements).
_PREFIX = frozenset({"charset", "import", "namespace", "layer"})
_CLOSER = {"{": "}", "[": "]", "(": ")"}
_OPENER = {v: k for k, v in _CLOSER.items()}
_WS = " \t\n\r\f"

_ESCAPE = r"\\(?:[0-9A-Fa-f]{1,6}(?:\r\n|[ \t\n\r\f])?|[^\n\r\f0-9A-Fa-f])"
# Classes written as the ASCII characters they exclude, like csstokens' name classes: with
# `\u0080-\U0010ffff` spelled out, Python's regex compiler takes milliseconds over each class
# (tens with IGNORECASE): 27 ms at every start of a process that checks CSS.
_BEFORE_NAME = (
    r"[^\x00-\x22\x24-\x2c\x2e\x2f\x3a-\x3f\x5b-\x5e\x60\x7b-\x7f]"  # [\w\-#@], non-ASCII
)
_BEFORE_NAME_OR_ESCAPE = (
    r"[^\x00-\x22\x24-\x2c\x2e\x2f\x3a-\x3f\x5b\x5d\x5e\x60\x7b-\x7f]"  # and \\
)
# Where the scan must look: comments, strings, brackets, statement ends, at-keywords,
# escapes, and function names that may spell `url(` (not `-url(`, `#url(`, `xurl(`).
# The escaped name is one atomic group, read greedily as CSS tokenizes it, and bounded: with
# backtracking `\41 \41 ...` took exponential time, and unbounded, every escape that ate a space
# starts a new search to the name's end (quadratic). A name of more units is never "url" anyway.
_INTERESTING = re.compile(
    rf"""/\*|(?:(?<!{_BEFORE_NAME_OR_ESCAPE})(?<!<!)|(?<=<!--)(?<!\\<!--))(?:url|(?>{_NAME_CHAR}{{0,32}}{_ESCAPE}(?:{_NAME_CHAR}|{_ESCAPE}){{0,32}}))\(|["'{{}}()\[\];@\\]""",
    re.IGNORECASE,
)
# Per file: one lost bracket in a large file can echo as thousands of errors, each holding its line.
_MAX_ERRORS = 100
_HEX_ESCAPE_BEFORE = re.compile(r"\\[0-9A-Fa-f]{1,6}(?:\r\n|[ \t\n\r\f])\Z")
_UNESCAPE = re.compile(_ESCAPE)
_STRING_BODY = {
    '"': re.compile(r'(?:[^"\\\n\r\f]|\\(?:\r\n|[\s\S]))*+'),
    "'": re.compile(r"(?:[^'\\\n\r\f]|\\(?:\r\n|[\s\S]))*+"),
}
_URL_BODY = re.compile(r"""(?:[^\s()"'\\\x00-\x08\x0b\x0e-\x1f\x7f]|\\(?:[^\n\r\f]|\Z))*+""")
_URL_REMNANT = re.compile(r"(?:[^)\\]|\\[\s\S])*+")
_AT_NAME = re.compile(rf"-?(?:{_NAME_START}|\\[^\n\r\f])(?:{_NAME_CHAR}|\\[^\n\r\f])*+")
_NON_WS = re.compile(r"[^ \t\n\r\f]")
_CDO_CDC = re.compile(r"<!--|-->")


@dataclass(frozen=True)
class AtRule:
    """A top-level statement at-rule (@charset, @import, @namespace, @layer without a block)."""

    name: str  # lower-case: "charset" | "import" | "namespace" | "layer"
    start: int  # offsets in report.text of the whole at-rule, through its ';'
    end: int
    location: Location
    before_rules: bool  # only other such statements, comments and whitespace precede it in its file
    prelude: str  # the text between the keyword and ';', stripped: '"UTF-8"' for @charset


@dataclass(frozen=True)
class CssReport:
    """What the check found in one file, and the facts `join_css` needs."""

    text: str
    diagnostics: tuple[Diagnostic, ...]
    at_rules: tuple[AtRule, ...]
    first_rule: int | None  # offset of the first statement that is not an AtRule above
    source: SourceFile

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def location_of_first_rule(self) -> Location | None:
        return None if self.first_rule is None else self.source.location(self.first_rule)


def check_css(src: SourceFile, *, strict: bool = False, rules: bool = True) -> CssReport:
    """Check the structure of one stylesheet: brackets, strings, comments, url().

    With `rules`, a sound structure is also read as browsers read it (`css/rules.py`): stray
    text between rules, missing semicolons, invalid selectors are warnings, errors if `strict`.
    """
    scan = _Scan(src)
    tokens = tokenize(preprocess(src.text))
    if tokens.clean and _read_alike(src.text, tokens):
        # Nothing the scan reports as an error or warning is in the text (every string, url(),
        # comment and bracket is closed): only its statements are needed, read from the tokens
        # the url rewriter and the minifier share (cssnorm, urls).
        scan.statements(tokens)
        if rules:
            from assetbuild.css.rules import rule_diagnostics

            scan.diagnostics.extend(rule_diagnostics(src, tokens, strict=strict))
    else:
        scan.run()
    return CssReport(src.text, tuple(scan.diagnostics), tuple(scan.at_rules), scan.first_rule, src)


class _Scan:
    """One pass over the text: bracket stack, errors, and top-level statements."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.text = src.text
        self.diagnostics: list[Diagnostic] = []
        self.at_rules: list[AtRule] = []
        self.first_rule: int | None = None
        self.stack: list[tuple[str, int]] = []  # (opener, offset)
        self.suspect_depth: int | None = None  # blocks open at the first lost-token error
        # The top-level statement being read: (start, at-rule name or None).
        self.statement: tuple[int, str | None] | None = None
        self.errors = 0
        self.stopped = False  # after _MAX_ERRORS errors: the rest is most likely their echo

    def error(self, message: str, offset: int, notes: tuple[Diagnostic, ...] = ()) -> None:
        if self.stopped:
            return
        self.diagnostics.append(self.src.diagnostic("error", message, offset, notes))
        self.errors += 1
        if self.errors >= _MAX_ERRORS:
            self.stopped = True
            self.diagnostics.append(
                self.src.diagnostic(
                    "warning",
                    f"stopped checking this file after {_MAX_ERRORS} errors",
                    offset,
                    code="too-many-errors",
                )
            )

    def lost_tokens(self, message: str, offset: int) -> None:
        """An error that may swallow a bracket: later "never closed" errors may be its echo."""
        self.error(message, offset)
        if self.suspect_depth is None:
            self.suspect_depth = len(self.stack)

    def run(self) -> None:
        text, pos, n = self.text, 0, len(self.text)
        while pos < n and not self.stopped:
            match = _INTERESTING.search(text, pos)
            if match is None:
                self.notice_start(pos, n)
                break
            start = match.start()
            token = match.group()
            self.notice_start(pos, start)
            if token not in ("/*", "@", ";") and token not in _OPENER:
                self.notice_start(start, start + 1)
            pos = self.step(token, start)
        self.finish()

    def statements(self, tokens: Tokens) -> None:
        """The top-level statements of a text whose tokens are clean, as `run` finds them."""
        codes, infos, jump, toks = tokens.codes, tokens.infos, tokens.jump, tokens.toks
        to_text = text_offsets(self.text)
        offset = 0  # of token i, in the preprocessed text
        i, n = 0, len(codes)
        while i < n:
            code = codes[i]
            if self.statement is None:
                if code <= COMMENT or code == SEMI or infos[i][4] in ("<!--", "-->"):
                    offset += len(toks[i])
                    i += 1
                    continue
                start = to_text(offset)
                name = _at_name(self.text, start + 1).lower() if toks[i][0] == "@" else None
                self.begin(start, name)
            if code == SEMI:
                self.end_statement(to_text(offset) + 1, with_block=False)
            elif code >= OPEN_FN:  # a block, skipped whole: inside it nothing starts or ends
                close = jump[i]
                offset += sum(map(len, toks[i:close]))
                if code == OPEN_CURLY:
                    self.end_statement(to_text(offset) + 1, with_block=True)
                i = close
            offset += len(toks[i])
            i += 1
        self.finish()

    def notice_start(self, pos: int, end: int) -> None:
        """Open a top-level statement at the first significant character in text[pos:end]."""
        if self.stack or self.statement is not None:
            return
        while pos < end:
            found = _NON_WS.search(self.text, pos, end)
            if found is None:
                return
            cdo = _CDO_CDC.match(self.text, found.start())
            if cdo is None:
                self.begin(found.start(), None)
                return
            pos = cdo.end()

    def begin(self, start: int, name: str | None) -> None:
        self.statement = (start, name)

    def end_statement(self, end: int, with_block: bool) -> None:
        if self.statement is None:
            return
        start, name = self.statement
        self.statement = None
        if name in _PREFIX and not with_block:
            keyword_end = start + 1 + len(_at_name(self.text, start + 1))
            prelude = self.text[keyword_end : end - 1].strip(_WS)
            self.at_rules.append(
                AtRule(
                    str(name),
                    start,
                    end,
                    self.src.location(start),
                    self.first_rule is None,
                    prelude,
                )
            )
        elif self.first_rule is None:
            self.first_rule = start

    def step(self, token: str, start: int) -> int:
        """Handle one interesting token at `start`; return where scanning resumes."""
        text = self.text
        if token == "/*":
            close = text.find("*/", start + 2)
            if close < 0:
                self.lost_tokens("unterminated comment: the file ends before its '*/'", start)
                return len(text)
            return close + 2
        if token in "\"'":
            return self.string(token, start)
        if token == "\\":
            # An escape (not a line continuation) makes the next character part of a name.
            if start + 1 < len(text) and text[start + 1] not in "\n\r\f":
                return start + 2
            return start + 1
        if token == "@":
            name = _at_name(text, start + 1)
            if not self.stack and self.statement is None:
                self.begin(start, name.lower())
            return start + 1 + len(name)
        if token == ";":
            if not self.stack:
                self.end_statement(start + 1, with_block=False)
            return start + 1
        if token.endswith("(") and len(token) > 1:
            return self.function(token, start)
        if token in _CLOSER:
            self.stack.append((token, start))
            return start + 1
        return self.closer(token, start)

    def string(self, quote: str, start: int) -> int:
        body = _STRING_BODY[quote].match(self.text, start + 1)
        end = body.end() if body else start + 1
        if end < len(self.text) and self.text[end] == quote:
            return end + 1
        if end >= len(self.text) or self.text[end] == "\\":
            self.lost_tokens(
                f"unterminated string: the file ends before its closing {quote}", start
            )
        else:
            self.lost_tokens(
                "unterminated string: a line break ends a quoted string "
                f"(close the {quote} on this line, or write a line break as \\A)",
                start,
            )
        return end

    def function(self, token: str, start: int) -> int:
        """`name(`: an unquoted url() is one token, any other function opens a bracket."""
        # `\\31 url(` is the function `1url(`: the escape ate the space.
        after_escape = _HEX_ESCAPE_BEFORE.search(self.text, max(0, start - 9), start)
        if _unescape(token[:-1]).lower() != "url" or after_escape:
            self.stack.append(("(", start + len(token) - 1))
            return start + len(token)
        return self.url(start, start + len(token))

    def url(self, start: int, pos: int) -> int:
        text, n = self.text, len(self.text)
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos < n and text[pos] in "\"'":
            # url("...") is a function holding a string: brackets and strings as usual.
            self.stack.append(("(", pos - 1))
            return pos
        body = _URL_BODY.match(text, pos)
        pos = body.end() if body else pos
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos < n and text[pos] == ")":
            return pos + 1
        if pos >= n:
            self.lost_tokens("unterminated url(: the file ends before its ')'", start)
            return n
        remnant = _URL_REMNANT.match(text, pos)
        end = remnant.end() if remnant else pos
        if end >= n or text[end] != ")":
            self.lost_tokens("unterminated url(: the file ends before its ')'", start)
            return n
        self.diagnostics.append(
            self.src.diagnostic(
                "warning",
                "invalid url(): an unquoted URL cannot contain spaces, quotes or '(' "
                "(browsers drop this declaration); put the URL in quotes",
                start,
                code="css-url",
            )
        )
        return end + 1

    def closer(self, token: str, start: int) -> int:
        opener = _OPENER[token]
        depth = next(
            (i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i][0] == opener), None
        )
        if depth is None:
            self.error(f"unexpected '{token}': no '{opener}' is open here", start)
            return start + 1
        for inner, offset in reversed(self.stack[depth + 1 :]):
            if self.stopped:
                break
            found_here = self.src.diagnostic("warning", f"'{token}' found here", start)
            self.error(
                f"unclosed '{inner}': '{token}' comes before its '{_CLOSER[inner]}'",
                offset,
                (found_here,),
            )
        del self.stack[depth:]
        if self.suspect_depth is not None and len(self.stack) < self.suspect_depth:
            self.suspect_depth = len(self.stack)
        if not self.stack and token == "}":
            # Only a `{}` block ends a statement: `@import url("a.css") layer(x);` goes on.
            self.end_statement(start + 1, with_block=True)
        return start + 1

    def finish(self) -> None:
        if self.stopped:
            return
        for depth, (opener, offset) in enumerate(self.stack):
            if self.suspect_depth is not None and depth < self.suspect_depth:
                continue  # most likely the echo of the earlier error inside it
            self.error(f"unclosed '{opener}': the file ends before its '{_CLOSER[opener]}'", offset)
        if self.statement is not None:
            start, name = self.statement
            if name in _PREFIX and not self.stack:
                # `@import "x.css"` at the very end, without ';', is still a statement.
                self.end_statement(len(self.text) + 1, with_block=False)
            elif self.first_rule is None:
                self.first_rule = start


def _read_alike(text: str, tokens: Tokens) -> bool:
    """Whether the scan reads the text's strings, url()s and brackets as the tokens do.

    It does, but where its few shortcuts differ from the CSS Syntax tokenizer: an escape
    outside a string or comment (`\\ url(` is the function ` url(`), a hex escape ending a line
    in a string, NUL, and `url(` after `<!` or a name character (`u+1url(`). There the scan
    runs, as before. Tested on the text, so a look-alike in a string also sends it there.
    """
    norm = tokens.norm
    if "\0" in text:
        return False
    for match in _URL_OPENING.finditer(norm):
        start = match.start()
        if start and _NAME_BEFORE_URL.match(norm, start - 1):
            return False
        if start >= 2 and norm.startswith("<!", start - 2):
            return False
    if "\\" not in norm:
        return True
    if _HEX_ESCAPE_THEN_BREAK.search(text):
        return False
    # In a clean text, scanning from the start meets each string and comment at its opening.
    return all(match.group() != "\\" for match in _STRING_COMMENT_OR_ESCAPE.finditer(norm))


_HEX_ESCAPE_THEN_BREAK = re.compile(r"\\[0-9A-Fa-f]{1,6}[\r\n\f]")
_URL_OPENING = re.compile(r"[uU][rR][lL]\(")
_NAME_BEFORE_URL = re.compile(_BEFORE_NAME)
_STRING_COMMENT_OR_ESCAPE = re.compile(
    r'"(?:[^"\\\n]++|\\[\s\S])*+"|\'(?:[^\'\\\n]++|\\[\s\S])*+\'|/\*[\s\S]*?\*/|\\'
)


def _unescape(name: str) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group()[1:].rstrip(" \t\n\r\f")
        if body and all(c in "0123456789abcdefABCDEF" for c in body):
            code = int(body, 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return body

    return _UNESCAPE.sub(one, name)


def _at_name(text: str, pos: int) -> str:
    match = _AT_NAME.match(text, pos)
    return match.group() if match else ""


def join_css(
    reports: Sequence[CssReport], texts: Sequence[str] | None = None
) -> tuple[str, tuple[Diagnostic, ...]]:
    """Concatenate checked files into one stylesheet; report what concatenation breaks.

    `texts`, when given, are what to join for each report instead of its text without @charset
    rules (the caller's minified `without_charsets(report)`).
    """
    diagnostics: list[Diagnostic] = []
    first_rule: tuple[CssReport, int] | None = None  # the first rule of the bundle so far
    first_namespace: tuple[CssReport, AtRule] | None = None
    charsets: list[tuple[CssReport, AtRule, str]] = []
    parts: list[str] = []
    for report in reports:
        for rule in report.at_rules:
            blocker = first_rule
            if report.first_rule is not None and report.first_rule < rule.start:
                blocker = (report, report.first_rule) if blocker is None else blocker
            if rule.name == "charset":
                charsets.append((report, rule, _charset_value(rule.prelude)))
            elif rule.name == "import" and blocker is not None:
                diagnostics.append(_misplaced(report, rule, blocker, "rule"))
            elif rule.name == "import" and first_namespace is not None:
                ns_report, ns_rule = first_namespace
                diagnostics.append(
                    _misplaced(report, rule, (ns_report, ns_rule.start), "@namespace rule")
                )
            elif rule.name == "namespace":
                if blocker is not None:
                    diagnostics.append(_misplaced(report, rule, blocker, "rule"))
                if first_namespace is None:
                    first_namespace = (report, rule)
        if first_rule is None and report.first_rule is not None:
            first_rule = (report, report.first_rule)
        parts.append(without_charsets(report))
    if texts is not None:
        parts = [_separated(text) for text in texts]
    header, charset_diags = _charset_header(charsets)
    diagnostics.extend(charset_diags)
    return header + "".join(parts), tuple(diagnostics)


def _misplaced(
    report: CssReport, rule: AtRule, blocker: tuple[CssReport, int], what: str
) -> Diagnostic:
    where, offset = blocker
    same = where is report
    place = "earlier in this file" if same else f"in {where.source.display}"
    note = where.source.diagnostic("warning", f"the first {what} before it", offset)
    if rule.name == "import":
        hint = (
            "move it to the top of the file"
            if same
            else "list this file first in the bundle, or move the @import to the first file"
        )
        message = f"@import after a {what} ({place}) is ignored by browsers; {hint}"
    else:
        message = (
            f"@namespace after a {what} ({place}) is ignored by browsers; move it before all rules"
        )
    return report.source.diagnostic("error", message, rule.start, (note,))


def _charset_value(prelude: str) -> str:
    return prelude.strip(_WS).strip("\"'")


def _separated(text: str) -> str:
    """A part that cannot run into the next one (a minified part may end in a bare token)."""
    tail = text.rstrip()
    return text if not tail or tail.endswith(("}", ";", "*/")) else text + "\n"


def without_charsets(report: CssReport) -> str:
    """The report's text without its @charset rules (the bundle gets one at its start)."""
    text = report.text
    pieces: list[str] = []
    pos = 0
    for rule in report.at_rules:
        if rule.name != "charset":
            continue
        pieces.append(text[pos : rule.start])
        pos = min(rule.end, len(text))
        if text.startswith("\r\n", pos):
            pos += 2
        elif text.startswith("\n", pos):
            pos += 1
    pieces.append(text[pos:])
    joined = "".join(pieces)
    if joined.startswith("\ufeff"):
        joined = joined[1:]  # a byte-order mark inside the bundle would join the next selector
    if joined and not joined.endswith("\n"):
        joined += "\n"
    return joined


def _charset_header(
    charsets: list[tuple[CssReport, AtRule, str]],
) -> tuple[str, list[Diagnostic]]:
    """One @charset at the very start, where browsers look for it; conflicts are errors."""
    if not charsets:
        return "", []
    diagnostics: list[Diagnostic] = []
    first_report, first_rule, first_value = charsets[0]
    for report, rule, value in charsets[1:]:
        if value.lower() != first_value.lower():
            note = first_report.source.diagnostic(
                "warning", f'@charset "{first_value}" declared here', first_rule.start
            )
            diagnostics.append(
                report.source.diagnostic(
                    "error",
                    f'@charset "{value}" conflicts with @charset "{first_value}" '
                    f"in {first_report.source.display}: a bundle has one encoding",
                    rule.start,
                    (note,),
                )
            )
            break
    if first_value.lower().replace("-", "") != "utf8":
        diagnostics.append(
            first_report.source.diagnostic(
                "warning",
                f'@charset "{first_value}" declared, but sources are read and bundles written '
                'as UTF-8; the bundle declares @charset "UTF-8"',
                first_rule.start,
                code="charset",
            )
        )
        first_value = "UTF-8"
    return f'@charset "{first_value}";\n', diagnostics


def same_stylesheet(a: str, b: str) -> bool:
    """True when both texts are the same stylesheet: same rules, selectors and values."""
    return a == b or stylesheet_key(a) == stylesheet_key(b)
