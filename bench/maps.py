"""Source maps: what they cost and how large they are, measured in one run against maps off.

- Cold build: `assetbuild install --no-cache` on a fresh copy of the synthetic corpus site
  (`corpus.py`), `--sourcemap none` and `--sourcemap linked` alternating, median of each and the
  ratio (the issue's target: at most +15%), in wall and in CPU seconds (the command's and its
  workers': on a shared machine, what others' load disturbs least).
- Watch rebuild: in one process, as `watch` does (one `Memory` kept alive per mode, `into-current`):
  edit one source of the largest JS bundle, rebuild and install, the modes alternating; median per
  mode and the difference in ms, wall and CPU (target: at most +10 ms).
- Sizes: real libraries (jQuery, d3; from an npm `node_modules`) as one-file bundles: our map against
  esbuild's `--sourcemap` for the same file, with `--minify-whitespace` (the same kind of output as
  ours) and with `--minify` (renaming, so its map also carries `names`); bytes and gzip bytes.

    python bench/maps.py [--reps 5] [--scale 1] [--node-modules DIR] [--esbuild PATH] [--json]

Nothing here asserts a time; numbers are printed (stdout) with the command that made them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
MODES = ("none", "linked")
INSTALL = (sys.executable, "-m", "assetbuild", "install")


def _corpus(work: Path, scale: int) -> Path:
    import corpus

    site = work / "corpus"
    corpus.generate(site, scale=scale)
    return site


def _fresh(site: Path, work: Path, name: str) -> Path:
    dest = work / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(site, dest)
    return dest


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold(site: Path, work: Path, reps: int) -> dict[str, Any]:
    """Seconds (wall and CPU) of `install --no-cache` per mode, alternating modes each repetition.

    CPU seconds (of the command and the workers it waited for) are what a shared machine's load
    disturbs least; wall seconds are what a user waits."""
    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    for rep in range(reps):
        for mode in MODES if rep % 2 == 0 else reversed(MODES):
            copy = _fresh(site, work, "cold")
            start, used = time.perf_counter(), _children_cpu()
            done = subprocess.run(
                [*INSTALL, "--no-cache", "-q", "--sourcemap", mode],
                cwd=copy,
                env=env,
                capture_output=True,
                text=True,
            )
            times[mode].append(time.perf_counter() - start)
            cpu[mode].append(_children_cpu() - used)
            if done.returncode != 0:
                raise SystemExit(f"install failed ({mode}): {done.stderr}")
    medians = {m: statistics.median(t) for m, t in times.items()}
    cpu_medians = {m: statistics.median(t) for m, t in cpu.items()}
    return {
        "seconds": medians,
        "ratio": medians["linked"] / medians["none"],
        "cpu_seconds": cpu_medians,
        "cpu_ratio": cpu_medians["linked"] / cpu_medians["none"],
        "runs": times,
    }


def rebuild(site: Path, work: Path, reps: int) -> dict[str, Any]:
    """Seconds (wall, and CPU of this process: V8 runs on its threads) of one watch-style rebuild
    after a one-file edit, per mode; the modes alternate, each with its own site and `Memory`."""
    from assetbuild.build.pipeline import Memory, Session, install
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    out: dict[str, Any] = {"seconds": {}, "cpu_seconds": {}, "bundle": None}
    state: dict[str, Any] = {}
    for mode in MODES:
        copy = _fresh(site, work, f"watch-{mode}")
        config = load_config(copy, None)
        spec = max(
            (b for b in config.bundles if b.kind == "js"),
            key=lambda b: sum(p.stat().st_size for p in copy.rglob("*.js") if b.area in str(p)),
        )
        out["bundle"] = spec.output
        memory = Memory()
        install(Session(config, BuildOptions(sourcemap=mode), memory), policy="into-current")
        only = BuildOptions(sourcemap=mode, only=frozenset({spec.output}))
        target = Session(config, only, memory).sources(spec)[0]
        state[mode] = (config, only, memory, target, target.read_text("utf-8"))
    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    for i in range(reps + 1):
        for mode in MODES if i % 2 == 0 else reversed(MODES):
            config, only, memory, target, original = state[mode]
            target.write_text(original + f"\nvar benchEdit{i} = {i};\n", "utf-8")
            start, used = time.perf_counter(), time.process_time()
            install(Session(config, only, memory), policy="into-current")
            if i:  # the first one warms what watch has warm after its first build
                times[mode].append(time.perf_counter() - start)
                cpu[mode].append(time.process_time() - used)
    for mode in MODES:
        out["seconds"][mode] = statistics.median(times[mode])
        out["cpu_seconds"][mode] = statistics.median(cpu[mode])
    out["extra_ms"] = (out["seconds"]["linked"] - out["seconds"]["none"]) * 1000
    out["extra_cpu_ms"] = (out["cpu_seconds"]["linked"] - out["cpu_seconds"]["none"]) * 1000
    return out


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def sizes(node_modules: Path, esbuild: str | None, work: Path) -> list[dict[str, Any]]:
    libs = {
        "jquery.js": node_modules / "jquery" / "dist" / "jquery.js",
        "d3.js": node_modules / "d3" / "dist" / "d3.js",
    }
    rows = []
    for name, path in libs.items():
        if not path.is_file():
            continue
        site = work / f"size-{name}"
        (site / "src").mkdir(parents=True)
        shutil.copy(path, site / "src" / name)
        (site / "assetbuild.toml").write_text(
            f'sourcemap = "linked"\n[[bundle]]\noutput = "js/{name}"\nsources = ["src/{name}"]\n'
        )
        subprocess.run([sys.executable, "-m", "assetbuild", "install", "-q"], cwd=site, check=True)
        ours = (site / "js" / "1" / f"{name}.map").read_bytes()
        row: dict[str, Any] = {
            "file": name,
            "source": path.stat().st_size,
            "bundle": (site / "js" / "1" / name).stat().st_size,
            "ours": len(ours),
            "ours_gzip": _gz(ours),
        }
        for flag in ("--minify-whitespace", "--minify"):
            if esbuild is None:
                continue
            outfile = work / f"esbuild{flag}-{name}"
            subprocess.run(
                [
                    esbuild,
                    str(path),
                    flag,
                    "--sourcemap",
                    f"--outfile={outfile}",
                    "--log-level=error",
                ],
                check=True,
            )
            data = Path(f"{outfile}.map").read_bytes()
            key = "esbuild_ws" if flag == "--minify-whitespace" else "esbuild_min"
            row[key] = len(data)
            row[key + "_gzip"] = _gz(data)
            row[key + "_bundle"] = outfile.stat().st_size
        rows.append(row)
    return rows


def _find_esbuild(given: str | None, node_modules: Path | None) -> str | None:
    for candidate in (given, os.environ.get("ESBUILD"), shutil.which("esbuild")):
        if candidate:
            return candidate
    if node_modules is not None and (node_modules / ".bin" / "esbuild").exists():
        return str(node_modules / ".bin" / "esbuild")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2, 4))
    parser.add_argument("--node-modules", type=Path, default=REPO / ".ci" / "npm" / "node_modules")
    parser.add_argument("--esbuild")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    node_modules = args.node_modules if args.node_modules.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="assetbuild-maps-bench-") as tmp:
        work = Path(tmp)
        site = _corpus(work, args.scale)
        print("cold builds...", file=sys.stderr)
        result: dict[str, Any] = {"cold": cold(site, work, args.reps)}
        print("watch rebuilds...", file=sys.stderr)
        result["rebuild"] = rebuild(site, work, args.reps)
        print("sizes...", file=sys.stderr)
        esbuild = _find_esbuild(args.esbuild, node_modules)
        result["sizes"] = sizes(node_modules, esbuild, work) if node_modules else []
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    c, r = result["cold"], result["rebuild"]
    print(f"corpus scale {args.scale}, {args.reps} repetitions, medians")
    print(
        f"cold install --no-cache: maps off {c['seconds']['none']:.2f} s, linked "
        f"{c['seconds']['linked']:.2f} s, ratio {c['ratio']:.2f}; CPU {c['cpu_seconds']['none']:.2f} "
        f"s against {c['cpu_seconds']['linked']:.2f} s, ratio {c['cpu_ratio']:.2f}"
    )
    print(
        f"watch rebuild of {r['bundle']}: maps off {r['seconds']['none'] * 1000:.0f} ms, linked "
        f"{r['seconds']['linked'] * 1000:.0f} ms, +{r['extra_ms']:.0f} ms; CPU "
        f"{r['cpu_seconds']['none'] * 1000:.0f} ms against {r['cpu_seconds']['linked'] * 1000:.0f} "
        f"ms, +{r['extra_cpu_ms']:.0f} ms"
    )
    for row in result["sizes"]:
        line = f"{row['file']}: source {row['source']} B, ours map {row['ours']} B (gzip {row['ours_gzip']})"
        if "esbuild_ws" in row:
            line += (
                f"; esbuild --minify-whitespace map {row['esbuild_ws']} B (gzip "
                f"{row['esbuild_ws_gzip']}); esbuild --minify map {row['esbuild_min']} B (gzip "
                f"{row['esbuild_min_gzip']})"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
