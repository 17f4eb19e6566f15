"""Faults during a real `assetbuild install`: SIGKILL anywhere, write errors (injected and real), locks.

The scenarios and invariant checks live in bench/reliability.py, which reports the same figures at scale.
tests/test_install.py covers install() itself; these go through the command a user runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assetbuild.cli import main
from tests.helpers.benchload import load_bench

rel = load_bench("reliability")


def goods(site: Path, *states: int) -> dict[str, set[bytes]]:
    good: dict[str, set[bytes]] = {name: set() for name in rel.BUNDLES}
    for state in states:
        for name, data in rel.expected_outputs(site, state).items():
            good[name].add(data)
    return good


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under root (but the lock) with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != ".assetbuild.lock"
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site installed once (state 0) with hand-placed files in each area's version 1."""
    site = rel.make_site(tmp_path / "site")
    first = rel.run_cli(site)
    assert first.returncode == 0, first.stderr
    rel.place_hand_files(site / "static")
    return Path(site)


# ----------------------------------------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("point", [*rel.FAULT_POINTS, "staging:6", "renamed:2"])
def test_sigkill_at_each_fault_point_then_recovery(tmp_path: Path, point: str) -> None:
    tally = rel.fault_scenario(tmp_path, (point,))
    assert tally.problems == []
    assert tally.faults_injected == 1, f"{point} was never reached"
    assert tally.runs_survived == tally.runs == 2
    assert tally.bytes_lost_or_changed == 0
    # State 1 changes js/main.js and css/site.css: js/2 and css/2 appear, complete, exactly once.
    assert tally.versions_created == 4


def test_fault_beyond_the_last_point_is_a_normal_run(tmp_path: Path) -> None:
    tally = rel.fault_scenario(tmp_path, ("staging:100000",))
    assert (tally.faults_injected, tally.problems) == (0, [])


def test_kills_after_random_delays(tmp_path: Path) -> None:
    seed = int(os.environ.get("ASSETBUILD_TEST_SEED", "1"))
    tally = rel.timed_kill_scenario(tmp_path, kills=6, seed=seed, recover_every=2)
    assert tally.problems == [], f"seed {seed}"
    assert tally.runs_survived == tally.runs
    assert tally.bytes_lost_or_changed == 0


def test_invariant_checks_can_fail(site: Path) -> None:
    """The checks the scenarios rely on do notice broken trees."""
    root = site / "static"
    good = goods(site, 0)
    assert rel.check_tree(root, good) == []
    (root / "js/1/main.js.gz").unlink()
    (root / "js/.assetbuild-tmp-2-1-aa").mkdir()
    problems = rel.check_tree(root, good)
    assert any("incomplete" in p for p in problems) and any("leftover" in p for p in problems)
    ledger = rel.Ledger()
    ledger.scan(root)
    (root / "css/1/site.css").write_bytes(b"changed")
    (root / "js/1/hand.txt").unlink()
    ledger.scan(root)
    assert ledger.changed_bytes > 0 and ledger.lost_bytes > 0
    (root / "manifest.json").write_bytes(b'{"version": 1, "bundles": {')
    assert rel.check_manifest(root, (root / "manifest.json").read_bytes())[0].startswith("invalid")


# ------------------------------------------------------------------------------------ injected write errors


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _arg_path(args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> str:
    first = args[0] if args else ""
    if isinstance(first, int):
        return _fd_path(first)
    if not isinstance(first, str | os.PathLike):
        return ""
    # A name relative to a directory descriptor (os.open(name, ..., dir_fd=fd)) is in that directory.
    dir_fd = (kwargs or {}).get("dir_fd", (kwargs or {}).get("src_dir_fd"))
    if isinstance(dir_fd, int) and not os.path.isabs(first):
        return os.path.join(_fd_path(dir_fd), os.fspath(first))
    return os.path.abspath(os.fspath(first))


def _injector(
    real: Callable[..., Any], code: int, under: Path, nth: int, calls: list[str]
) -> Callable[..., Any]:
    """`real`, failing with `code` on the nth call that touches a path under `under`."""
    creates_dir = real is os.mkdir  # Path.mkdir(exist_ok=True) ignores errors on existing dirs
    opens = real is os.open

    def fake(*args: Any, **kwargs: Any) -> Any:
        where = _arg_path(args, kwargs)
        if creates_dir and os.path.lexists(where):
            return real(*args, **kwargs)
        flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
        if opens and isinstance(flags, int) and not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            return real(*args, **kwargs)  # a read (a source, a bounded file): not a write error
        if where.startswith(str(under) + os.sep) or where == str(under):
            calls.append(where)
            if len(calls) == nth:
                # As the real calls do: path arguments become filename (and filename2).
                paths = [a for a in args[:2] if isinstance(a, str | os.PathLike)]
                raise OSError(code, os.strerror(code), *paths[:1], None, *paths[1:2])
        return real(*args, **kwargs)

    return fake


INJECTIONS = [
    ("write", errno.ENOSPC, 1, "disk is full"),
    ("write", errno.ENOSPC, 4, "disk is full"),
    ("write", errno.EIO, 2, "I/O error"),
    ("fsync", errno.EIO, 1, "I/O error"),
    ("fsync", errno.EIO, 3, "I/O error"),
    ("mkdir", errno.EACCES, 1, "permissions"),
    ("rename", errno.EIO, 1, "I/O error"),
    ("open", errno.EACCES, 2, "permissions"),
]


@pytest.mark.parametrize(("func", "code", "nth", "hint"), INJECTIONS)
def test_injected_write_errors_exit_3_and_keep_serving(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    func: str,
    code: int,
    nth: int,
    hint: str,
) -> None:
    root = site / "static"
    rel.write_state(site, 1)
    good = goods(site, 0, 1)
    before = snapshot(root)
    manifest = (root / "manifest.json").read_bytes()
    calls: list[str] = []
    # Only the static root fails: the cache (in the site) and the sources' reads still work.
    monkeypatch.setattr(os, func, _injector(getattr(os, func), code, root.resolve(), nth, calls))
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["install", "-q"])
    monkeypatch.undo()
    assert len(calls) >= nth, f"os.{func} was called {len(calls)} times under the root"
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("assetbuild: error: cannot install into"), message
    assert os.strerror(code) in message and hint in message
    # Nothing half-installed, nothing published before changed, the manifest untouched.
    assert rel.check_tree(root, good) == []
    after = snapshot(root)
    assert {k: after.get(k) for k in before} == before
    assert (root / "manifest.json").read_bytes() == manifest
    again = rel.run_cli(site)
    assert again.returncode == 0, again.stderr
    assert rel.check_tree(root, good) == []
    assert rel.served(root) == rel.expected_outputs(site, 1)


def test_cache_write_errors_do_not_fail_the_install(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content cache is an optimisation: a full disk under it must not stop an install."""
    root = site / "static"
    rel.write_state(site, 1)
    calls: list[str] = []
    cache = (site / ".assetbuild-cache").resolve()
    monkeypatch.setattr(os, "replace", _injector(os.replace, errno.ENOSPC, cache, 1, calls))
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["install", "-q"])
    monkeypatch.undo()
    assert calls, "nothing was written to the cache"
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.exit_code == 0:
        assert rel.served(root) == rel.expected_outputs(site, 1)
    assert rel.check_tree(root, goods(site, 0, 1)) == []


# ------------------------------------------------------------------------------ real small file systems


SOURCE_CONFIG = """\
root = "static"
compress = ["gzip"]
{extra}

[[bundle]]
output = "js/main.js"
sources = ["src/js/*.js"]

[[bundle]]
output = "css/site.css"
sources = ["src/css/*.css"]
"""


def small_fs_site(base: Path, extra: str = "") -> Path:
    """A site whose sources live in static/src, so an area directory can be a file system of its own."""
    site = base / "site"
    (site / "static/src/js").mkdir(parents=True)
    (site / "static/src/css").mkdir(parents=True)
    (site / "assetbuild.toml").write_text(SOURCE_CONFIG.format(extra=extra), encoding="utf-8")
    return site


def edit_sources(site: Path, n: int, js_bytes: int = 24_000) -> None:
    """Sources of edit n: a large, poorly compressible JS file and a small stylesheet."""
    words = [f"v{(n * 7919 + i * 104729) % 1_000_003:x}" for i in range(js_bytes // 24)]
    js = "".join(f"var {w}_{i} = {i};\n" for i, w in enumerate(words))
    (site / "static/src/js/app.js").write_text(js, encoding="utf-8")
    (site / "static/src/css/site.css").write_text(f".n{n} {{ color: red }}\n", encoding="utf-8")


def tree_state(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if not k.startswith("src/")}


@pytest.fixture
def mounts() -> Iterator[Callable[..., None]]:
    """`mount(path, *args)`: mount something for this test only; skips where mounting is not allowed."""
    done: list[Path] = []
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting file systems needs root and mount(8)")

    def mount(path: Path, *args: str) -> None:
        path.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", *args, str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"mount {' '.join(args)} is not permitted here: {proc.stderr.strip()}")
        done.append(path)

    yield mount
    for path in reversed(done):
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def _free(path: Path) -> tuple[int, int]:
    st = os.statvfs(path)
    return st.f_bfree, st.f_ffree


@pytest.mark.parametrize("limit", ["size", "nr_inodes"])
def test_full_file_system_during_staging(
    tmp_path: Path, mounts: Callable[..., None], limit: str
) -> None:
    site = small_fs_site(tmp_path)
    root = site / "static"
    area = root / "js"
    mounts(area, "-t", "tmpfs", "-o", "size=4m,nr_inodes=1000", "tmpfs")
    edit_sources(site, 1)
    first = rel.run_cli(site)
    assert first.returncode == 0, first.stderr
    (area / "1/hand.txt").write_text("by hand")
    # Shrink the file system to what version 1 uses plus half of it: version 2 cannot fit.
    st = os.statvfs(area)
    if limit == "size":
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        option = f"size={used + used // 2}"
    else:
        option = f"nr_inodes={st.f_files - st.f_ffree + 3}"
    subprocess.run(["mount", "-o", f"remount,{option}", str(area)], check=True)
    before, free = tree_state(root), _free(area)

    edit_sources(site, 2)
    full = rel.run_cli(site)
    assert full.returncode == 3, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith(f"assetbuild: error: cannot install into {root}"), last
    assert "No space left on device" in last and "disk is full" in last
    # Nothing half-installed on either area (css/2 was staged first and discarded), space given back.
    assert tree_state(root) == before
    assert _free(area) == free
    assert rel.leftovers(root) == []

    subprocess.run(["mount", "-o", "remount,size=4m,nr_inodes=1000", str(area)], check=True)
    again = rel.run_cli(site)
    assert again.returncode == 0, again.stderr
    data = json.loads((root / "manifest.json").read_bytes())
    assert {e["path"] for e in data["bundles"].values()} == {"js/2/main.js", "css/2/site.css"}
    assert (root / "js/2/hand.txt").read_text() == "by hand"
    assert rel.check_manifest(root, (root / "manifest.json").read_bytes()) == []


def test_full_file_system_under_the_manifest(tmp_path: Path, mounts: Callable[..., None]) -> None:
    site = small_fs_site(tmp_path, 'manifest = "meta/manifest.json"')
    root = site / "static"
    mounts(root / "meta", "-t", "tmpfs", "-o", "size=16k", "tmpfs")
    edit_sources(site, 1, 2000)
    assert rel.run_cli(site).returncode == 0
    manifest = (root / "meta/manifest.json").read_bytes()
    with (
        open(root / "meta/filler", "wb", buffering=0) as filler,
        pytest.raises(OSError, match="No space"),
    ):
        while True:
            filler.write(b"x" * 4096)
    edit_sources(site, 2, 2000)
    full = rel.run_cli(site)
    assert full.returncode == 3, full.stderr
    assert "disk is full" in full.stderr and "Traceback" not in full.stderr
    # The new versions are complete; the manifest still serves the old ones, which are intact.
    assert (root / "meta/manifest.json").read_bytes() == manifest
    assert rel.check_manifest(root, manifest) == []
    for entry in json.loads(manifest)["bundles"].values():
        assert (root / entry["path"]).is_file()
    assert rel.leftovers(root) == []
    (root / "meta/filler").unlink()
    again = rel.run_cli(site)
    assert again.returncode == 0, again.stderr
    data = json.loads((root / "meta/manifest.json").read_bytes())
    assert {e["path"] for e in data["bundles"].values()} == {"js/2/main.js", "css/2/site.css"}


def test_read_only_file_system(tmp_path: Path, mounts: Callable[..., None]) -> None:
    site = small_fs_site(tmp_path)
    root = site / "static"
    edit_sources(site, 1)
    assert rel.run_cli(site).returncode == 0
    mounts(root / "js", "--bind", str(root / "js"))
    subprocess.run(["mount", "-o", "remount,bind,ro", str(root / "js")], check=True)
    before = tree_state(root)
    edit_sources(site, 2)
    result = rel.run_cli(site)
    assert result.returncode == 3, result.stderr
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
    assert tree_state(root) == before
    assert rel.leftovers(root) == []


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run the command without permission overrides",
)
def test_permission_denied_for_real(tmp_path: Path) -> None:
    site = small_fs_site(tmp_path)
    root = site / "static"
    edit_sources(site, 1)
    assert rel.run_cli(site).returncode == 0
    (root / "js").chmod(0o555)
    before = tree_state(root)
    edit_sources(site, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    try:
        # Root without CAP_DAC_OVERRIDE obeys permission bits like any other user.
        result = subprocess.run(
            [
                "setpriv",
                "--bounding-set",
                "-dac_override,-dac_read_search",
                rel.ASSETBUILD,
                "install",
                "-q",
            ],
            cwd=site,
            env=env,
            capture_output=True,
            text=True,
            timeout=rel.RUN_TIMEOUT,
        )
    finally:
        (root / "js").chmod(0o755)
    assert result.returncode == 3, result.stderr
    assert "Permission denied" in result.stderr and "permissions" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_state(root) == before


# ------------------------------------------------------------------------------------------------- locks

HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, b"%d\\n" % os.getpid())
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


@contextlib.contextmanager
def holding(lock: Path, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock), str(seconds)], stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def set_lock_timeout(site: Path, seconds: float) -> None:
    text = rel.CONFIG.replace("lock_timeout = 60", f"lock_timeout = {seconds}")
    (site / "assetbuild.toml").write_text(text, encoding="utf-8")


def test_live_holder_is_waited_on_then_a_timeout_names_it(site: Path) -> None:
    root = site / "static"
    set_lock_timeout(site, 0.6)
    rel.write_state(site, 1)
    before = snapshot(root)
    with holding(root / ".assetbuild.lock", 60) as holder:
        start = time.monotonic()
        result = rel.run_cli(site, "install")
        elapsed = time.monotonic() - start
        assert holder.poll() is None
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "assetbuild: waiting for another install to finish..."
    assert f"(pid {holder.pid})" in lines[-1] and str(root / ".assetbuild.lock") in lines[-1]
    assert "0.6 s" in lines[-1] and "Traceback" not in result.stderr
    assert 0.6 <= elapsed < 30
    assert snapshot(root) == before


def test_install_waits_for_a_holder_that_finishes(site: Path) -> None:
    """The holder lets go once the install says it waits (however long a loaded machine takes to
    get there), and the install then goes on."""
    root = site / "static"
    rel.write_state(site, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    with holding(root / ".assetbuild.lock", 300) as holder:
        install = subprocess.Popen(
            [rel.ASSETBUILD, "install"], cwd=site, env=env, stderr=subprocess.PIPE, text=True
        )
        assert install.stderr is not None
        said = install.stderr.readline()
        assert "waiting for another install" in said, said
        holder.kill()  # it finishes: its lock is released with it
        rest = install.communicate(timeout=rel.RUN_TIMEOUT)[1]
    assert install.returncode == 0, said + rest
    assert rel.served(root) == rel.expected_outputs(site, 1)


@pytest.mark.parametrize("how", ["killed", "stale-pid-file"])
def test_lock_of_a_dead_process_is_recovered(site: Path, how: str) -> None:
    root = site / "static"
    lock = root / ".assetbuild.lock"
    if how == "killed":
        with holding(lock, 60) as holder:
            holder.send_signal(signal.SIGKILL)
            holder.wait(30)
        assert lock.read_text().strip() == str(holder.pid)
    else:
        lock.write_text("1\n")  # a pid that is alive, but holds no flock on the file
    rel.write_state(site, 1)
    start = time.monotonic()
    result = rel.run_cli(site, "install")
    assert result.returncode == 0, result.stderr
    assert "waiting" not in result.stderr
    assert time.monotonic() - start < 30  # lock_timeout is 60: it never waited for it
    assert rel.served(root) == rel.expected_outputs(site, 1)
    # The lock held nothing of its own: flock, not the file's content, excludes.
    with open(lock) as fd:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_error_after_the_manifest_rename_says_so(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync of the manifest's directory fails after the rename: exit 3, but no claim it is untouched."""
    root = site / "static"
    rel.write_state(site, 1)
    real_replace, real_fsync = os.replace, os.fsync
    renamed: list[str] = []

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        real_replace(src, dst, **kwargs)
        if os.fspath(dst).endswith("manifest.json"):
            renamed.append(os.fspath(dst))

    def fsync(fd: int) -> None:
        if renamed:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["install", "-q"])
    monkeypatch.undo()
    assert renamed and result.exit_code == 3, result.output
    message = result.output.strip().splitlines()[-1]
    assert "Input/output error" in message and "new manifest was already in place" in message
    assert "left as they were" not in message
    assert rel.check_tree(root, goods(site, 0, 1)) == []
    assert rel.served(root) == rel.expected_outputs(site, 1)
