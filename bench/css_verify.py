"""CPU time of the CSS per-file path: the token walk against the tinycss2 tree walk, in one run.

Usage: python bench/css_verify.py [--corpus DIR] [--reps N] [--json]

Builds the per-file jobs of every CSS bundle of a site (default: the synthetic corpus of
bench/corpus.py at scale 1, generated into a temporary directory) the way a build does (read,
tokens substituted), then times `bundle.process_file` on all of them: structure check, url()
rewriting, minification and its verification. "tree" is the same code with tinycss2's tree
underneath (`tests/oracles/cssoracle.py`: the walk and the url search over tinycss2's tree,
csscheck's character scan for every file), "tokens" the shipped path. Every repetition starts
cold (memos cleared), as a fresh build process does; the best CPU time of N is reported, with
the ratio, the files per minify method, and whether both paths gave the same output bytes.
Reads the site only; writes nothing but the temporary corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.oracles

from assetbuild.build.bundle import output_dir_for, process_file
from assetbuild.build.results import FileJob, FileResult
from assetbuild.config import load_config
from assetbuild.css import check as csscheck
from assetbuild.css import minify as cssminify
from assetbuild.css import tokens as csstokens
from assetbuild.css import urls
from assetbuild.minified import Minified
from assetbuild.sources import SourceFile, collect, display_path, read_source
from assetbuild.tokens import substitute
from tests.oracles import cssoracle


def css_jobs(site: Path) -> list[FileJob]:
    """Every CSS source of the site's bundles as the build hands it to process_file."""
    config = load_config(site)
    values = dict(config.tokens)
    jobs: list[FileJob] = []
    for spec in config.bundles:
        if spec.kind != "css":
            continue
        output_dir = str(output_dir_for(config.root, spec.output))
        for index, path in enumerate(collect(config.root, spec)):
            src = read_source(path, display_path(path, site))
            if spec.tokens:
                src, _ = substitute(src, values, strict=config.strict_tokens)
            jobs.append(
                FileJob(
                    kind="css",
                    path=str(path),
                    display=src.display,
                    original=src.original,
                    text=src.text,
                    edits=tuple((e.start, e.end, e.orig_start, e.orig_end) for e in src.edits),
                    minify=spec.minify,
                    first=index == 0,
                    output_dir=output_dir,
                    root=str(config.root),
                )
            )
    return jobs


def _tree_minify_css(text: str) -> Minified:
    """minify_css as it was over tinycss2's tree (too deep to walk: shipped as written)."""
    expected = cssoracle.tree_facts(text)
    if expected is None:
        return Minified(text, "none")
    fast = cssminify._rcssmin_or_none(text)
    if fast is not None and (fast == text or cssoracle.tree_facts(fast) == expected):
        return Minified(fast, "rcssmin")
    try:
        safe, _ = cssoracle.tree_minified_with_facts(text)
    except RecursionError:
        return Minified(text, "none")
    if cssoracle.tree_facts(safe) == expected:
        return Minified(safe, "safe")
    return Minified(text, "none")


def _scan_check_css(
    src: SourceFile, *, strict: bool = False, rules: bool = True
) -> csscheck.CssReport:
    """check_css as it was: the character scan for every file (now only for files with errors),
    then the same rule check (css/rules) as the token path."""
    scan = csscheck._Scan(src)
    scan.run()
    if rules and not scan.diagnostics:
        from assetbuild.css.rules import rule_diagnostics
        from assetbuild.css.tokens import tokenize
        from assetbuild.css.walk import preprocess

        tokens = tokenize(preprocess(src.text))
        if tokens.clean:
            scan.diagnostics.extend(rule_diagnostics(src, tokens, strict=strict))
    return csscheck.CssReport(
        src.text, tuple(scan.diagnostics), tuple(scan.at_rules), scan.first_rule, src
    )


@contextlib.contextmanager
def tree_path() -> Iterator[None]:
    """process_file with tinycss2's tree underneath, for the length of the block."""
    saved = cssminify.minify_css, urls._find_references, csscheck.check_css
    cssminify.minify_css = _tree_minify_css  # bundle imports these at call time
    urls._find_references = cssoracle.tree_find_references
    csscheck.check_css = _scan_check_css
    try:
        yield
    finally:
        cssminify.minify_css, urls._find_references, csscheck.check_css = saved


def _cold() -> None:
    """Forget every memo, as a new build process starts without them."""
    csstokens._MEMO.clear()
    csstokens._KNOWN.clear()
    cssoracle._PARSED.clear()


def run(jobs: list[FileJob]) -> tuple[float, list[FileResult]]:
    _cold()
    start = time.process_time()
    results = [process_file(job) for job in jobs]
    return time.process_time() - start, results


def measure(jobs: list[FileJob], reps: int) -> dict[str, object]:
    timings: dict[str, list[float]] = {"tree": [], "tokens": []}
    outputs: dict[str, list[FileResult]] = {}
    for _ in range(reps):
        with tree_path():
            seconds, outputs["tree"] = run(jobs)
        timings["tree"].append(seconds)
        seconds, outputs["tokens"] = run(jobs)
        timings["tokens"].append(seconds)
    best = {mode: min(times) for mode, times in timings.items()}
    return {
        "files": len(jobs),
        "bytes": sum(len(job.text.encode()) for job in jobs),
        "cpu_seconds": best,
        "ratio": best["tree"] / best["tokens"] if best["tokens"] else None,
        "methods": {mode: dict(Counter(r.method for r in out)) for mode, out in outputs.items()},
        "same_output": [r.text for r in outputs["tree"]] == [r.text for r in outputs["tokens"]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a site directory (default: generate one)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; the best is reported")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        site = args.corpus
        if site is None:
            import corpus

            site = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="css-verify-")))
            corpus.generate(site, scale=1)
        result = measure(css_jobs(site.resolve()), max(1, args.reps))
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    cpu = result["cpu_seconds"]
    assert isinstance(cpu, dict)
    size = result["bytes"]
    assert isinstance(size, int)
    print(f"{result['files']} CSS files, {size / 1e6:.2f} MB, best of {args.reps}")
    for mode in ("tree", "tokens"):
        methods = result["methods"]
        assert isinstance(methods, dict)
        shown = ", ".join(f"{m} {n}" for m, n in sorted(methods[mode].items()))
        print(f"  {mode:<6} {cpu[mode]:7.3f} s CPU   ({shown})")
    print(f"  ratio  {result['ratio']:.1f}x   same output: {result['same_output']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
