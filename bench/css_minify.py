"""Check and minify real stylesheets; report how each shipped and the bytes.

    python bench/css_minify.py DIR_OR_FILE... [--include-min]

For every .css file: check_css (structure errors), minify_css (method: rcssmin, safe or
none), the bytes in, out, and what plain unverified rcssmin would have given.
Prints one line per file, then totals per method. Reads files only; writes nothing.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import rcssmin

from assetbuild.css.check import check_css
from assetbuild.css.minify import minify_css
from assetbuild.sources import SourceFile


def stylesheets(args: list[str], include_min: bool) -> list[Path]:
    found: set[Path] = set()
    for arg in args:
        path = Path(arg)
        candidates = sorted(path.rglob("*.css")) if path.is_dir() else [path]
        found.update(
            p
            for p in candidates
            if p.is_file() and (include_min or not p.name.endswith(".min.css"))
        )
    return sorted(found)


def main(argv: list[str]) -> int:
    include_min = "--include-min" in argv
    paths = stylesheets([a for a in argv if not a.startswith("--")], include_min)
    methods: Counter[str] = Counter()
    size_in = Counter[str]()
    size_out = Counter[str]()
    size_rc = Counter[str]()
    seconds = 0.0
    problems = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        start = time.perf_counter()
        report = check_css(SourceFile(path, str(path), text, text))
        result = minify_css(text)
        elapsed = time.perf_counter() - start
        seconds += elapsed
        problems += sum(1 for d in report.diagnostics if d.is_error)
        raw = len(text.encode())
        out = len(result.text.encode())
        rc = len(str(rcssmin.cssmin(text, keep_bang_comments=True)).encode())
        methods[result.method] += 1
        for counter, value in ((size_in, raw), (size_out, out), (size_rc, rc)):
            counter[result.method] += value
            counter["all"] += value
        errors = (
            f" errors={sum(1 for d in report.diagnostics if d.is_error)}" if not report.ok else ""
        )
        print(
            f"{result.method:8} {raw:9} -> {out:9} (rcssmin {rc:9}) {elapsed:6.2f}s {path}{errors}"
        )
    print()
    for method in ("rcssmin", "safe", "none", "all"):
        count = methods[method] if method != "all" else sum(methods.values())
        print(
            f"{method:8} files={count:4} in={size_in[method]:10} out={size_out[method]:10} "
            f"unverified-rcssmin={size_rc[method]:10}"
        )
    print(f"time {seconds:.1f}s, structure errors {problems}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
