"""Count what the CSS rule and value checks report on real stylesheets: every report is a false report.

    python bench/css_rules.py DIR [--include-min] [--show N]

DIR holds the libraries (e.g. an npm `node_modules`); each first-level package (or `@scope/name`)
is one row. For every .css file: `check_css` with the rule check (stray text between rules,
missing semicolons, selectors browsers reject, keyframe selectors, empty values) and, as the
baseline of the same run, without it; then with the value check too (each declaration's value
against its property's grammar: css-tree's lexer in the V8 engine, one call per file). The libraries'
CSS works in every browser, so the count of reports is the false-report count; the times are ratios
against the structure-only check. Reads files only; writes nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assetbuild.css import values
from assetbuild.css.check import check_css
from assetbuild.sources import SourceFile

_declarations = [0]
_value_seconds = [0.0]
_value_check = values.value_diagnostics


def _counted(src: SourceFile, found: Sequence[values.Declaration], severity: Any) -> Any:
    if not values.available():
        return _value_check(src, found, severity)
    _declarations[0] += len(found)
    start = time.perf_counter()
    try:
        return _value_check(src, found, severity)
    finally:
        _value_seconds[0] += time.perf_counter() - start


def _check(src: SourceFile, *, value_check: bool) -> Any:
    """check_css with the rule check, and with the value check or without it."""
    before = os.environ.get("ASSETBUILD_ENGINE")
    if not value_check:
        os.environ["ASSETBUILD_ENGINE"] = "esprima"  # values.available() is False then
    try:
        return check_css(src)
    finally:
        if before is None:
            os.environ.pop("ASSETBUILD_ENGINE", None)
        else:
            os.environ["ASSETBUILD_ENGINE"] = before


def package_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def main(argv: list[str]) -> int:
    include_min = "--include-min" in argv
    show = int(argv[argv.index("--show") + 1]) if "--show" in argv else 10
    args = [a for a in argv if not a.startswith("--") and not a.isdigit()]
    if not args:
        print(__doc__)
        return 2
    root = Path(args[0])
    paths = sorted(
        p
        for p in root.rglob("*.css")
        if p.is_file() and (include_min or not p.name.endswith(".min.css"))
    )
    files: Counter[str] = Counter()
    size: Counter[str] = Counter()
    reports: Counter[str] = Counter()
    value_reports: Counter[str] = Counter()
    base_s = rules_s = 0.0
    if not values.available():
        print("the value check needs the V8 engine (mini-racer): not installed, not measured")
    values.value_diagnostics = _counted  # type: ignore[assignment]  (rules.py imports it per call)
    shown = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        src = SourceFile(path, str(path), text, text)
        start = time.perf_counter()
        base = check_css(src, rules=False)
        middle = time.perf_counter()
        ruled = _check(src, value_check=False)
        end = time.perf_counter()
        full = _check(src, value_check=True)
        base_s += middle - start
        rules_s += end - middle
        value_reports[package_of(path, root)] += sum(
            1 for d in full.diagnostics if d not in ruled.diagnostics
        )
        package = package_of(path, root)
        files[package] += 1
        size[package] += len(text.encode())
        extra = [d for d in full.diagnostics if d not in base.diagnostics]
        reports[package] += len(extra)
        for diag in extra:
            if shown < show:
                print(diag.format())
                shown += 1
    print(f"{'package':<28} {'files':>5} {'bytes':>10} {'false reports':>13} {'of values':>9}")
    for package in sorted(files):
        print(
            f"{package:<28} {files[package]:>5} {size[package]:>10,} {reports[package]:>13} "
            f"{value_reports[package]:>9}"
        )
    total_files, total_bytes = sum(files.values()), sum(size.values())
    print(
        f"{'all':<28} {total_files:>5} {total_bytes:>10,} {sum(reports.values()):>13} "
        f"{sum(value_reports.values()):>9}"
    )
    ratio = (base_s + rules_s) / base_s if base_s else 0.0
    spent = _value_seconds[0]
    print(
        f"time: structure check {base_s:.2f} s, with the rule check {base_s + rules_s:.2f} s "
        f"({ratio:.1f}x; the first run imports tinycss2 and cssselect2); the value check "
        f"{spent:.2f} s more ({spent / base_s if base_s else 0.0:.2f}x the structure check; "
        f"{_declarations[0]:,} declarations in {len(paths)} files, one engine call a file, the "
        "first loading css-tree into the engine)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
