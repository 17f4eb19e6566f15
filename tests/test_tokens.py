"""Token substitution: values, diagnostics, offset mapping, single pass, linear time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.sources import SourceFile
from assetbuild.tokens import substitute

STATIC = {"static": "https://cdn.example.com/s/"}


def source(text: str) -> SourceFile:
    return SourceFile(Path("a.js"), "js/a.js", text, text)


def sub(
    text: str, values: dict[str, str | None] | None = None, **kwargs: bool
) -> tuple[str, list[str]]:
    new, diags = substitute(source(text), STATIC if values is None else values, **kwargs)
    return new.text, [d.format() for d in diags]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("url({$static}/img/a.png)", "url(https://cdn.example.com/s/img/a.png)"),
        ('src="<$static>/x.js"', 'src="https://cdn.example.com/s/x.js"'),
        ("{$static}{$static}", "https://cdn.example.com/shttps://cdn.example.com/s"),
        ("{$version}-{$static}", "1.2-https://cdn.example.com/s"),
        ("{$_x9}", ""),
        (
            "{ $static }, {$static , {$ static}, {static}, $static",
            "{ $static }, {$static , {$ static}, {static}, $static",
        ),
        ("{$static.x}", "{$static.x}"),
        ("{{$static}}", "{https://cdn.example.com/s}"),
        ("<<$static>>", "<https://cdn.example.com/s>"),
        ("{$static>", "{$static>"),
        ("\u00e9{$static}\U0001f600", "\u00e9https://cdn.example.com/s\U0001f600"),
    ],
)
def test_replacement(text: str, expected: str) -> None:
    values = {**STATIC, "version": "1.2", "_x9": ""}
    assert sub(text, values) == (expected, [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/", "/img"),
        ("", "/img"),
        ("https://x/", "https://x/img"),
        ("https://x//", "https://x/img"),
        ("/s", "/s/img"),
    ],
)
def test_trailing_slash_dropped(value: str, expected: str) -> None:
    assert sub("{$static}/img", {"static": value})[0] == expected


def test_single_pass() -> None:
    values = {"static": "{$other}<$static>", "other": "X"}
    assert sub("{$static} {$other}", values)[0] == "{$other}<$static> X"


def test_no_tokens_returns_the_same_file() -> None:
    src = source("a { color: red }")
    new, diags = substitute(src, STATIC)
    assert new is src and diags == ()


def test_missing_value_is_an_error() -> None:
    text = "a;\n  x = '{$static}/a' + '{$static}' + '<$static>'\n"
    _, diags = substitute(source(text), {"static": None})
    assert [d.format() for d in diags] == [
        "js/a.js:2:8: error: token {$static} has no value (2 occurrences in this file); set static_url in "
        "assetbuild.toml, pass --static-url or ASSETBUILD_STATIC_URL\n"
        "      x = '{$static}/a' + '{$static}' + '<$static>'\n"
        "           ^",
        "js/a.js:2:38: error: token <$static> has no value; set static_url in "
        "assetbuild.toml, pass --static-url or ASSETBUILD_STATIC_URL\n"
        "      x = '{$static}/a' + '{$static}' + '<$static>'\n"
        "                                         ^",
    ]


@pytest.mark.parametrize(("check_only", "severity"), [(False, "error"), (True, "warning")])
def test_missing_value_of_other_token(check_only: bool, severity: str) -> None:
    text, messages = sub("{$rev}", {"static": "/s", "rev": None}, check_only=check_only)
    assert text == "{$rev}"
    assert messages == [
        f"js/a.js:1:1: {severity}: token {{$rev}} has no value; set it in [tokens] in "
        "assetbuild.toml or pass --token rev=VALUE"
        + (" [token-no-value]" if check_only else "")
        + "\n    {$rev}\n    ^"
    ]


@pytest.mark.parametrize(
    ("text", "strict", "expected"),
    [
        (
            "x{$statc}",
            False,
            "js/a.js:1:2: warning: unknown token {$statc} left as is (did you mean {$static}?) "
            "[unknown-token]",
        ),
        ("x{$zzz}", False, "js/a.js:1:2: warning: unknown token {$zzz} left as is [unknown-token]"),
        (
            "{$a}{$a}{$a}",
            False,
            "js/a.js:1:1: warning: unknown token {$a} left as is (3 occurrences in this file) "
            "[unknown-token]",
        ),
        (
            "x{$statc}",
            True,
            "js/a.js:1:2: error: unknown token {$statc} (did you mean {$static}?); declare it in [tokens] or remove it",
        ),
    ],
)
def test_unknown_tokens(text: str, strict: bool, expected: str) -> None:
    new_text, messages = sub(text, strict=strict)
    assert new_text == text
    assert [m.splitlines()[0] for m in messages] == [expected]


@pytest.mark.parametrize("strict", [False, True])
def test_unknown_angle_tokens_are_left_silently(strict: bool) -> None:
    # `a<$b>c` is a JavaScript comparison chain.
    assert sub("if (a<$b>c) {}", strict=strict) == ("if (a<$b>c) {}", [])


def test_diagnostics_are_in_file_order() -> None:
    _, messages = sub("{$b}\n{$static}\n{$a}", {"static": None})
    assert [m.split(":")[1] for m in messages] == ["1", "2", "3"]


def test_later_offsets_map_to_the_original() -> None:
    text = "var a = '{$static}';\nvar b = '{$static}'; oops\n"
    new, _ = substitute(source(text), STATIC)
    offset = new.text.index("oops")
    diag = new.diagnostic("error", "here", offset)
    assert str(diag.location) == "js/a.js:2:22"
    assert diag.source_line == "var b = '{$static}'; oops"
    # an offset inside a substituted value points at the token
    inside = new.diagnostic("error", "x", new.text.index("cdn", offset - 30))
    assert str(inside.location) == "js/a.js:2:10"


def test_substituting_an_already_processed_file() -> None:
    text = "a {$one} b {$two} c"
    first, _ = substitute(source(text), {"one": "1111111", "static": None})
    second, _ = substitute(first, {"two": "", "static": None})
    assert second.text == "a 1111111 b  c"
    assert second.original == text
    assert (
        str(second.diagnostic("error", "x", second.text.index("c")).location)
        == f"js/a.js:1:{text.index('c') + 1}"
    )
    assert (
        str(second.diagnostic("error", "x", second.text.index("b")).location)
        == f"js/a.js:1:{text.index('b') + 1}"
    )


@pytest.mark.parametrize(
    "line", ["{$" * 500_000, "<$" * 500_000, "{$" + "a" * 1_000_000, "<$a" * 333_333]
)
def test_long_lines_are_linear(line: str) -> None:
    start = time.perf_counter()
    new, diags = substitute(source(line), {"static": "/s"})
    assert time.perf_counter() - start < 2.0
    assert new.text == line and diags == ()


def test_many_tokens_are_fast() -> None:
    text = "url({$static}/a.png) " * 50_000
    start = time.perf_counter()
    new, _ = substitute(source(text), {"static": "/s"})
    assert time.perf_counter() - start < 2.0
    assert new.text == "url(/s/a.png) " * 50_000
    assert str(new.diagnostic("error", "x", len(new.text) - 1).location) == f"js/a.js:1:{len(text)}"


# --- properties ------------------------------------------------------------------------

NAMES = ["static", "a", "b", "_long_name"]
names = st.sampled_from([*NAMES, "undeclared"])
token = st.builds(lambda n, curly: f"{{${n}}}" if curly else f"<${n}>", names, st.booleans())
filler = st.text(st.sampled_from(list("ab{}<>$/\n é")), max_size=6)
texts = st.lists(st.one_of(filler, token), max_size=12).map("".join)
values = st.fixed_dictionaries(
    {n: st.one_of(st.text(max_size=5), st.sampled_from(["{$a}", "<$b>", "x/"])) for n in NAMES}
)


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(blacklist_characters="$")))
def test_text_without_tokens_is_unchanged(text: str) -> None:
    new, diags = substitute(source(text), {"static": "/s", "a": "1"})
    assert new.text == text and new.edits == () and diags == ()


@settings(max_examples=300, deadline=None)
@given(texts, values)
def test_single_pass_property(text: str, vals: dict[str, str]) -> None:
    """Replacing each token by its value equals a by-hand left-to-right rewrite."""
    new, _ = substitute(source(text), dict(vals))
    expected, i = [], 0
    while i < len(text):
        for name in NAMES:
            for form in (f"{{${name}}}", f"<${name}>"):
                if text.startswith(form, i):
                    expected.append(vals[name].rstrip("/"))
                    i += len(form)
                    break
            else:
                continue
            break
        else:
            expected.append(text[i])
            i += 1
    assert new.text == "".join(expected)


def _outside_edits(src: SourceFile) -> list[int]:
    inside = {o for e in src.edits for o in range(e.start, e.end)}
    return [o for o in range(len(src.text)) if o not in inside]


@settings(max_examples=300, deadline=None)
@given(texts, values)
def test_offsets_round_trip(text: str, vals: dict[str, str]) -> None:
    new, _ = substitute(source(text), dict(vals))
    for offset in _outside_edits(new):
        assert text[new.original_offset(offset)] == new.text[offset]
    for edit in new.edits:
        assert new.text[edit.start : edit.end] == vals[
            text[edit.orig_start + 2 : edit.orig_end - 1]
        ].rstrip("/")


@settings(max_examples=150, deadline=None)
@given(texts, values, values)
def test_offsets_round_trip_through_two_substitutions(
    text: str, first: dict[str, str], second: dict[str, str]
) -> None:
    once, _ = substitute(source(text), {k: v for k, v in first.items() if k in ("static", "a")})
    twice, _ = substitute(once, {k: v for k, v in second.items() if k in ("b", "_long_name")})
    assert [(e.start, e.orig_start) for e in twice.edits] == sorted(
        (e.start, e.orig_start) for e in twice.edits
    )
    for offset in _outside_edits(twice):
        assert text[twice.original_offset(offset)] == twice.text[offset]
    # every substituted span maps back onto token text of the original
    for edit in twice.edits:
        assert edit.orig_end > edit.orig_start
        assert text[edit.orig_start] in "{<" and text[edit.orig_end - 1] in "}>"


def test_same_but_unset_reads_one_value_per_token() -> None:
    from assetbuild.tokens import same_but_unset

    built = b'var a = "{$static}/a.png", b = "<$static>/b.png";'
    assert same_but_unset(built, b'var a = "/s/a.png", b = "/s/b.png";', ["static"])
    assert same_but_unset(built, b'var a = "/a.png", b = "/b.png";', ["static"])
    assert not same_but_unset(built, b'var a = "/s/a.png", b = "/t/b.png";', ["static"])
    assert not same_but_unset(built, b'var a = "/s/a.png", b = "/s/b.png"; x', ["static"])
    assert not same_but_unset(built, b'var a = "/s/a.png", b = "/s/b.png";', [])
    assert not same_but_unset(built, b'var a = "/s\n/a.png", b = "/s\n/b.png";', ["static"])
    assert same_but_unset(b"plain", b"plain", ["static"])


@given(
    before=st.binary(max_size=40),
    between=st.binary(min_size=1, max_size=40),
    after=st.binary(max_size=40),
    value=st.binary(max_size=30).filter(lambda v: b"\n" not in v and b"{$" not in v),
)
def test_same_but_unset_accepts_any_value_put_in_place(
    before: bytes, between: bytes, after: bytes, value: bytes
) -> None:
    from assetbuild.tokens import same_but_unset

    parts = (before, between, after)
    if any(b"{$" in p or b"<$" in p for p in parts) or between in value:
        return  # (adjacent tokens, or a value holding the text after it, are ambiguous)
    built = before + b"{$static}" + between + b"<$static>" + after
    installed = before + value + between + value + after
    assert same_but_unset(built, installed, ["static"])
    assert not same_but_unset(built, installed + b"!", ["static"])
