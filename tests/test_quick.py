"""The quick answer to a quiet no-change install: the same outcome as the click path, or no answer."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetbuild import quick
from assetbuild.cache import state
from assetbuild.cli import main

CONFIG = """\
static_url = "/static"

[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]
"""

FILES = {"js/source/a.js": "var a = 1;\n", "js/source/b.js": "var b = '{$undeclared}';\n"}


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-q", "install"],
        ["install", "-q", "--json"],
        ["install", "-q", "--bump"],
        ["install", "-q", "--no-cache"],
        ["install", "-q", "--dry-run"],
        ["install", "-q", "-C", "a", "-C", "b"],
        ["-C", "a", "install", "-q", "-C", "b"],
        ["install", "-q", "--token", "novalue"],
        ["install", "-q", "--token", "=x"],
        ["install", "-q", "--static-url"],
        ["install", "-q", "--static-url", "-q"],
        ["install", "-q", "--help"],
        ["check", "-q"],
        ["install", "install", "-q"],
        ["install", "-q", "--"],
    ],
)
def test_unusual_lines_get_no_answer(argv: list[str]) -> None:
    assert quick._parse(argv) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["install", "-q"], (None, None, None, (), True)),
        (["install"], (None, None, None, (), False)),
        (["install", "--quiet", "-Cdir"], ("dir", None, None, (), True)),
        (["-C", "d", "install", "-q", "--config=x.toml"], ("d", "x.toml", None, (), True)),
        (
            ["install", "-q", "--token", "a=1", "--token=b=", "--static-url=/s"],
            (None, None, "/s", (("a", "1"), ("b", "")), True),
        ),
    ],
)
def test_plain_lines_parse(argv: list[str], expected: tuple[object, ...]) -> None:
    assert quick._parse(argv) == expected


def _click(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv, prog_name="assetbuild")
    return int(exit_info.value.code or 0)


def test_answers_only_when_up_to_date_and_prints_what_click_prints(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(FILES, CONFIG)
    past = os.path.getmtime(site / "assetbuild.toml") - 60
    for path in [*site.rglob("*.js"), site / "assetbuild.toml"]:
        os.utime(path, (past, past))
    monkeypatch.chdir(site.parent)
    argv = ["-C", site.name, "install", "-q"]
    assert quick.answer(argv) is None  # nothing installed yet
    assert Path.cwd() == site.parent  # the directory is restored for click
    assert _click(argv) == 0
    monkeypatch.chdir(site.parent)
    clicked = capsys.readouterr()
    assert "undeclared" in clicked.err  # the token warning, printed again on every install
    assert quick.answer(argv) == 0
    answered = capsys.readouterr()
    assert (answered.out, answered.err) == ("", clicked.err)
    (site / "js/source/a.js").write_text("var a = 3;\n")
    monkeypatch.chdir(site.parent)
    assert quick.answer(argv) is None  # changed: the build decides


# --- the quick record ------------------------------------------------------------------------------

GLOB_CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/source/**/*.js"]

[[bundle]]
output = "css/main.css"
sources = ["css/source/*.css"]
"""

GLOB_FILES = {
    "js/source/a.js": "var a = 1;\n",
    "js/source/lib/b.js": "var b = 2;\n",
    "css/source/a.css": "a { color: red }\n",
}


def _same_size_edit(path: Path) -> None:
    """New bytes, same size, the old mtime put back: only the ctime tells."""
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b"1", b"7").replace(b"red", b"tan"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


MUTATIONS: dict[str, Callable[[Path], object]] = {
    "source edited, same size and mtime": lambda s: _same_size_edit(s / "js/source/a.js"),
    "css source edited": lambda s: _same_size_edit(s / "css/source/a.css"),
    "new file matching a glob": lambda s: (s / "js/source/c.js").write_text("var c;\n"),
    "new file deep in a ** glob": lambda s: (s / "js/source/lib/d.js").write_text("var d;\n"),
    "new directory under a ** glob": lambda s: (s / "js/source/new").mkdir(),
    "source deleted": lambda s: (s / "js/source/lib/b.js").unlink(),
    "source renamed": lambda s: (s / "js/source/a.js").rename(s / "js/source/z.js"),
    "installed bundle edited": lambda s: _same_size_edit(s / "js/1/main.js"),
    "installed bundle deleted": lambda s: (s / "js/1/main.js").unlink(),
    "gzip variant appeared": lambda s: (s / "js/1/main.js.gz").write_bytes(b"x"),
    "new version directory": lambda s: (s / "js/2").mkdir(),
    "manifest edited": lambda s: (s / "manifest.json").write_text("{}"),
    "config edited": lambda s: (s / "assetbuild.toml").write_text(GLOB_CONFIG + "\n"),
    "pyproject.toml appeared": lambda s: (s / "pyproject.toml").write_text("[tool.x]\n"),
}


@pytest.fixture
def recorded_site(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    """A site installed, then answered once by the state, which left a quick record."""
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(GLOB_FILES, GLOB_CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert not (site / quick.QUICK_FILE).exists()
    assert quick.answer(["install", "-q"]) == 0  # proven by the state, recorded
    assert (site / quick.QUICK_FILE).exists()
    capsys.readouterr()
    return site, quick._key((None, None, None, (), True), str(site))


def test_the_record_answers_while_nothing_changed(recorded_site: tuple[Path, str]) -> None:
    site, key = recorded_site
    assert quick._lookup(key) == ("valid", ("", ""))
    record = quick._load()[key]
    stamped = {path for path, _ in record["stamps"]}
    assert {str(site / "js/source/lib"), str(site / "js/source/lib/b.js")} <= stamped
    assert {str(site / "js/1/main.js"), str(site / "manifest.json"), str(site / "js")} <= stamped
    assert quick.answer(["install", "-q"]) == 0


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_any_change_voids_the_record(recorded_site: tuple[Path, str], mutation: str) -> None:
    site, key = recorded_site
    MUTATIONS[mutation](site)
    assert quick._lookup(key) == ("stale", None)


def test_another_environment_voids_the_record(
    recorded_site: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = recorded_site
    monkeypatch.setenv("ASSETBUILD_STATIC_URL", "https://cdn.example/")
    assert quick._lookup(key) == ("stale", None)
    monkeypatch.delenv("ASSETBUILD_STATIC_URL")
    monkeypatch.setattr(sys, "path", [*sys.path, "/elsewhere"])
    assert quick._lookup(key) == ("stale", None)


def test_other_command_lines_have_their_own_record(recorded_site: tuple[Path, str]) -> None:
    site, _ = recorded_site
    other_url = quick._key((None, None, "/other", (), True), str(site))
    other_start = quick._key((None, None, None, (), True), str(site.parent))
    assert quick._lookup(other_url) == quick._lookup(other_start) == ("absent", None)


def test_no_record_from_stamps_too_young_to_trust(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "RACY_NS", 0)  # the state may answer; the record must not be made
    site = make_site(GLOB_FILES, GLOB_CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0
    assert not (site / quick.QUICK_FILE).exists()


def test_cache_clear_removes_the_record(recorded_site: tuple[Path, str]) -> None:
    site, key = recorded_site
    assert _click(["cache", "clear"]) == 0
    assert not (site / quick.QUICK_FILE).exists()
    assert quick._lookup(key) == ("absent", None)


def test_a_corrupt_record_is_ignored_and_replaced(recorded_site: tuple[Path, str]) -> None:
    import marshal

    from assetbuild.cachehome import load_key

    site, key = recorded_site
    good = (site / quick.QUICK_FILE).read_bytes()
    signer = load_key(create=False)[0]
    assert signer is not None

    def framed(payload: bytes) -> bytes:  # the right magic and signature around it
        parts = quick._signed_parts(str(site / quick.QUICK_CACHE), payload)
        return quick._MAGIC + signer.ident + signer.sign(*parts) + payload

    damaged = bytearray(good)
    damaged[-1] ^= 1
    junk_list = (
        b"",
        b"{",
        b'{"format": 1, "entries": {}}',  # the JSON record of an earlier version
        b"\xff\xfe",
        good[: len(good) // 2],  # truncated
        bytes(damaged),  # one bit flipped: the signature no longer matches
        framed(b"\xff\x00garbage"),  # not marshal data
        framed(marshal.dumps([1, 2])),  # not a record
        framed(marshal.dumps({"format": 1, "entries": {}})),  # another format
        framed(marshal.dumps({"format": quick.QUICK_FORMAT, "entries": []})),
        framed(marshal.dumps({"format": quick.QUICK_FORMAT, "entries": {key: "not a record"}})),
    )
    for junk in junk_list:
        (site / quick.QUICK_FILE).write_bytes(junk)
        assert quick._lookup(key) == ("absent", None)
        assert quick.answer(["install", "-q"]) == 0  # the state still proves it
        assert quick._lookup(key) == ("valid", ("", ""))


def test_a_cache_dir_elsewhere_gets_no_record(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(GLOB_FILES, 'cache_dir = "../cache"\n' + GLOB_CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0
    assert not (site / quick.QUICK_FILE).exists()
    assert not (site.parent / "cache" / quick.QUICK_FILE.split(os.sep, 1)[1]).exists()


_PROBE = (
    "import sys; before = set(sys.modules); from assetbuild import quick; "
    "code = quick.answer(sys.argv[1:]); new = set(sys.modules) - before; "
    "print(code, ' '.join(sorted(m for m in new if m.startswith('assetbuild') or m in ('json', 're'))))"
)


def test_a_recorded_answer_imports_nothing_of_the_build(make_site: Any) -> None:
    """Real processes, real clock: installed, then proven by the state, then by the record alone."""
    site = make_site(GLOB_FILES, GLOB_CONFIG)
    past = time.time() - 60  # old sources: the state is recorded (see state.RACY_NS)
    for path in [*site.rglob("*.js"), *site.rglob("*.css"), site / "assetbuild.toml"]:
        os.utime(path, (past, past))
    run = {"cwd": site, "capture_output": True, "text": True, "check": True}
    subprocess.run([sys.executable, "-m", "assetbuild", "install", "-q"], **run)
    time.sleep(2.2)  # past RACY_NS: the stamps can now prove "unchanged"
    second = subprocess.run([sys.executable, "-c", _PROBE, "install", "-q"], **run)
    assert second.stdout.split()[0] == "0" and "assetbuild.config" in second.stdout
    third = subprocess.run([sys.executable, "-c", _PROBE, "install", "-q"], **run)
    # Neither json nor re: the quick module, the stamps and the cache key's (os, time, C SHA-256).
    assert third.stdout.split() == [
        "0",
        "assetbuild",
        "assetbuild.cachehome",
        "assetbuild.quick",
        "assetbuild.stamps",
    ]
    assert third.stderr == ""
    (site / "js/source/lib/new.js").write_text("let fresh = 1;\n")
    fourth = subprocess.run([sys.executable, "-c", _PROBE, "install", "-q"], **run)
    assert fourth.stdout.split()[0] == "None"  # changed: the full build decides


def test_a_plain_install_prints_what_click_prints_from_state_and_record(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site({**GLOB_FILES, "js/source/t.js": "var t = '{$undeclared}';\n"}, GLOB_CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install"]) == 0
    built = capsys.readouterr()
    assert "new" in built.out  # the first install: the change column says "new"
    assert _click(["install"]) == 0  # click's own no-change output
    clicked = capsys.readouterr()
    assert "up to date" in clicked.out and "undeclared" in clicked.err
    key = quick._key((None, None, None, (), False), str(site))
    assert quick._lookup(key) == ("absent", None)
    assert quick.answer(["install"]) == 0  # the state proves it and records the output
    by_state = capsys.readouterr()
    assert quick._lookup(key)[0] == "valid"
    assert quick.answer(["install"]) == 0  # the record alone
    by_record = capsys.readouterr()
    assert (by_state.out, by_state.err) == (clicked.out, clicked.err)
    assert (by_record.out, by_record.err) == (clicked.out, clicked.err)
    # The quiet line has its own record: no table.
    assert quick.answer(["install", "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_a_stale_record_asks_the_state_once_hands_over_and_is_forgotten(
    recorded_site: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, key = recorded_site
    (site / "js/source/c.js").write_text("var c = 3;\n")
    asked: list[object] = []
    real = quick._up_to_date

    def counting(*args: Any) -> Any:
        asked.append(args)
        return real(*args)

    monkeypatch.setattr(quick, "_up_to_date", counting)
    code, checked, remember = quick.attempt(["install", "-q"])
    assert code is None and len(asked) == 1  # the state said "changed" ...
    assert checked is not None and remember is not None  # ... and its session goes on to the build
    entries = quick._load()
    assert entries is not None and key not in entries


def _entry(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    """The console script as users run it (quick path first, then click)."""
    from assetbuild import __main__ as entry

    monkeypatch.setattr(sys, "argv", ["assetbuild", *argv])
    entry.run()


def test_an_install_leaves_the_record_the_next_run_answers_from(
    recorded_site: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source saved with the same bytes (a new stamp): the install finds nothing to do and
    records the answer, so the run right after it needs no build modules."""
    site, key = recorded_site
    source = site / "js/source/lib/b.js"
    data = source.read_bytes()
    source.write_bytes(data)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    assert quick._lookup(key)[0] == "stale"
    with pytest.raises(SystemExit) as run:
        _entry(monkeypatch, ["install", "-q"])
    assert run.value.code == 0
    assert sorted(p.name for p in (site / "js").iterdir() if p.name.isdigit()) == ["1"]
    assert quick._lookup(key) == ("valid", ("", ""))  # recorded again: the next run answers here


def test_an_install_after_an_edit_collects_stamps_and_asks_the_state_once(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The quick path hands the session it checked to the command line, which goes on with it."""
    from assetbuild import __main__ as entry
    from assetbuild.build import session as session_mod

    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    monkeypatch.setattr(sys, "argv", ["assetbuild", "install", "-q"])
    with pytest.raises(SystemExit) as first:
        entry.run()
    assert first.value.code == 0
    (site / "js/source/a.js").write_text("var a = 2;\n")
    calls: dict[str, int] = {"collect": 0, "take_snapshot": 0, "check": 0}

    def counting(name: str, module: Any) -> None:
        real = getattr(module, name)

        def count(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, count)

    counting("collect", session_mod)
    counting("take_snapshot", state)
    counting("check", state)
    handed: list[object] = []
    real_attempt = quick.attempt

    def spy(argv: Any) -> Any:
        code, checked, remember = real_attempt(argv)
        handed.append(checked)
        return code, checked, remember

    monkeypatch.setattr(entry, "attempt", spy)
    with pytest.raises(SystemExit) as second:
        entry.run()
    assert second.value.code == 0
    assert handed and handed[0] is not None  # the state said "changed": its session went on
    assert calls == {"collect": 1, "take_snapshot": 1, "check": 1}  # one bundle, asked once
    assert b"var a=2" in next((site / "js").glob("*/main.js")).read_bytes()
    capsys.readouterr()


def test_a_handed_session_for_another_config_is_not_used(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.build.results import BuildOptions
    from assetbuild.build.session import Session
    from assetbuild.cli import Settings
    from assetbuild.config import Overrides, load_config

    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    other = load_config(site, None, Overrides(static_url="/elsewhere"), {})
    stale = Session(other, BuildOptions())
    stale.checked = True  # as if its state had been asked: it must not stop this install's own
    result = main.main(["install", "-q"], standalone_mode=False, obj=Settings(checked=stale))
    assert result is None
    manifest = (site / "manifest.json").read_text()
    assert '"/static/js/1/main.js"' in manifest and "/elsewhere" not in manifest


def test_young_stamps_are_recorded_with_their_content_and_checked_by_it(
    recorded_site: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Git's racily clean entries: a stamp too young to prove anything is recorded with what the
    proof said of the file's content; every lookup confirms that content until the stamp is old."""
    site, key = recorded_site
    cache = str(site / quick.QUICK_CACHE)
    before = quick._load()[key]
    source = str(site / "js/source/lib/b.js")
    digest = hashlib.sha256((site / "js/source/lib/b.js").read_bytes()).hexdigest()
    answer = {"paths": [source, str(site / "js")], "stdout": "", "warnings": []}
    monkeypatch.setattr(quick, "RACY_NS", 10**19)  # every stamp is young now
    quick._remember(key, dict(answer, proofs={source: ["sha256", digest]}), cache)
    assert quick._load()[key] == before  # a young path without a proof: nothing recorded
    proofs = {source: ["sha256", digest], str(site / "js"): ["versions", [1]]}
    quick._remember(key, dict(answer, proofs=proofs), cache)
    assert [len(e) for e in quick._load()[key]["stamps"]] == [3, 3]
    assert quick._lookup(key) == ("valid", ("", ""))
    assert [len(e) for e in quick._load()[key]["stamps"]] == [3, 3]  # still young: still proofs
    wrong = dict(proofs, **{source: ["sha256", "0" * 64]})
    quick._remember(key, dict(answer, proofs=wrong), cache)
    assert quick._lookup(key) == ("stale", None)  # the content is not what was proven
    quick._remember(key, dict(answer, proofs=proofs), cache)
    monkeypatch.setattr(quick, "RACY_NS", 0)  # now old: confirmed once more, then stamps suffice
    assert quick._lookup(key) == ("valid", ("", ""))
    assert [len(e) for e in quick._load()[key]["stamps"]] == [2, 2]


def test_content_proofs_are_checked_as_recorded(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_bytes(b"var a;")
    (tmp_path / "3").mkdir()
    (tmp_path / "source").mkdir()
    digest = hashlib.sha256(b"var a;").hexdigest()
    assert quick._still(str(tmp_path / "a.js"), ["sha256", digest])
    assert not quick._still(str(tmp_path / "a.js"), ["sha256", "0" * 64])
    assert not quick._still(str(tmp_path / "missing.js"), ["sha256", digest])
    assert quick._still(str(tmp_path), ["versions", [3]])
    (tmp_path / "4").mkdir()
    assert not quick._still(str(tmp_path), ["versions", [3]])
    assert not quick._still(str(tmp_path), ["unknown", 1])


def test_the_record_an_install_leaves_warns_as_the_state_would(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The answer recorded after an install shows the warnings the state's own answer shows."""
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site({**GLOB_FILES, "js/source/t.js": "var t = '{$undeclared}';\n"}, GLOB_CONFIG)
    monkeypatch.chdir(site)
    with pytest.raises(SystemExit) as run:
        _entry(monkeypatch, ["install", "-q"])
    assert run.value.code == 0
    key = quick._key((None, None, None, (), True), str(site))
    status, printed = quick._lookup(key)
    assert status == "valid" and printed is not None and "undeclared" in printed[1]
    capsys.readouterr()
    quick._remember(key, None)  # the state answers and records instead
    assert quick.answer(["install", "-q"]) == 0
    assert quick._lookup(key) == (status, printed)
