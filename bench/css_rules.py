"""Count what the CSS rule check reports on real stylesheets: every report here is a false report.

    python bench/css_rules.py DIR [--include-min] [--show N]

DIR holds the libraries (e.g. an npm `node_modules`); each first-level package (or `@scope/name`)
is one row. For every .css file: `check_css` with the rule check (stray text between rules,
missing semicolons, selectors browsers reject, keyframe selectors, empty values) and, as the
baseline of the same run, without it. The libraries' CSS works in every browser, so the count of
rule reports is the false-report count; the time is a ratio against the structure-only check.
Reads files only; writes nothing.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from assetbuild.css.check import check_css
from assetbuild.sources import SourceFile


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
    base_s = rules_s = 0.0
    shown = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        src = SourceFile(path, str(path), text, text)
        start = time.perf_counter()
        base = check_css(src, rules=False)
        middle = time.perf_counter()
        full = check_css(src)
        end = time.perf_counter()
        base_s += middle - start
        rules_s += end - middle
        package = package_of(path, root)
        files[package] += 1
        size[package] += len(text.encode())
        extra = [d for d in full.diagnostics if d not in base.diagnostics]
        reports[package] += len(extra)
        for diag in extra:
            if shown < show:
                print(diag.format())
                shown += 1
    print(f"{'package':<28} {'files':>5} {'bytes':>10} {'false reports':>13}")
    for package in sorted(files):
        print(f"{package:<28} {files[package]:>5} {size[package]:>10,} {reports[package]:>13}")
    total_files, total_bytes = sum(files.values()), sum(size.values())
    print(f"{'all':<28} {total_files:>5} {total_bytes:>10,} {sum(reports.values()):>13}")
    ratio = (base_s + rules_s) / base_s if base_s else 0.0
    print(
        f"time: structure check {base_s:.2f} s, with the rule check {base_s + rules_s:.2f} s "
        f"({ratio:.1f}x; the first run imports tinycss2 and cssselect2)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
