"""Compare esprima with the optional fast engine (assetbuild.js.engine): strictness, agreement, speed.

Usage:
  python bench/engines.py strictness [--suite DIR]         test262 parser suite, per directory
  python bench/engines.py verify --js DIR... [--suite DIR]  same_programs vs an esprima tree compare
                                                            on rjsmin output of pass/ and DIR's *.js
  python bench/engines.py speed --js FILE_OR_DIR... [--runs N]  MB/s for check and verify, start-up

Library JS for `verify` and `speed`: `npm install jquery lodash bootstrap d3 vue react-dom moment` in a
scratch directory (never the repository) and pass its node_modules (or single files) with --js.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SUITE = Path(__file__).resolve().parent.parent.parent / "shared" / "test262-parser-tests"
SKIPPED_KEYS = frozenset({"range", "loc", "hashbang", "comments", "tokens", "errors"})


# ---------------------------------------------------------------------------------------------
# esprima reference: parse in a deep thread, compare trees without positions and raw spellings


def deep(fn: Callable[[], T]) -> T:
    """Run fn with a big stack and recursion limit (esprima is recursive)."""
    out: list[Any] = []
    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size(256 * 1024 * 1024)
    sys.setrecursionlimit(40_000)

    def target() -> None:
        try:
            out.append(("ok", fn()))
        except BaseException as exc:
            out.append(("err", exc))

    try:
        worker = threading.Thread(target=target)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    status, value = out[0]
    if status == "err":
        raise value
    return value  # type: ignore[no-any-return]


def esprima_parse(text: str, module: bool = False) -> Any:
    """The esprima tree, or None when esprima rejects the text (crashes count as rejections)."""
    import esprima

    def run() -> Any:
        try:
            return (esprima.parseModule if module else esprima.parseScript)(text)
        except Exception:
            return None

    return deep(run)


def esprima_key(node: Any) -> Any:
    """A comparable value for an esprima tree (iterative: trees can be deep)."""
    out: list[Any] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            out.append(("[", len(item)))
            stack.extend(reversed(item))
        elif hasattr(item, "__dict__"):
            fields = item.__dict__
            literal = fields.get("type") == "Literal"
            keys = sorted(
                k
                for k in fields
                if not k.startswith("_") and k not in SKIPPED_KEYS and not (literal and k == "raw")
            )
            out.append(("{", tuple(keys)))
            stack.extend(reversed([fields[k] for k in keys]))
        elif isinstance(item, float) and item.is_integer() and abs(item) < 2**53:
            out.append(int(item))
        else:
            out.append(item if isinstance(item, str | int | float | bool | None) else repr(item))
    return out


def esprima_same(a: str, b: str) -> bool:
    left, right = esprima_parse(a), esprima_parse(b)
    return left is not None and right is not None and esprima_key(left) == esprima_key(right)


# ---------------------------------------------------------------------------------------------
# strictness on test262


def suite_files(suite: Path) -> dict[str, list[Path]]:
    stale = {
        line.strip()
        for line in (suite / "STALE.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    return {
        d: sorted(p for p in (suite / d).glob("*.js") if f"{d}/{p.name}" not in stale)
        for d in ("pass", "fail", "early")
    }


def quickjs_checker() -> Callable[[str, bool], bool] | None:
    """`new Function(src)` in quickjs-ng (scripts only), if installed: True = accepted."""
    try:
        import quickjs
    except ImportError:
        return None
    ctx = quickjs.Context()
    compile_only = ctx.eval(
        "(function (s) { if (s.startsWith('#!')) s = '//' + s.slice(2);"
        " try { new Function(s); return true } catch (e) { return false } })"
    )
    return lambda text, module: bool(compile_only(text))


def strictness(suite: Path) -> None:
    from assetbuild.js import engine as jsengine

    quickjs = quickjs_checker()
    rows: dict[str, dict[str, int]] = {}
    differences: list[str] = []
    for directory, files in suite_files(suite).items():
        counts = dict.fromkeys(
            ("files", "esprima", "acorn", "engine", "combined", "quickjs", "engine limit"), 0
        )
        for path in files:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            module = path.name.endswith(".module.js")
            verdict = jsengine.check_scripts([text], module=module)[0]
            esprima_ok = esprima_parse(text, module) is not None
            acorn_ok = verdict is None or verdict.kind == "compile"
            # The proposed rule: engine acceptance is final; a rejection is confirmed by esprima
            # (whose message is shown) and stays a rejection even when esprima accepts.
            combined_ok = verdict is None
            counts["files"] += 1
            counts["esprima"] += esprima_ok
            counts["acorn"] += acorn_ok
            counts["engine"] += verdict is None
            counts["combined"] += combined_ok
            counts["engine limit"] += verdict is not None and verdict.kind == "limit"
            if quickjs is not None:
                # quickjs has no compile-only module API: modules count as it would score them
                # if it rejected nothing (pass) / everything (fail, early), i.e. neutral.
                counts["quickjs"] += quickjs(text, module) if not module else directory == "pass"
            if esprima_ok != (verdict is None):
                why = "accepted" if verdict is None else f"{verdict.kind}: {verdict.message}"
                differences.append(
                    f"{directory}/{path.name}: esprima {'accepts' if esprima_ok else 'rejects'},"
                    f" engine {why}"
                )
        rows[directory] = counts
    print("test262 parser tests (stale excluded): files accepted, then % accepted/rejected")
    print(f"{'dir':<6}" + "".join(f"{c:>14}" for c in rows["pass"]))
    for directory, counts in rows.items():
        n = counts["files"]
        cells = []
        for column, value in counts.items():
            if column in ("files", "engine limit"):
                cells.append(f"{value:>14}")
            else:
                share = value / n if directory == "pass" else 1 - value / n
                verb = "acc" if directory == "pass" else "rej"
                cells.append(f"{f'{share:.2%} {verb}':>14}")
        print(f"{directory:<6}" + "".join(cells))
    if quickjs is None:
        print("(quickjs-ng not installed: its column is meaningless)")
    print(f"\nesprima and the engine disagree on {len(differences)} files:")
    for line in differences:
        print("  " + line)


# ---------------------------------------------------------------------------------------------
# verification agreement on rjsmin output


def js_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".js", ".cjs")))
        else:
            files.append(path)
    return files


def verify(suite: Path, paths: Sequence[Path]) -> None:
    import rjsmin

    from assetbuild.js import engine as jsengine

    corpora = {
        "test262 pass/": [p for p in suite_files(suite)["pass"] if ".module." not in p.name],
        "libraries": js_files(paths),
    }
    for name, files in corpora.items():
        agree = disagree = changed = 0
        both_true = 0
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            if esprima_parse(text) is None:
                continue  # only sources that pass the check reach minification
            minified = rjsmin.jsmin(text)
            engine = jsengine.same_programs([(text, minified)])[0]
            reference = esprima_same(text, minified)
            changed += not reference
            both_true += engine and reference
            if not reference:
                print(f"  rjsmin changed {path}: engine {'same' if engine else 'different'}")
            if engine == reference:
                agree += 1
            else:
                disagree += 1
                print(f"  DISAGREE {path}: engine {engine}, esprima {reference}")
        print(
            f"{name}: {agree + disagree} scripts, agree {agree}, disagree {disagree};"
            f" rjsmin changed the program in {changed} (esprima), both said same {both_true}"
        )


# ---------------------------------------------------------------------------------------------
# speed


def timed(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


COLD = """
import sys, time
started = time.perf_counter()
import rjsmin
from assetbuild.js import engine as jsengine
texts = [open(p, encoding="utf-8").read() for p in sys.argv[1:]]
loaded = time.perf_counter()
for text in texts:  # per file, as a build does: check, minify, verify
    if jsengine.check_scripts([text]) == [None]:
        jsengine.same_programs([(text, rjsmin.jsmin(text))])
print(time.perf_counter() - loaded, time.perf_counter() - started)
"""


def cold(files: Sequence[Path]) -> tuple[float, float]:
    """A fresh process: seconds for check+minify+verify of every file, and with start-up."""
    runs = [
        subprocess.run(
            [sys.executable, "-c", COLD, *map(str, files)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for _ in range(3)
    ]
    return statistics.median(float(r[0]) for r in runs), statistics.median(
        float(r[1]) for r in runs
    )


def startup() -> tuple[float, float]:
    """Seconds for a fresh process to import + load the engine, and the engine's own figure."""
    code = (
        "import time; t = time.perf_counter(); from assetbuild import jsengine;"
        " s = jsengine.startup_seconds(); jsengine.check_scripts(['a']);"
        " print(time.perf_counter() - t, s)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(3)
    ]
    return statistics.median(float(r[0]) for r in runs), statistics.median(
        float(r[1]) for r in runs
    )


def speed(paths: Sequence[Path], runs: int) -> None:
    import rjsmin

    from assetbuild.js import engine as jsengine

    files = [p for p in js_files(paths) if esprima_parse(p.read_text(encoding="utf-8")) is not None]
    texts = [p.read_text(encoding="utf-8") for p in files]
    pairs = [(t, rjsmin.jsmin(t)) for t in texts]
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    process, engine_start = startup()
    jsengine.check_scripts(["warm = 1"])
    results = {
        "esprima check": timed(lambda: [esprima_parse(t) for t in texts], runs),
        "esprima verify": timed(lambda: [esprima_same(a, b) for a, b in pairs], runs),
        "engine check": timed(lambda: jsengine.check_scripts(texts), runs),
        "engine verify": timed(lambda: jsengine.same_programs(pairs), runs),
        "engine check+verify": timed(
            lambda: (jsengine.check_scripts(texts), jsengine.same_programs(pairs)), runs
        ),
    }
    print(f"{len(texts)} files, {megabytes:.2f} MB of source JS; median of {runs} runs")
    print(f"{'what':<22}{'seconds':>10}{'MB/s':>10}")
    for what, seconds in results.items():
        print(f"{what:<22}{seconds:>10.3f}{megabytes / seconds:>10.2f}")
    print(f"engine start-up: {engine_start:.3f} s in-process; {process:.3f} s import+start+1 check")
    work, total = cold(files)
    print(
        f"cold process, per file check+rjsmin+verify: {work:.3f} s ({megabytes / work:.2f} MB/s),"
        f" {total:.3f} s with imports and start-up"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("strictness", "verify", "speed"))
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--js", type=Path, nargs="*", default=[])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from assetbuild.js import engine as jsengine

    if not jsengine.available():
        sys.exit("the engine (mini-racer) is not installed: it has no wheel for this platform")
    if args.what == "strictness":
        strictness(args.suite)
    elif args.what == "verify":
        verify(args.suite, args.js)
    else:
        speed(args.js, args.runs)


if __name__ == "__main__":
    main()
