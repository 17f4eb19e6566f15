"""csstokens: the regex tokenizer gives tinycss2's tokens exactly (tinycss2 is the oracle), in linear time."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import tinycss2
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css import tokens as csstokens
from assetbuild.css.tokens import (
    COMMENT,
    OPEN_FN,
    PAIR,
    WS,
    Tokens,
    text_offsets,
    tokenize,
)
from assetbuild.css.walk import preprocess
from tests.oracles.cssoracle import _leaf_key

ROOT = Path(__file__).resolve().parent.parent
CSS_FILES = sorted(p for p in (ROOT / "fixtures").rglob("*.css") if p.is_file())
_BLOCK = {
    csstokens.OPEN_FN: "function",
    csstokens.OPEN_PAREN: "() block",
    csstokens.OPEN_SQUARE: "[] block",
    csstokens.OPEN_CURLY: "{} block",
}


def tree_flat(text: str) -> list[Any]:
    """tinycss2's component values, depth first: leaf keys, block markers, comments, whitespace."""
    out: list[Any] = []
    pending: list[tuple[Any, str]] = [
        (node, "") for node in reversed(tinycss2.parse_component_value_list(preprocess(text)))
    ]
    while pending:
        node, closing = pending.pop()
        if node is None:
            out.append(("close", closing))
            continue
        kind = node.type
        if kind == "whitespace":
            out.append(("ws", node.value))
        elif kind == "comment":
            out.append(("comment", node.value))
        elif kind in _BLOCK.values():
            out.append(("fn", node.name) if kind == "function" else (kind,))
            pending.append((None, kind))
            children = node.arguments if kind == "function" else node.content
            pending.extend((child, "") for child in reversed(children))
        else:
            out.append(_leaf_key(node))
    return out


def token_flat(text: str) -> list[Any]:
    """The same shape from csstokens: the flat list with its jump table read back as blocks."""
    tokens = tokenize(preprocess(text))
    out: list[Any] = []
    open_blocks: list[int] = []
    for i, (tok, info) in enumerate(zip(tokens.toks, tokens.infos, strict=True)):
        code = info[0]
        if code == WS:
            out.append(("ws", tok))
        elif code == COMMENT:
            out.append(("comment", info[4]))
        elif code == PAIR:
            out.extend(info[1])
        elif code > csstokens.OPEN_CURLY:
            assert open_blocks and tokens.jump[open_blocks[-1]] == i
            out.append(("close", _BLOCK[tokens.infos[open_blocks.pop()][0]]))
        elif code >= OPEN_FN:
            out.append(info[1] if code == OPEN_FN else (_BLOCK[code],))
            open_blocks.append(i)
        else:
            out.append(info[1])
    assert tuple(open_blocks) == tokens.unclosed
    assert all(tokens.jump[i] == len(tokens.toks) for i in open_blocks)
    out.extend(("close", _BLOCK[tokens.infos[i][0]]) for i in reversed(open_blocks))
    return out


def assert_same_tokens(text: str) -> None:
    tokens = tokenize(preprocess(text))
    assert "".join(tokens.toks) == preprocess(text)  # contiguous, nothing skipped
    assert tokens.codes == bytes(info[0] for info in tokens.infos)
    assert token_flat(text) == tree_flat(text)


EDGE_CASES = [
    "", " ", "a{b:c}", "a { b : c ; }", ".a > .b + .c ~ .d || .e {}",
    # numbers as tinycss2 reads them
    "1 +1 -1 .5 +.5 -.5 1. 1.5.5 1e5 1E-5 1e+5px 1e 1e- 1ex 1.e5 +.5e-3 1% 1-a 1-- 1-->",
    "0.50 00 +0 -0 1e999 123456789012345678901234567890",
    # idents, escapes and names
    "-a --a -- - -\\41 \\41 \\41  \\0 \\110000 \\D800 \\g a\\ b \\\n a\\", "\\", "a\\",
    "#a #1 #- #-1 #-- #\\41 # #\\", "@a @1 @- @-- @\\41 @ @\\", "é ü 日本 \U0001f600",
    # url() in all its spellings and failures
    "url(a) url( a ) url(a b) url(a\"b) url(a'b) url(a(b) url(\\)) url(a\\\n)",
    "url(\"a\") url( 'a' ) URL(a) Url(a) u\\72l(a) \\75 rl(a) \\55\\52\\4C(a) \\000075rl(a)",
    "url(", "url(  ", "url(a", "url(a ", "url(a\\", "url(a b", "url(\x7f) url(\x01)",
    "url(\\\n", "url(a\\\n  ",
    "u\\72l(\"a\") \\75rl(a) \\0075 rl(a) \\75a(a)", "-url(a b) xurl(a b) #url(a b) @url(a b)",
    # strings
    "'a' \"a\" 'a\\'b' 'a\\\nb' 'a\nb' \"a", "'", "\"a\\", "'\\41 x' '\\'", "\"\\\n\"",
    # unicode ranges
    "u+0 U+1f600 u+0-7f u+1?? u+?????? u+1234567 u+123456? u+12-x u+ u+x U+-1",
    # comments
    "/**/ /***/ /* * / */ /*/ */", "/*", "/* a", "/*/", "a/*b*/c",
    # CDO, CDC, delimiters
    "<!-- --> <!- <! --> ---> <!---->", "|| |= ~= ^= $= *= | ~ ^ $ * = !",
    # brackets
    "{[(a)]}", "(]", "a{b:(c}", "[{]}", ")", "}", "a{", "f(", "f(a,(b", "@media{(a]}",
    # preprocessing
    "a\r\nb\rc\fd\0e",
]  # fmt: skip


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_tokenize_like_tinycss2(text: str) -> None:
    assert_same_tokens(text)


@pytest.mark.parametrize("path", CSS_FILES, ids=lambda p: p.name)
def test_project_stylesheets_tokenize_like_tinycss2(path: Path) -> None:
    assert_same_tokens(path.read_text(encoding="utf-8", errors="replace"))


# Pieces that meet at token boundaries in every way tinycss2 distinguishes.
PIECES = st.sampled_from(
    [
        "a", "u", "U", "l", "r", "e", "E", "x", "_", "é", "1", "0", "9", ".", "+", "-", "?",
        "\\", "\\75", "\\55 ", "\\72", "\\6c", "\\41", "\\0", "\\\n", "(", ")", "[", "]", "{",
        "}", ";", ":", ",", "!", "%", "#", "@", "<", ">", "=", "|", "~", "^", "$", "*", "/",
        '"', "'", " ", "\n", "\t", "\r\n", "\f", "\0", "/*", "*/", "<!--", "-->", "url(",
        "u+", "\x7f", "\x01", "\ud800",
    ]
)  # fmt: skip
SOUP = st.lists(PIECES, max_size=24).map("".join)


@settings(max_examples=1500, deadline=None)
@given(SOUP)
def test_token_soup_tokenizes_like_tinycss2(text: str) -> None:
    assert_same_tokens(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())))
def test_arbitrary_text_tokenizes_like_tinycss2(text: str) -> None:
    assert_same_tokens(text)


N = 250_000  # ~1 MB of each piece below
HOSTILE = {
    "comment openers": "/*" * N,
    "comment stars": "/*" + "*" * (2 * N),
    "quotes": '"' * N,
    "apostrophes": "'" * (2 * N),
    "string escapes": '"' + "\\\\" * N,
    "string line continuations": "'" + "\\\n" * N,
    "url openers": "url(" * N,
    "url escapes": "url(" + "\\)" * N,
    "url spaces": "url(" + " " * (2 * N),
    "backslashes": "\\" * (2 * N),
    "hex escapes": "\\41 " * N,
    "escaped url names": "\\75 rl" * N,
    "unicode ranges": "u+" + "?" * N,
    "dashes": "-" * (2 * N),
    "digits": "1" * (2 * N),
    "dots": "1." * N,
    "exponents": "1e" * N,
    "hashes": "#" * N,
    "at signs": "@" * N,
    "cdo": "<!--" * N,
    "nested parens": "(" * N,
    "nested blocks": "{" * N + "}" * N,
    "mismatched": "(" * N + "]" * N,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_tokenizes_in_linear_time(case: str) -> None:
    text = HOSTILE[case]
    start = time.process_time()
    tokens = csstokens._tokenize(preprocess(text))
    elapsed = time.process_time() - start
    assert "".join(tokens.toks) == text
    assert elapsed < 5, f"{elapsed:.1f} s for {len(text) / 1e6:.1f} MB"  # ~0.2 s when linear


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_small_tokenizes_like_tinycss2(case: str) -> None:
    assert_same_tokens(HOSTILE[case][:2000])


def test_deep_nesting_has_its_structure() -> None:
    text = "a{b:" + "(" * 10_000 + ")" * 10_000 + "}"
    tokens = tokenize(text)
    first = tokens.toks.index("(")
    assert tokens.jump[first] == len(tokens.toks) - 2  # the last `)`, before `}`
    assert tokens.jump[first + 9_999] == first + 10_000
    assert tokens.unclosed == ()
    assert tokens.clean


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("a{b:c}", True),
        ("a{b:c", False),  # unclosed block
        ("a{b:c}}", False),  # unmatched closer
        ('a{b:"c', False),  # string to the end
        ('a{b:"c\n"}', False),  # bad string
        ("a{b:url(c d)}", False),  # bad url
        ("a{b:url(c", False),  # url to the end
        ("a{}/* c", False),  # comment to the end
        ("a{}/* c */", True),
        ("/**/", True),
    ],
)
def test_clean_means_nothing_unterminated(text: str, clean: bool) -> None:
    assert tokenize(preprocess(text)).clean is clean


def test_one_text_is_tokenized_once_and_the_memo_is_bounded() -> None:
    text = "a { b: c }"
    assert tokenize(text) is tokenize(text)
    for k in range(10):
        tokenize(f"x{k} {{ y: z }}")
    assert len(csstokens._MEMO) <= 4
    big = "a{b:c}" * (csstokens._MEMO.max_chars // 6 + 1)
    assert isinstance(tokenize(big), Tokens)
    assert big not in csstokens._MEMO


@pytest.mark.parametrize("text", ["a\r\nb", "\r\n\r\nurl(x)", "a\r\r\nb\r\n", "\r\n", "plain"])
def test_text_offsets_undo_crlf_preprocessing(text: str) -> None:
    norm = preprocess(text)
    to_text = text_offsets(text)
    for offset, char in enumerate(norm):
        if char != "\n":
            assert text[to_text(offset)] == char
        else:
            assert text[to_text(offset)] in "\r\n"


def fields(tokens: Tokens) -> tuple[object, ...]:
    return (tokens.norm, tokens.toks, tokens.infos, tokens.jump, tokens.unclosed, tokens.codes)


@settings(max_examples=1000, deadline=None)
@given(SOUP, st.data())
def test_the_tokens_of_a_suffix_are_derived_exactly(text: str, data: st.DataObject) -> None:
    norm = preprocess(text)
    cut = data.draw(st.integers(0, len(norm)))
    added = data.draw(st.booleans())
    body = norm[cut:] + ("\n" if added else "")
    derived = csstokens._suffix(csstokens._tokenize(norm), cut, body, added=added)
    if derived is not None:
        assert fields(derived) == fields(csstokens._tokenize(body))


def test_a_file_without_its_charset_rule_is_not_tokenized_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """csscheck.without_charsets cuts the rule and adds a line break before minification."""
    rules = "".join(f".a{k} {{ color: red; background: url(x{k}.png) }}\n" for k in range(100))
    text = '@charset "UTF-8";\n' + rules.rstrip("\n")
    calls: list[str] = []
    real = csstokens._tokenize
    monkeypatch.setattr(csstokens, "_tokenize", lambda norm: calls.append(norm) or real(norm))
    tokenize(text)
    body = rules  # what without_charsets gives: the rule and its line break cut, one added
    assert fields(tokenize(body)) == fields(real(body))
    assert calls == [text]


@pytest.mark.parametrize(
    ("name", "spelled_out"),
    [
        ("_NAME_START", r"[A-Za-z_\x80-\U0010FFFF]"),
        ("_NAME_CHAR", r"[A-Za-z0-9_\-\x80-\U0010FFFF]"),
        ("_NAME_START_NOT_U", r"[A-TV-Za-tv-z_\x80-\U0010FFFF]"),
    ],
)
def test_name_classes_written_by_exclusion_mean_the_spelled_out_ones(
    name: str, spelled_out: str
) -> None:
    """The cheap-to-compile classes match exactly the characters of the CSS Syntax definitions."""
    ours, theirs = re.compile(getattr(csstokens, name)), re.compile(spelled_out)
    edges = [0x80, 0xFF, 0x100, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFFFF, 0x10000]
    for cp in [*range(0x80), *edges, 0x10FFFF]:
        assert bool(ours.fullmatch(chr(cp))) == bool(theirs.fullmatch(chr(cp))), hex(cp)
