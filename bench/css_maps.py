"""Stylesheets' maps: the array path (`maps/styles.py`) against the Python path it replaces, in one run.

Each stylesheet of the synthetic corpus (`corpus.py`; and, with `--libraries DIR`, every stylesheet
of real libraries, their own `sourceMappingURL` comments removed) goes through the steps a cold
build takes before its map (check, url() rewriting, minification); then, per repetition and in
alternating order, its map is made both ways: `compose.mapped_file` (`align` + `verify`, a few
Python objects per token) and `styles.style_map`. Both find the tokens in the tokenizer's memo, as
in a build. Printed: CPU seconds of each (median over repetitions), the ratio, tokens mapped, and
how many maps differ (must be 0: the array path ships the same bytes).

    python bench/css_maps.py [--reps 5] [--scale 1] [--libraries /tmp/assetbuild-css-libraries]

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))


def _inputs(paths: list[Path]) -> list[tuple[Any, str, str]]:
    """(source, input text, output) of each stylesheet that checks, as `_process_css` maps it."""
    from assetbuild.build.bundle import output_dir_for
    from assetbuild.css.check import check_css, without_charsets
    from assetbuild.css.minify import minify_css
    from assetbuild.css.urls import rewrite_with_assets
    from assetbuild.maps.compose import find_url
    from assetbuild.sources import read_source

    found = []
    for path in paths:
        src = read_source(path, path.name)
        report = check_css(src)
        if not report.ok or find_url(src.original) is not None:
            continue
        out_dir = output_dir_for(path.parent, "css/main.css")
        rewritten, _, _ = rewrite_with_assets(src, path.parent, out_dir, path.parent)
        if rewritten.text != src.text:
            src, report = rewritten, check_css(rewritten, rules=False)
        found.append((src, report.text, minify_css(without_charsets(report)).text))
    return found


def _timed(items: list[tuple[Any, str, str]], make: Any) -> tuple[float, list[Any]]:
    from assetbuild.css.tokens import tokenize
    from assetbuild.css.walk import preprocess

    spent, made = 0.0, []
    for src, text, output in items:
        tokenize(preprocess(text)), tokenize(preprocess(output))  # the build's memo
        start = time.process_time()
        made.append(make(src, text, output))
        spent += time.process_time() - start
    return spent, made


def measure(items: list[tuple[Any, str, str]], reps: int) -> dict[str, Any]:
    from assetbuild.maps.compose import mapped_file
    from assetbuild.maps.styles import style_map

    def python(src: Any, text: str, output: str) -> Any:
        return mapped_file("css", src, text, output, 0, None)

    ways = {"python": python, "arrays": style_map}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    made: dict[str, list[Any]] = {}
    for rep in range(reps):
        for name in ways if rep % 2 == 0 else reversed(list(ways)):
            spent, made[name] = _timed(items, ways[name])
            cpu[name].append(spent)
    medians = {name: statistics.median(times) for name, times in cpu.items()}
    differ = sum(a != b for a, b in zip(made["python"], made["arrays"], strict=True))
    tokens = sum(m.mappings.count(",") + 1 for m in made["python"] if m.mappings)
    return {
        "files": len(items),
        "tokens": tokens,
        "cpu_seconds": medians,
        "ratio": medians["arrays"] / medians["python"],
        "differ": differ,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2, 4))
    parser.add_argument("--libraries", type=Path)
    args = parser.parse_args(argv)
    import corpus

    from assetbuild.maps.compose import strip_url_comment

    with tempfile.TemporaryDirectory(prefix="assetbuild-css-maps-") as tmp:
        site = Path(tmp) / "corpus"
        corpus.generate(site, scale=args.scale)
        sets = {"corpus": _inputs(sorted(site.rglob("*.css")))}
        if args.libraries is not None:
            copies = []
            for i, path in enumerate(sorted(args.libraries.rglob("*.css"))):
                copy = Path(tmp) / "libraries" / f"{i:03d}-{path.name}"
                copy.parent.mkdir(exist_ok=True)
                copy.write_text(strip_url_comment(path.read_text("utf-8")), "utf-8", newline="")
                copies.append(copy)
            sets["libraries"] = _inputs(copies)
        for name, items in sets.items():
            r = measure(items, args.reps)
            print(
                f"{name}: {r['files']} stylesheets, {r['tokens']} tokens mapped; CPU (median of "
                f"{args.reps}) python path {r['cpu_seconds']['python']:.3f} s, array path "
                f"{r['cpu_seconds']['arrays']:.3f} s, ratio {r['ratio']:.2f}; maps that differ: "
                f"{r['differ']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
