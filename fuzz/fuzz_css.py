"""atheris fuzzer: the CSS checker and the verified minifier on arbitrary text.

Invariants: check_css never raises; minify_css never raises, returns a known method, and its output is the
same stylesheet as its input (checked again here with same_stylesheet); join_css of the report works.
Run: .venv/bin/python fuzz/fuzz_css.py -max_total_time=150 -timeout=10 fuzz/corpus/css
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from assetbuild.css.check import check_css, join_css, same_stylesheet
    from assetbuild.css.minify import minify_css
    from assetbuild.sources import SourceFile

SEEDS = [
    "a{color:red}",
    '@charset "utf-8";@import url("x.css") screen;a::before{content:"\\41 x"}',
    "@media (min-width:1px){a{b:url(x.png) c}}/*! keep */",
    ".\\31 0{x:calc(1px + 2%)}[a=b]{c:d!important}",
    "@supports (display:grid){@font-face{src:url(a) format('woff2')}}",
]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        # Mutate around real CSS so the fuzzer reaches deeper than random bytes do.
        seed = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
        at = fdp.ConsumeIntInRange(0, len(seed))
        text = seed[:at] + fdp.ConsumeUnicodeNoSurrogates(64) + seed[at:]
    else:
        text = fdp.ConsumeUnicodeNoSurrogates(len(data))
    src = SourceFile(Path("fuzz.css"), "fuzz.css", text, text)
    report = check_css(src)
    for diag in report.diagnostics:
        assert diag.location is not None and diag.location.path == "fuzz.css"
    if not report.ok:
        return
    join_css([report])
    minified = minify_css(text)
    assert minified.method in ("rcssmin", "safe", "none"), minified.method
    if minified.method == "none":
        assert minified.text == text
    else:
        assert same_stylesheet(text, minified.text), (text, minified.text)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
