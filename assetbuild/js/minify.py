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
    # rjsmin would change the others' meaning (or drop a license): the safe minifier, made and
    # verified in the engine too, a batch at a time.
    rest = [i for i in range(len(texts)) if licenses[i] is not None and not proven.get(i)]
    safe = dict(zip(rest, jsengine.safe_minified([texts[i] for i in rest]), strict=True))
    tried = {i: (texts[i], made) for i, made in safe.items() if made is not None}
    tried = {i: pair for i, pair in tried.items() if _in_order(pair[1], kept[i])}
    verified = dict(zip(tried, jsengine.same_programs(list(tried.values())), strict=True))
    results: list[Minified] = []
    for i, text in enumerate(texts):
        candidate, made = fast[i], safe.get(i)
        if candidate is not None and proven[i]:
            results.append(Minified(candidate, "rjsmin"))
        elif licenses[i] is None or made is None:  # the engine cannot decide: esprima does
            results.append(_minify_with_esprima(text))
        elif verified.get(i):
            results.append(Minified(made, "safe"))
        else:
            results.append(Minified(text, "none"))
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
