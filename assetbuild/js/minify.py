"""JavaScript minification that never ships an unverified result: rjsmin, else the safe minifier."""

from __future__ import annotations

from assetbuild.js import safe as jssafe
from assetbuild.js.check import engine_name, license_comments, program_facts, program_fingerprint
from assetbuild.minified import Minified, has_lone_surrogate


def minify_js(text: str) -> Minified:
    """rjsmin when it provably keeps the program and its license comments, else the safe path."""
    if engine_name() == "v8":
        minified = _minify_with_engine(text)
        if minified is not None:
            return minified
    facts = program_facts(text)
    if facts is None:
        return Minified(text, "none")
    licenses = tuple(comment for _, comment in facts.licenses)
    candidate = _rjsmin(text, facts.licenses)
    if candidate is not None and _keeps(candidate, facts.fingerprint, licenses):
        return Minified(candidate, "rjsmin")
    candidate = jssafe.minify(text)
    if candidate is not None and _keeps(candidate, facts.fingerprint, licenses):
        return Minified(candidate, "safe")
    return Minified(text, "none")


def _minify_with_engine(text: str) -> Minified | None:
    """The same choice, verified by the fast engine; None when the engine cannot decide."""
    from assetbuild.js import engine as jsengine

    licenses = license_comments(text)
    if licenses is None:
        answer = jsengine.analyze_script(text)
        if not isinstance(answer, jsengine.ScriptFacts):
            return None
        licenses = tuple((start, text[start:end]) for start, end in answer.licenses)
    kept = tuple(comment for _, comment in licenses)
    fast = _rjsmin(text, licenses)
    if fast is not None and _in_order(fast, kept) and jsengine.same_programs([(text, fast)])[0]:
        return Minified(fast, "rjsmin")
    tokens = jsengine.script_tokens(text)
    if tokens is None:
        return None
    safe = jssafe.emit(text, [jssafe.Piece(kind, text[a:b], a, b) for kind, a, b in tokens])
    if _in_order(safe, kept) and jsengine.same_programs([(text, safe)])[0]:
        return Minified(safe, "safe")
    return Minified(text, "none")


def _keeps(candidate: str, expected: bytes, licenses: tuple[str, ...]) -> bool:
    return _in_order(candidate, licenses) and program_fingerprint(candidate) == expected


def _rjsmin(text: str, licenses: tuple[tuple[int, str], ...]) -> str | None:
    """rjsmin keeps only `/*!` comments: mark the other license comments that way, then restore."""
    import rjsmin

    if any(comment.startswith("//") for _, comment in licenses):
        return None  # a kept line comment needs a line break that rjsmin would not keep
    if has_lone_surrogate(text):
        return None  # rjsmin's C code would crash the process
    marked = [(at, c, "/*!" + c[2:]) for at, c in licenses if not c.startswith("/*!")]
    source = text
    for at, original, replacement in reversed(marked):
        source = source[:at] + replacement + source[at + len(original) :]
    result: str = rjsmin.jsmin(source, keep_bang_comments=True)
    cursor = 0
    for _, original, replacement in marked:
        at = result.find(replacement, cursor)
        if at < 0:
            return None
        result = result[:at] + original + result[at + len(replacement) :]
        cursor = at + len(original)
    return result


def _in_order(text: str, comments: tuple[str, ...]) -> bool:
    cursor = 0
    for comment in comments:
        at = text.find(comment, cursor)
        if at < 0:
            return False
        cursor = at + len(comment)
    return True
