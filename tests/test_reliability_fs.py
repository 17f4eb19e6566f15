"""The file system as an attacker who can write one directory of the site leaves it (issue 12).

Symlinks and special files where assetbuild expects its lock, its directories or its manifest;
read-only leftovers; control characters in names. Each case runs the real command in a subprocess
with a timeout and a memory limit, so a hang or a runaway read fails the test instead of the machine,
and each checks that nothing outside the places assetbuild means to write changed.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from assetbuild.build.results import ManifestSettings, Output
from assetbuild.errors import ConfigError, InstallError
from assetbuild.fsutil import TEMP_PREFIX
from assetbuild.install.export import write_plain
from assetbuild.install.local import install

ASSETBUILD = str(Path(sys.executable).with_name("assetbuild"))
LOCK = ".assetbuild.lock"
TIMEOUT = 60
# Address-space limit of every command run here: a read of /dev/zero or a decompression bomb ends in
# MemoryError well before it could hurt the machine. esprima alone: V8 reserves more than this.
MEMORY_LIMIT = 1 << 30
_LIMITED = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
# Root without the capabilities that let it ignore file modes: what a normal user meets.
_CAPS = "-dac_override,-dac_read_search,-fowner"
DROP_CAPS = ("setpriv", f"--inh-caps={_CAPS}", f"--bounding-set={_CAPS}")


def run(
    cwd: Path, *args: str, timeout: float = TIMEOUT, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["ASSETBUILD_ENGINE"] = "esprima"
    command = [*prefix, ASSETBUILD, *(args or ("install", "-q"))]
    if prefix:
        command[0] = shutil.which(command[0]) or command[0]
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, str(MEMORY_LIMIT), *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def expect(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    for bad in ("Traceback", "internal error", "MemoryError"):
        assert bad not in result.stderr, result.stderr[-3000:]
    assert result.returncode == code, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr[-3000:]


def tree(base: Path) -> dict[str, bytes | str]:
    """Every entry under base: file bytes, link targets, "<dir>", "<fifo>"."""
    found: dict[str, bytes | str] = {}
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[rel] = "-> " + os.readlink(path)
        elif stat.S_ISDIR(mode):
            found[rel] = f"<dir {stat.S_IMODE(mode):o}>"
        elif stat.S_ISREG(mode):
            found[rel] = path.read_bytes()
        else:
            found[rel] = "<special>"
    return found


def leftovers(base: Path) -> list[Path]:
    return [p for p in base.rglob("*") if p.name.startswith(TEMP_PREFIX)]


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """tmp_path/site (zero-config: js/source/a.js) beside tmp_path/outside (what links point at)."""
    (tmp_path / "outside/dir").mkdir(parents=True)
    (tmp_path / "outside/victim.txt").write_text("precious\n")
    (tmp_path / "outside/dir/keep.txt").write_text("keep\n")
    site = tmp_path / "site"
    (site / "js/source").mkdir(parents=True)
    (site / "js/source/a.js").write_text("var a = 1;\n")
    return tmp_path


def edit(site: Path, n: int) -> None:
    (site / "js/source/a.js").write_text(f"var a = {n};\n")


# ------------------------------------------------------------------------------------ 1. the lock


@pytest.mark.parametrize("command", [("install", "-q"), ("prune", "--keep", "1", "--min-age", "0")])
def test_a_lock_that_is_a_symlink_is_refused_and_its_target_untouched(
    sandbox: Path, command: tuple[str, ...]
) -> None:
    site = sandbox / "site"
    (site / LOCK).symlink_to(sandbox / "outside/victim.txt")
    before = tree(sandbox / "outside")
    expect(run(site, *command), 3, str(site / LOCK), "symbolic link")
    assert tree(sandbox / "outside") == before
    assert not (site / "js/1").exists()


@pytest.mark.parametrize("command", [("install", "-q"), ("prune", "--keep", "1", "--min-age", "0")])
def test_a_dangling_lock_symlink_creates_nothing(sandbox: Path, command: tuple[str, ...]) -> None:
    site = sandbox / "site"
    (site / LOCK).symlink_to(sandbox / "outside/created-by-assetbuild.txt")
    expect(run(site, *command), 3, "symbolic link")
    assert not (sandbox / "outside/created-by-assetbuild.txt").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
@pytest.mark.parametrize("command", [("install", "-q"), ("prune", "--keep", "1", "--min-age", "0")])
def test_a_lock_that_is_not_a_regular_file_is_a_clear_error(
    sandbox: Path, kind: str, command: tuple[str, ...]
) -> None:
    site = sandbox / "site"
    if kind == "fifo":
        os.mkfifo(site / LOCK)
    else:
        (site / LOCK).mkdir()
    what = "named pipe" if kind == "fifo" else "a directory"
    expect(run(site, *command, timeout=30), 3, str(site / LOCK), what, "not a regular file")
    assert not (site / "js/1").exists()


def test_the_lock_file_is_never_written(sandbox: Path) -> None:
    site = sandbox / "site"
    expect(run(site), 0)
    assert (site / LOCK).read_bytes() == b""  # created empty, nothing served from it
    (site / LOCK).write_text("someone's notes\n")
    edit(site, 2)
    expect(run(site), 0)
    expect(run(site, "prune", "--keep", "1", "--min-age", "0"), 0)
    assert (site / LOCK).read_text() == "someone's notes\n"
    assert (site / "js/2/main.js").exists()


# ------------------------------------------------------------- 4. directories written into are real


def config_site(site: Path, output: str, extra: str = "") -> None:
    (site / "assetbuild.toml").write_text(
        f'{extra}[[bundle]]\noutput = "{output}"\nsources = ["js/source/*.js"]\n'
    )


@pytest.mark.parametrize(
    ("output", "link", "target"),
    [
        ("dist/main.js", "dist", "outside/dir"),
        ("assets/js/main.js", "assets", "outside"),
        ("assets/js/main.js", "assets/js", "outside/dir"),
        ("dist/main.js", "dist", "site/real"),  # a link inside the root is still not a real dir
    ],
)
def test_an_area_behind_a_symlink_receives_nothing(
    sandbox: Path, output: str, link: str, target: str
) -> None:
    site = sandbox / "site"
    config_site(site, output)
    (site / "real").mkdir()
    (site / link).parent.mkdir(parents=True, exist_ok=True)
    (site / link).symlink_to(sandbox / target)
    before = tree(sandbox)
    result = run(site)
    expect(result, 3, f"{site / link} is a symbolic link", "real directories inside the root")
    after = tree(sandbox)
    assert {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} <= {
        k for k in after if k.startswith(("site/.assetbuild-cache", "site/" + LOCK))
    }
    # --dry-run says the same, without the lock
    expect(run(site, "install", "--dry-run"), 3, f"{site / link} is a symbolic link")


@pytest.mark.parametrize("kind", ["symlink", "file", "dangling"])
def test_an_entry_named_like_the_next_version_is_a_clear_error(sandbox: Path, kind: str) -> None:
    site = sandbox / "site"
    expect(run(site), 0)
    entry = site / "js/2"
    if kind == "symlink":
        entry.symlink_to(sandbox / "outside/dir")
    elif kind == "dangling":
        entry.symlink_to(sandbox / "outside/nothing")
    else:
        entry.write_text("not a version\n")
    edit(site, 2)
    before = tree(sandbox / "outside")
    for _ in range(2):  # the same answer every time: "run again" would never help
        result = run(site)
        expect(result, 3, str(entry), "named like version directory 2", "remove or rename it")
        assert "run again" not in result.stderr
    assert tree(sandbox / "outside") == before
    assert (site / "js/1/main.js").read_text() != ""
    entry.unlink()
    expect(run(site), 0)
    assert (site / "js/2/main.js").is_file() and not (site / "js/2").is_symlink()


def test_a_symlink_named_like_an_old_version_is_left_alone(sandbox: Path) -> None:
    """`js/1 -> 3`, kept for old URLs after prune, is not a version and blocks nothing."""
    site = sandbox / "site"
    expect(run(site), 0)
    edit(site, 2)
    expect(run(site), 0)
    edit(site, 3)
    expect(run(site), 0)
    shutil.rmtree(site / "js/1")
    (site / "js/1").symlink_to("3")
    edit(site, 4)
    expect(run(site), 0)
    expect(run(site, "prune", "--keep", "2", "--min-age", "0"), 0)
    assert os.readlink(site / "js/1") == "3"
    assert sorted(p.name for p in (site / "js").iterdir()) == ["1", "3", "4", "source"]


def test_a_manifest_directory_behind_a_symlink_receives_nothing(sandbox: Path) -> None:
    site = sandbox / "site"
    config_site(site, "js/main.js", 'manifest = "meta/manifest.json"\n')
    (site / "meta").symlink_to(sandbox / "outside/dir")
    before = tree(sandbox / "outside")
    expect(run(site), 3, f"{site / 'meta'} is a symbolic link")
    assert tree(sandbox / "outside") == before


def test_a_manifest_that_is_a_symlink_is_not_replaced(sandbox: Path) -> None:
    site = sandbox / "site"
    (site / "manifest.json").symlink_to(sandbox / "outside/victim.txt")
    before = tree(sandbox)
    expect(run(site), 3, f"{site / 'manifest.json'}", "symbolic link")
    assert os.readlink(site / "manifest.json") == str(sandbox / "outside/victim.txt")
    assert tree(sandbox / "outside") == {
        k[len("outside/") :]: v for k, v in before.items() if k.startswith("outside/")
    }


def test_prune_never_deletes_through_a_symlinked_area(sandbox: Path) -> None:
    site = sandbox / "site"
    other = sandbox / "outside/other-site/js"
    for version in (1, 2, 3):
        (other / str(version)).mkdir(parents=True)
        (other / str(version) / "main.js").write_text(f"v{version}")
    (other / f"{TEMP_PREFIX}2-1-aa").mkdir()
    config_site(site, "dist/main.js")
    (site / "dist").symlink_to(other)
    before = tree(sandbox / "outside")
    expect(run(site, "prune", "--keep", "1", "--min-age", "0"), 3, "is a symbolic link")
    assert tree(sandbox / "outside") == before


def test_build_out_never_writes_through_a_symlinked_directory(sandbox: Path) -> None:
    site = sandbox / "site"
    (site / "out").mkdir()
    (site / "out/js").symlink_to(sandbox / "outside/dir")
    before = tree(sandbox / "outside")
    expect(run(site, "build", "--out", "out", "-q"), 3, f"{site / 'out/js'} is a symbolic link")
    assert tree(sandbox / "outside") == before


def test_library_install_refuses_a_symlinked_area(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (tmp_path / "elsewhere").mkdir()
    root.mkdir()
    (root / "js").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InstallError, match="is a symbolic link"):
        install(root, [Output("js/main.js", b"var a;")])
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_write_plain_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out/js").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InstallError, match="is a symbolic link"):
        write_plain(tmp_path / "out", [("js/a.js", b"1")])
    assert list((tmp_path / "elsewhere").iterdir()) == []


# ---------------------------------------------------------------------- 5. read-only leftovers


def unprivileged() -> tuple[str, ...]:
    """A command prefix under which file modes bind this test's own files as they bind a user."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    probe = subprocess.run([*DROP_CAPS, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode()[-200:]}")
    return DROP_CAPS


def as_user(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(site, *args, prefix=unprivileged())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_read_only_hand_placed_directory_never_blocks_installs_or_prunes(sandbox: Path) -> None:
    site = sandbox / "site"
    expect(as_user(site), 0)
    vendor = site / "js/1/vendor"
    (vendor / "deep").mkdir(parents=True)
    (vendor / "deep/lib.txt").write_text("lib\n")
    (vendor / "readme.txt").write_text("vendor\n")
    (vendor / "deep").chmod(0o555)
    vendor.chmod(0o555)
    edit(site, 2)
    expect(as_user(site), 0)
    assert (site / "js/2/vendor/deep/lib.txt").read_text() == "lib\n"
    assert mode(site / "js/2/vendor") == 0o555 and mode(site / "js/2/vendor/deep") == 0o555
    expect(as_user(site, "prune", "--keep", "1", "--min-age", "0"), 0)
    assert not (site / "js/1").exists() and leftovers(site) == []
    edit(site, 3)
    expect(as_user(site), 0)
    expect(as_user(site, "prune", "--keep", "1", "--min-age", "0"), 0)
    assert sorted(p.name for p in (site / "js").iterdir()) == ["3", "source"]
    assert leftovers(site) == []


@pytest.mark.parametrize("inner", [0o555, 0o500, 0o111, 0o000])
@pytest.mark.parametrize("name", ["2-77-aa", "prune-1-77-bb"])
def test_read_only_leftovers_are_removed_by_the_next_run(
    sandbox: Path, inner: int, name: str
) -> None:
    site = sandbox / "site"
    expect(as_user(site), 0)
    left = site / "js" / f"{TEMP_PREFIX}{name}"
    (left / "sub/deeper").mkdir(parents=True)
    (left / "sub/deeper/f.js").write_text("half")
    (left / "sub/g.js").write_text("half")
    (left / "main.js").write_text("half")
    for path in (left / "sub/deeper", left / "sub"):
        path.chmod(inner)
    left.chmod(0o555)
    edit(site, 2)
    expect(as_user(site), 0)
    assert leftovers(site) == []
    assert (site / "js/2/main.js").is_file()


def test_a_read_only_current_version_bumps_and_refuses_in_place_writes(sandbox: Path) -> None:
    site = sandbox / "site"
    expect(as_user(site), 0)
    (site / "js/1").chmod(0o555)
    edit(site, 2)
    expect(as_user(site), 0)  # a bump copies version 1 and writes the new bundle into the copy
    assert mode(site / "js/2") == 0o555  # published with the mode of the version it copies
    assert (site / "js/2/main.js").read_text().startswith("var a=2")
    edit(site, 3)
    before = tree(site / "js")
    result = as_user(site, "install", "-q", "--into-current")
    expect(result, 3, str(site / "js/2"), "chmod u+w", "--bump")
    assert tree(site / "js") == before and leftovers(site) == []
    expect(as_user(site, "install", "-q", "--bump"), 0)
    assert (site / "js/3/main.js").read_text().startswith("var a=3")


# --------------------------------------------------------------- 9. special files at the manifest


def special(path: Path, kind: str) -> str:
    """Make `kind` at `path`; return what the error message should call it."""
    if kind == "fifo":
        os.mkfifo(path)
        return "named pipe"
    if kind == "zero-link":
        path.symlink_to("/dev/zero")
        return "character device"
    if kind == "directory":
        path.mkdir()
        (path / "x").write_text("x")
        return "a directory"
    if kind == "huge":
        with open(path, "wb") as f:
            f.truncate(65 << 20)
        return "larger than"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["fifo", "zero-link", "directory", "huge"])
def test_install_refuses_a_special_file_at_the_manifest_path(sandbox: Path, kind: str) -> None:
    site = sandbox / "site"
    what = special(site / "manifest.json", kind)
    if kind == "zero-link":
        what = "symbolic link"  # the install replaces the manifest: it never reads through a link
    result = run(site, timeout=30)
    expect(result, 3, str(site / "manifest.json"), what)
    assert not (site / "js/1").exists()  # checked before anything is installed


@pytest.mark.parametrize("kind", ["fifo", "zero-link", "directory", "huge"])
def test_prune_refuses_a_special_file_at_the_manifest_path(sandbox: Path, kind: str) -> None:
    site = sandbox / "site"
    expect(run(site), 0)
    edit(site, 2)
    expect(run(site), 0)
    (site / "manifest.json").unlink()
    what = special(site / "manifest.json", kind)
    result = run(site, "prune", "--keep", "1", "--min-age", "0", timeout=30)
    expect(result, 3, str(site / "manifest.json"), what, "refusing to prune")
    assert (site / "js/1").is_dir()


def test_install_refuses_a_device_named_as_manifest(sandbox: Path) -> None:
    site = sandbox / "site"
    config_site(site, "js/main.js", 'manifest = "/dev/full"\n')
    expect(run(site, timeout=30), 3, "/dev/full", "character device", "not a regular file")


LOAD = (
    "import sys\n"
    "from assetbuild import Manifest, ManifestError\n"
    "try:\n"
    "    Manifest.load(sys.argv[1])\n"
    "except ManifestError as exc:\n"
    "    print(exc)\n"
    "    sys.exit(2)\n"
)


@pytest.mark.parametrize(
    "kind", ["fifo", "zero-link", "directory", "huge", "/dev/zero", "/dev/full"]
)
def test_the_template_reader_refuses_special_files(tmp_path: Path, kind: str) -> None:
    if kind.startswith("/"):
        path, what = Path(kind), "character device"
    else:
        path = tmp_path / "manifest.json"
        what = special(path, kind)
    result = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(MEMORY_LIMIT), sys.executable, "-c", LOAD, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert str(path) in result.stdout and what in result.stdout, result.stdout


def test_manifest_entries_never_read_outside_the_root_or_special_files(sandbox: Path) -> None:
    site = sandbox / "site"
    (sandbox / "outside/1").mkdir()
    (sandbox / "outside/1/secret.js").write_text("var secret;\n")
    (site / "js/1").mkdir()
    (site / "js/1/other.js").symlink_to("/dev/zero")
    entry = {"url": "u", "integrity": "sha384-x", "size": 1, "variants": {}, "version": 1}
    bundles = {
        "zero/x.js": {**entry, "path": "/dev/zero"},
        "up/y.js": {**entry, "path": "../outside/1/secret.js"},
        "../outside/secret.js": {**entry, "path": "js/1/secret.js"},
        "js/other.js": {**entry, "path": "js/1/other.js"},
    }
    (site / "manifest.json").write_text(json.dumps({"version": 1, "bundles": bundles}))
    expect(run(site, timeout=30), 0)
    written = json.loads((site / "manifest.json").read_text())["bundles"]
    assert sorted(written) == ["js/main.js"]


def compressible(site: Path) -> None:
    """A source whose bundle gzip makes smaller, so that it gets a .gz variant."""
    (site / "js/source/a.js").write_text("".join(f"var a{n} = {n};\n" for n in range(200)))


def test_a_special_file_where_the_bundle_is_installed_counts_as_changed(sandbox: Path) -> None:
    site = sandbox / "site"
    compressible(site)
    expect(run(site, "install", "-q", "--compress", "gzip"), 0)
    (site / "js/1/main.js").unlink()
    os.mkfifo(site / "js/1/main.js")
    expect(run(site, "install", "-q", "--compress", "gzip", timeout=30), 0)
    assert (site / "js/2/main.js").is_file()
    (site / "js/2/main.js.gz").unlink()
    (site / "js/2/main.js.gz").symlink_to("/dev/zero")
    expect(run(site, "install", "-q", "--compress", "gzip", timeout=30), 0)
    assert (site / "js/3/main.js.gz").is_file()


_PEAK = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], check=False)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(done.returncode)\n"
)


def test_a_decompression_bomb_beside_the_bundle_is_not_expanded(sandbox: Path) -> None:
    site = sandbox / "site"
    compressible(site)
    expect(run(site, "install", "-q", "--compress", "gzip"), 0)
    member = gzip.compress(b"\0" * (64 << 20), 9)
    (site / "js/1/main.js.gz").write_bytes(member * 24)  # 1.5 GB once expanded
    # Under the address-space limit, expanding it ends in a MemoryError that the decoder's caller
    # takes for "corrupt": the peak resident size shows whether it was expanded at all.
    result = run(site, "install", "-q", "--compress", "gzip", prefix=(sys.executable, "-c", _PEAK))
    expect(result, 0)
    peak_mb = int(result.stderr.split()[-1]) / 1024
    assert peak_mb < 300, f"peak {peak_mb:.0f} MB"
    assert (site / "js/2/main.js.gz").is_file()


def test_library_read_current_refuses_a_directory(tmp_path: Path) -> None:
    from assetbuild.install.entries import read_current

    (tmp_path / "manifest.json").mkdir()
    with pytest.raises(InstallError, match="is a directory, not a regular file"):
        read_current(ManifestSettings(tmp_path / "manifest.json", "json", None))


def test_bounded_decoding_stops_one_byte_past_the_bundle() -> None:
    brotli = pytest.importorskip("brotli")
    from assetbuild.install.compress import decompress, precompress

    data = b"var a = 1;\n" * 500
    for suffix, method in ((".gz", "gzip"), (".br", "br")):
        variant = dict(precompress(data, [method]))[suffix]
        assert decompress(suffix, variant, limit=len(data)) == data
        assert decompress(suffix, variant, limit=len(data) - 1) is None
    two = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert decompress(".gz", two, limit=4) == b"abcd"
    assert decompress(".gz", two[:-3], limit=4) is None  # truncated
    assert decompress(".br", brotli.compress(b"\0" * (64 << 20)), limit=100) is None


# ------------------------------------------------------------- 12a. control characters in names


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x1b", "\x7f", "\x01", "\x85", "\x9b"])
def test_control_characters_in_output_names_are_refused(sandbox: Path, char: str) -> None:
    site = sandbox / "site"
    escaped = f"js/ma\\u{ord(char):04x}in.js"  # TOML's escape: the file itself stays clean
    (site / "assetbuild.toml").write_text(
        f'[[bundle]]\noutput = "{escaped}"\nsources = ["js/source/*.js"]\n'
    )
    expect(run(site), 2, "control character")
    assert not (site / "js/1").exists()
    with pytest.raises(ConfigError, match="control character"):
        install(sandbox / "lib", [Output(f"js/a{char}b.js", b"x")])
    with pytest.raises(ConfigError, match="control character"):
        write_plain(sandbox / "plain", [(f"a{char}b.js", b"x")])


# ----------------------------------------------------------------- the same family, found nearby


@pytest.mark.parametrize("kind", ["fifo", "zero-link"])
def test_status_never_reads_a_special_file_in_the_current_version(sandbox: Path, kind: str) -> None:
    site = sandbox / "site"
    expect(run(site), 0)
    (site / "js/1/main.js").unlink()
    special(site / "js/1/main.js", kind)
    result = run(site, "status", timeout=30)
    expect(result, 0)
    assert "changed" in result.stdout


def test_into_current_never_deletes_a_directory_named_like_a_variant(sandbox: Path) -> None:
    site = sandbox / "site"
    expect(run(site), 0)
    (site / "js/1/main.js.gz").mkdir()
    (site / "js/1/main.js.gz/notes.txt").write_text("mine\n")
    edit(site, 2)
    result = run(site, "install", "-q", "--into-current")
    expect(result, 3, str(site / "js/1/main.js.gz"), "is a directory", "remove or rename it")
    assert (site / "js/1/main.js.gz/notes.txt").read_text() == "mine\n"


def test_a_leftover_this_user_may_not_delete_is_left_and_blocks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's leftover (EPERM on every chmod) stays; the others go, and the install runs."""
    from assetbuild import fsutil

    root = tmp_path / "static"
    install(root, [Output("js/main.js", b"var a;")])
    foreign = root / "js" / f"{TEMP_PREFIX}2-1-aa"
    ours = root / "js" / f"{TEMP_PREFIX}2-1-bb"
    for path in (foreign, ours):
        (path / "sub").mkdir(parents=True)
    real = fsutil.remove_entry

    def remove(path: Path) -> None:
        if path == foreign:
            raise PermissionError(1, "Operation not permitted", str(path / "sub"))
        real(path)

    monkeypatch.setattr(fsutil, "remove_entry", remove)
    report = install(root, [Output("js/main.js", b"var b;")])
    assert report.areas[0].version == 2
    assert leftovers(root) == [foreign]
