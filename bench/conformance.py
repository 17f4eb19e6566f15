"""Conformance of the JavaScript checker and minifier on the test262 parser suite (and real code).

    python bench/conformance.py [--suite DIR] [--limit N] [--json] [--jobs N] [--corpus DIR]

pass/ files must be accepted, fail/ and early/ rejected (`*.module.js` are parsed as modules,
the rest as classic scripts through the same code path as `check_js`). Every script in pass/
(and in --corpus) is minified with `minify_js`, and what ships is re-verified independently
(esprima's own toDict trees, not the fingerprint that minify_js uses).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SUITE = REPO.parent / "shared" / "test262-parser-tests"
DIRECTORIES = ("pass", "fail", "early")
_CRASH_PREFIX = "the JavaScript checker failed"
_LIMIT_PREFIX = "file is too deeply nested"


def stale_files(suite: Path) -> frozenset[str]:
    """Paths (like `fail/0d5e450f1da8a92a.js`) whose expectations the current language no longer matches."""
    listing = suite / "STALE.txt"
    if not listing.exists():
        return frozenset()
    lines = listing.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def suite_files(suite: Path, directory: str, limit: int | None = None) -> list[Path]:
    """The files of one suite directory, sorted, stale ones left out, at most `limit`."""
    stale = stale_files(suite)
    files = sorted(
        path for path in (suite / directory).glob("*.js") if f"{directory}/{path.name}" not in stale
    )
    return files if limit is None else files[:limit]


def check_file(path: str, text: str) -> dict[str, Any]:
    """Accept/reject one file the way assetbuild would; time it; classify crashes."""
    from assetbuild.js.check import check_js, run_deep
    from assetbuild.sources import SourceFile

    started = time.perf_counter()
    crash = limit = False
    try:
        if path.endswith(".module.js"):
            accepted = run_deep(lambda: _module_accepted(text))
        else:
            report = check_js(SourceFile(Path(path), path, text, text), first=True)
            accepted = report.ok
            messages = [d.message for d in report.diagnostics]
            crash = any(m.startswith(_CRASH_PREFIX) for m in messages)
            limit = any(m.startswith(_LIMIT_PREFIX) for m in messages)
    except Exception as exc:  # a crash of ours, not a verdict on the file
        accepted, crash = False, True
        print(f"crash: {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return {
        "path": path,
        "accepted": accepted,
        "crash": crash,
        "limit": limit,
        "seconds": time.perf_counter() - started,
    }


def _module_accepted(text: str) -> bool:
    import esprima

    try:
        esprima.parseModule(text, {"positionEncoding": "scalar"})
    except esprima.Error:
        return False
    return True


def minify_file(path: str, text: str) -> dict[str, Any]:
    """Minify one script; re-verify what ships with an independent tree comparison."""
    import rjsmin

    from assetbuild.js.minify import minify_js

    started = time.perf_counter()
    result = minify_js(text)
    seconds = time.perf_counter() - started
    verdict = _independently_same(text, result.text) if result.method != "none" else True
    return {
        "path": path,
        "method": result.method,
        "changed": verdict is False,
        "unjudged": verdict is None,
        "source_bytes": len(text.encode("utf-8", "surrogatepass")),
        "rjsmin_bytes": len(  # what plain rjsmin makes of the text, for comparison
            rjsmin.jsmin(text, keep_bang_comments=True).encode("utf-8", "surrogatepass")
        ),
        "shipped_bytes": len(result.text.encode("utf-8", "surrogatepass")),
        "seconds": seconds,
    }


def _independently_same(a: str, b: str) -> bool | None:
    """esprima's plain tree comparison; None when esprima cannot parse the source itself.

    (esprima-fork rejects one valid test262 file that the fast engine accepts: shipped from the
    engine's verification, it has no independent second opinion here and is counted apart.)
    """
    from assetbuild.js.check import run_deep

    try:
        left = run_deep(lambda: _plain_tree(a))
    except Exception:
        return None
    try:
        return bool(run_deep(lambda: left == _plain_tree(b)))
    except Exception:
        return False


def _plain_tree(text: str) -> Any:
    import esprima

    return _strip(esprima.parseScript(text).toDict())


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        literal = value.get("type") == "Literal"
        return {
            key: _strip(item)
            for key, item in value.items()
            if key not in ("range", "loc", "comments", "hashbang")
            and not (literal and key == "raw")
        }
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _job(task: tuple[str, str, str]) -> dict[str, Any]:
    kind, path, text = task
    return check_file(path, text) if kind == "check" else minify_file(path, text)


def run_tasks(tasks: list[tuple[str, str, str]], jobs: int) -> list[dict[str, Any]]:
    if jobs <= 1:
        return [_job(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_job, tasks, chunksize=max(1, len(tasks) // (jobs * 8))))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def conformance(suite: Path, limit: int | None, jobs: int) -> dict[str, Any]:
    """Accept/reject figures per directory, and the minifier figures over pass/ scripts."""
    results: dict[str, Any] = {}
    for directory in DIRECTORIES:
        files = suite_files(suite, directory, limit)
        started = time.perf_counter()
        rows = run_tasks([("check", f"{directory}/{p.name}", _read(p)) for p in files], jobs)
        wall = time.perf_counter() - started
        accepted = [r for r in rows if r["accepted"]]
        wrong = [r["path"] for r in rows if r["accepted"] != (directory == "pass")]
        results[directory] = {
            "total": len(rows),
            "accepted": len(accepted),
            "rejected": len(rows) - len(accepted),
            "crashes": sum(r["crash"] for r in rows),
            "nesting_limit": sum(r["limit"] for r in rows),
            "wrong": sorted(wrong),
            "seconds_wall": round(wall, 2),
            "seconds_cpu": round(sum(r["seconds"] for r in rows), 2),
        }
    scripts = [p for p in suite_files(suite, "pass", limit) if not p.name.endswith(".module.js")]
    results["minify_pass"] = minify_summary([(f"pass/{p.name}", _read(p)) for p in scripts], jobs)
    return results


def minify_summary(files: Iterable[tuple[str, str]], jobs: int) -> dict[str, Any]:
    started = time.perf_counter()
    rows = run_tasks([("minify", path, text) for path, text in files], jobs)
    methods = {m: sum(r["method"] == m for r in rows) for m in ("rjsmin", "safe", "none")}
    return {
        "files": len(rows),
        **methods,
        "changed_program": sum(r["changed"] for r in rows),
        "changed_files": sorted(r["path"] for r in rows if r["changed"]),
        "unjudged_files": sorted(r["path"] for r in rows if r["unjudged"]),
        "not_minified": sorted(r["path"] for r in rows if r["method"] == "none"),
        "safe_files": sorted(r["path"] for r in rows if r["method"] == "safe"),
        "source_bytes": sum(r["source_bytes"] for r in rows),
        "rjsmin_bytes": sum(r["rjsmin_bytes"] for r in rows),
        "shipped_bytes": sum(r["shipped_bytes"] for r in rows),
        "seconds_wall": round(time.perf_counter() - started, 2),
    }


def corpus_files(root: Path) -> Iterator[tuple[str, str]]:
    """Every `.js` file under root (sorted), as scripts to check and minify."""
    for path in sorted(root.rglob("*.js")):
        if path.is_file():
            yield str(path.relative_to(root)), _read(path)


def corpus(root: Path, jobs: int) -> dict[str, Any]:
    files = list(corpus_files(root))
    checks = run_tasks([("check", path, text) for path, text in files], jobs)
    scripts = {r["path"] for r in checks if r["accepted"]}
    summary = minify_summary([(p, t) for p, t in files if p in scripts], jobs)
    summary["checked"] = len(checks)
    summary["rejected_by_checker"] = sorted(r["path"] for r in checks if not r["accepted"])
    return summary


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def render(results: dict[str, Any]) -> str:
    lines = [f"{'dir':<7}{'total':>7}{'accepted':>10}{'rejected':>10}{'crashes':>9}{'time':>9}"]
    for directory in DIRECTORIES:
        row = results[directory]
        lines.append(
            f"{directory + '/':<7}{row['total']:>7}{row['accepted']:>10}{row['rejected']:>10}"
            f"{row['crashes']:>9}{row['seconds_wall']:>8.1f}s"
        )
    for directory in DIRECTORIES:
        row = results[directory]
        good = row["accepted"] if directory == "pass" else row["rejected"]
        verdict = "accepted" if directory == "pass" else "rejected"
        lines.append(f"{directory}/ {verdict}: {_percent(good, row['total'])}")
        for path in row["wrong"]:
            lines.append(f"  wrong verdict: {path}")
    for name in ("minify_pass", "corpus"):
        if name in results:
            lines.extend(_render_minify(name, results[name]))
    return "\n".join(lines)


def _render_minify(name: str, row: dict[str, Any]) -> list[str]:
    lines = [
        f"{name}: {row['files']} scripts: rjsmin {row['rjsmin']}, safe {row['safe']}, "
        f"unminified {row['none']}, changed program {row['changed_program']} "
        f"({row['seconds_wall']:.1f}s)",
        f"  bytes: source {row['source_bytes']:,}, rjsmin-only {row['rjsmin_bytes']:,}, "
        f"shipped {row['shipped_bytes']:,}",
    ]
    lines += [f"  CHANGED: {p}" for p in row["changed_files"]]
    lines += [
        f"  no independent check (esprima rejects the valid source): {p}"
        for p in row["unjudged_files"]
    ]
    lines += [f"  unminified: {p}" for p in row["not_minified"][:20]]
    lines += [f"  safe path: {p}" for p in row["safe_files"][:20]]
    if "rejected_by_checker" in row:
        lines.append(f"  checked {row['checked']}, rejected {len(row['rejected_by_checker'])}")
        lines += [f"  rejected: {p}" for p in row["rejected_by_checker"][:20]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    parser.add_argument("--limit", type=int, default=None, help="files per directory")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--corpus", type=Path, default=None, help="a directory of real .js files")
    args = parser.parse_args(argv)
    if not args.suite.is_dir():
        parser.error(f"no test262 parser suite at {args.suite}")
    results = conformance(args.suite, args.limit, args.jobs)
    if args.corpus is not None:
        results["corpus"] = corpus(args.corpus, args.jobs)
    print(json.dumps(results, indent=2) if args.json else render(results))
    failed = any(results[d]["crashes"] for d in DIRECTORIES)
    return 1 if failed or results["minify_pass"]["changed_program"] else 0


if __name__ == "__main__":
    sys.exit(main())
