"""ES module trees against script bundles of the same size: cold, no-change and one-edit installs.

Two generated sites, measured in the same run with the same commands:
- `modules`: one `[[modules]]` tree of `--files` modules (default 300) in 10 directories, each
  importing two others by relative paths;
- `scripts`: the same code as classic scripts (imports and exports removed, the same bytes give or
  take) in 10 bundles of `--files / 10` files.

Per site, per repetition (the two sites alternate which goes first):
- cold: `assetbuild install -q` on a fresh copy (empty cache: everything checked and minified);
- no-change: `install -q` again once the stamps are old enough to prove anything (the quick path);
- one-edit: one file edited (a module, or one bundle's source), then `install -q` (a new version).

Printed: the median seconds of each, and modules / scripts per phase (the ratio is what to read: both
run on the same machine at the same moment). Nothing here asserts a time.

    python bench/modules.py [--files 300] [--reps 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

INSTALL = (sys.executable, "-m", "assetbuild", "install", "-q")
DIRS = 10
SITES = ("modules", "scripts")


def _body(i: int) -> str:
    """About 1.3 kB of ordinary code for module or script `i`."""
    return f"""\
const table{i} = [{", ".join(str((i * 7 + k) % 97) for k in range(24))}];

function helper{i}(value, options) {{
  // Scale a value by the table, clamping to the configured range.
  const min = options && options.min !== undefined ? options.min : 0;
  const max = options && options.max !== undefined ? options.max : 100;
  let total = 0;
  for (let k = 0; k < table{i}.length; k += 1) {{
    total += table{i}[k] * value;
    if (total > max * 10) {{
      total = total % (max * 10);
    }}
  }}
  return Math.min(max, Math.max(min, total / table{i}.length));
}}

const label{i} = "component-{i}";

function render{i}(node, state) {{
  if (!node) {{
    return null;
  }}
  const items = (state.items || []).map((item, index) => ({{
    key: label{i} + "-" + index,
    value: helper{i}(item.value, state.options),
    text: String(item.text || "").trim(),
  }}));
  node.setAttribute("data-component", label{i});
  node.textContent = items.map((item) => item.text + ": " + item.value).join(", ");
  return items.length;
}}
"""


def _module(i: int, n: int) -> str:
    deps = sorted({(i + 1) % n, (i * 3 + 7) % n} - {i})
    lines = []
    for d in deps:
        rel = f"../d{d % DIRS}/m{d}.js" if d % DIRS != i % DIRS else f"./m{d}.js"
        lines.append(f'import {{ render{d} }} from "{rel}";')
    uses = " + ".join(f"(typeof render{d})" for d in deps) or '""'
    return (
        "\n".join(lines)
        + "\n"
        + _body(i)
        + f"\nexport {{ render{i}, helper{i} }};\nexport const deps{i} = {uses};\n"
    )


def _script(i: int) -> str:
    return _body(i) + f"\nvar exported{i} = [render{i}, helper{i}];\n"


def generate(work: Path, files: int) -> dict[str, Path]:
    """Both sites under `work`, with every file's stamp old enough to prove "unchanged"."""
    sites = {name: work / name for name in SITES}
    mods = sites["modules"]
    for i in range(files):
        path = mods / "js" / "modules" / f"d{i % DIRS}" / f"m{i}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_module(i, files), "utf-8")
    (mods / "assetbuild.toml").write_text(
        '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n', "utf-8"
    )
    scripts = sites["scripts"]
    config = []
    for b in range(DIRS):
        config.append(f'[[bundle]]\noutput = "js/b{b}.js"\nsources = ["js/src/b{b}/*.js"]\n')
    for i in range(files):
        path = scripts / "js" / "src" / f"b{i % DIRS}" / f"s{i:04d}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_script(i), "utf-8")
    (scripts / "assetbuild.toml").write_text("\n".join(config), "utf-8")
    for site in sites.values():
        _age(site)
    return sites


def _age(site: Path) -> None:
    past = time.time() - 120
    for path in site.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)


def _source_bytes(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*.js") if "1" not in p.parts)


def _run(site: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(INSTALL, cwd=site, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"install failed in {site}: {done.stderr}")
    return seconds


def _edit_target(site: Path, name: str) -> Path:
    if name == "modules":
        return site / "js" / "modules" / "d5" / "m15.js"
    return site / "js" / "src" / "b5" / "s0015.js"


def measure(sites: dict[str, Path], work: Path, reps: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["XDG_CACHE_HOME"] = str(work / "cache-home")  # the cache key, away from the user's
    times: dict[str, dict[str, list[float]]] = {
        name: {"cold": [], "no-change": [], "one-edit": []} for name in SITES
    }
    for rep in range(reps):
        order = SITES if rep % 2 == 0 else tuple(reversed(SITES))
        copies = {}
        for name in order:
            copy = work / f"run-{name}"
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(sites[name], copy)
            _age(copy)
            copies[name] = copy
            times[name]["cold"].append(_run(copy, env))
        time.sleep(2.2)  # past RACY_NS: the stamps of what the cold install wrote can prove things
        for name in order:
            _run(copies[name], env)  # the state proves it and leaves the quick record
            times[name]["no-change"].append(_run(copies[name], env))
        for name in order:
            target = _edit_target(copies[name], name)
            target.write_text(target.read_text("utf-8") + f"\nconst edited{rep} = {rep};\n")
            times[name]["one-edit"].append(_run(copies[name], env))
    medians = {
        name: {phase: statistics.median(values) for phase, values in phases.items()}
        for name, phases in times.items()
    }
    ratios = {
        phase: medians["modules"][phase] / medians["scripts"][phase]
        for phase in ("cold", "no-change", "one-edit")
    }
    return {"seconds": medians, "ratio": ratios, "runs": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assetbuild-modules-bench-") as tmp:
        work = Path(tmp)
        sites = generate(work, args.files)
        sizes = {name: _source_bytes(site) for name, site in sites.items()}
        result = measure(sites, work, args.reps)
        result["source_bytes"] = sizes
        result["files"] = args.files
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    s, r = result["seconds"], result["ratio"]
    print(
        f"{args.files} files: modules {sizes['modules']} B in one tree, scripts "
        f"{sizes['scripts']} B in {DIRS} bundles; {args.reps} repetitions, medians"
    )
    for phase in ("cold", "no-change", "one-edit"):
        print(
            f"{phase:>9}: modules {s['modules'][phase] * 1000:7.0f} ms, scripts "
            f"{s['scripts'][phase] * 1000:7.0f} ms, ratio {r[phase]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
