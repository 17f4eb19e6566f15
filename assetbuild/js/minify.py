"""JavaScript minification that never ships an unverified result: rjsmin, else the safe minifier."""

from __future__ import annotations

from collections.abc import Sequence

from assetbuild.js import safe as jssafe
from assetbuild.js.check import engine_name, license_comments, program_facts, program_fingerprint
from assetbuild.minified import Minified, has_lone_surrogate


def minify_js(text: str) -> Minified:
    """rjsmin when it provably keeps the program and its license comments, else the safe path."""
    return minify_scripts([text])[0]


def minify_scripts(texts: Sequence[str]) -> list[Minified]:
    """`minify_js` of each text, the same results; the engine verifies rjsmin's in one call."""
    if engine_name() != "v8":
        return [_minify_with_esprima(text) for text in texts]
    from assetbuild.js import engine as jsengine

    licenses = [license_comments(text) for text in texts]
    forgotten = [i for i, found in enumerate(licenses) if found is None]
    answers = jsengine.analyze_scripts([texts[i] for i in forgotten])
    for i, answer in zip(forgotten, answers, strict=True):
        if isinstance(answer, jsengine.ScriptFacts):
            text = texts[i]
            licenses[i] = tuple((start, text[start:end]) for start, end in answer.licenses)
    kept = [() if found is None else tuple(c for _, c in found) for found in licenses]
    fast: list[str | None] = [None] * len(texts)
    for i, text in enumerate(texts):
        found = licenses[i]
        if found is not None:
            candidate = _rjsmin(text, found)
            if candidate is not None and _in_order(candidate, kept[i]):
                fast[i] = candidate
    pairs = {i: (texts[i], candidate) for i, candidate in enumerate(fast) if candidate is not None}
    proven = dict(zip(pairs, jsengine.same_programs(list(pairs.values())), strict=True))
    results: list[Minified] = []
    for i, text in enumerate(texts):
        candidate = fast[i]
        if candidate is not None and proven[i]:
            results.append(Minified(candidate, "rjsmin"))
            continue
        minified = None if licenses[i] is None else _safe_with_engine(text, kept[i])
        results.append(minified if minified is not None else _minify_with_esprima(text))
    return results


def _minify_with_esprima(text: str) -> Minified:
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


def _safe_with_engine(text: str, kept: tuple[str, ...]) -> Minified | None:
    """The safe minifier on the engine's tokens, verified by the engine; None when it cannot decide."""
    from assetbuild.js import engine as jsengine

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
