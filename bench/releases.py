"""What a release costs: bytes a returning visitor downloads after a one-bundle edit, disk per version.

A multi-bundle site (several vendor bundles and a small app bundle, with a CSS bundle and a font it
refers to) is installed with the real CLI, then `app.js` gets a one-line edit and is installed again.
Two ways in one run, in fresh copies of the same site, both a plain `assetbuild install`:

- **baseline**: the code of a baseline commit (`--baseline-rev`, default: where this branch left
  main), exported with `git archive` and run from there: every bundle of the edited area got the new
  version's URL, and every file of the new version was a copy;
- **now**: the code of this checkout.

Reported: the bytes whose URLs changed (what a returning visitor's browser downloads again, raw and
gzip), and the disk the new version added (`du -sk` of the site before and after, which counts a hard
link once). Sizes, not times: nothing here is timed.

    python bench/releases.py [--vendors 4] [--kb 250] [--baseline-rev REV] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _vendor(seed: int, kb: int) -> str:
    rng = random.Random(seed)
    lines = []
    size = 0
    i = 0
    while size < kb * 1024:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(24))
        line = f'var v{seed}_{i} = "{word}" + {rng.randint(0, 10**6)};\n'
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines)


def write_site(root: Path, vendors: int, kb: int) -> None:
    static = root / "static"
    (static / "js/source").mkdir(parents=True)
    (static / "css/source/fonts").mkdir(parents=True)
    bundles = []
    for n in range(vendors):
        (static / f"js/source/vendor{n}.js").write_text(_vendor(n, kb))
        bundles.append((f"js/vendor{n}.js", [f"js/source/vendor{n}.js"]))
    (static / "js/source/app.js").write_text("var app = 1;\n")
    bundles.append(("js/app.js", ["js/source/app.js"]))
    (static / "css/source/fonts/icons.woff2").write_bytes(random.Random(9).randbytes(60_000))
    (static / "css/source/main.css").write_text(
        '@font-face{font-family:i;src:url(fonts/icons.woff2) format("woff2")}\nbody{color:red}\n'
    )
    bundles.append(("css/main.css", ["css/source/main.css"]))
    toml = ['root = "static"', 'compress = ["gzip"]', ""]
    for output, sources in bundles:
        toml += ["[[bundle]]", f'output = "{output}"', f"sources = {json.dumps(sources)}", ""]
    (root / "assetbuild.toml").write_text("\n".join(toml))


def _du_kb(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def _run(site: Path, env: dict[str, str]) -> None:
    # -P: no working directory on sys.path, so PYTHONPATH decides which assetbuild runs.
    cmd = [sys.executable, "-P", "-m", "assetbuild", "-C", str(site), "install", "-q"]
    subprocess.run(cmd, check=True, env=env, cwd=site)


def _manifest(site: Path) -> dict[str, dict[str, object]]:
    data = json.loads((site / "static/manifest.json").read_text())
    return dict(data["bundles"])


def measure(site: Path, env: dict[str, str]) -> dict[str, int]:
    _run(site, env)
    before = _manifest(site)
    du_before = _du_kb(site / "static")
    app = site / "static/js/source/app.js"
    app.write_text(app.read_text() + "app = app + 1;\n")
    _run(site, env)
    after = _manifest(site)
    raw = gz = 0
    for name, entry in after.items():
        if before.get(name, {}).get("url") != entry["url"]:
            data = (site / "static" / str(entry["path"])).read_bytes()
            raw += len(data)
            gz += len(gzip.compress(data, 9, mtime=0))
    return {
        "redownload_bytes": raw,
        "redownload_gzip_bytes": gz,
        "new_version_disk_kb": _du_kb(site / "static") - du_before,
        "urls_changed": sum(before.get(n, {}).get("url") != e["url"] for n, e in after.items()),
        "bundles": len(after),
    }


def _export(rev: str, into: Path) -> Path:
    """The package as it was at `rev` (git archive), importable from the returned directory."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", rev, "assetbuild"], capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _default_rev() -> str:
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "HEAD", "main"], capture_output=True, text=True
    )
    return out.stdout.strip() or "HEAD"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vendors", type=int, default=4)
    parser.add_argument("--kb", type=int, default=250, help="size of each vendor bundle's source")
    parser.add_argument("--baseline-rev", default=None, help="git revision of the baseline code")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    here = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as tmp:
        old = _export(args.baseline_rev or _default_rev(), Path(tmp) / "baseline-code")
        results = {}
        for label, code in (("baseline", str(old)), ("now", here)):
            env = {**os.environ, "PYTHONPATH": code, "XDG_CACHE_HOME": str(Path(tmp) / label)}
            site = Path(tmp) / f"site-{label}"
            write_site(site, args.vendors, args.kb)
            results[label] = measure(site, env)
            shutil.rmtree(site)
    base, now = results["baseline"], results["now"]
    ratios = {
        key: (now[key] / base[key] if base[key] else 0.0)
        for key in ("redownload_bytes", "redownload_gzip_bytes", "new_version_disk_kb")
    }
    if args.json:
        print(json.dumps({"baseline": base, "now": now, "ratio_now_to_baseline": ratios}, indent=2))
        return 0
    print(f"{'':32} {'baseline':>12} {'now':>12} {'now/base':>9}")
    for key in ("urls_changed", "redownload_bytes", "redownload_gzip_bytes", "new_version_disk_kb"):
        ratio = f"{ratios[key]:.4f}" if key in ratios else ""
        print(f"{key:32} {base[key]:>12} {now[key]:>12} {ratio:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
