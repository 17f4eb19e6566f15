"""versions: which directory names are versions, which exist, which is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetbuild.versions import area_path, current_version, is_version_name, list_versions


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("1", True),
        ("0", True),
        ("41", True),
        ("1000000", True),
        ("01", False),
        ("00", False),
        ("1.2", False),
        ("-1", False),
        ("+1", False),
        ("", False),
        ("latest", False),
        ("v1", False),
        (" 1", False),
        ("1\n", False),
        ("\u0661", False),  # Arabic-Indic digit one: isdigit() but not ASCII
        ("²", False),
    ],
)
def test_is_version_name(name: str, expected: bool) -> None:
    assert is_version_name(name) is expected


@given(st.integers(min_value=0, max_value=10**12))
def test_every_number_is_a_version_name(n: int) -> None:
    assert is_version_name(str(n))
    assert not is_version_name("0" + str(n))


def test_list_versions_numeric_order_dirs_only(tmp_path: Path) -> None:
    for name in ("1", "2", "10", "9", "01", "latest", ".assetbuild-tmp-11-1-aa"):
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    (tmp_path / "13").symlink_to(tmp_path / "10")  # a link is not a version directory
    assert list_versions(tmp_path) == (1, 2, 9, 10)
    assert current_version(tmp_path) == 10


@given(st.sets(st.integers(min_value=0, max_value=10**6), max_size=8))
def test_list_versions_matches_what_was_made(numbers: set[int]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for n in numbers:
            (Path(tmp) / str(n)).mkdir()
        assert list_versions(Path(tmp)) == tuple(sorted(numbers))
        assert current_version(Path(tmp)) == (max(numbers) if numbers else None)


@pytest.mark.parametrize("missing", ["nope", "file.txt"])
def test_missing_or_file_area_has_no_versions(tmp_path: Path, missing: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    assert list_versions(tmp_path / missing) == ()
    assert current_version(tmp_path / missing) is None


@pytest.mark.parametrize(
    ("area", "parts"), [("", ()), ("js", ("js",)), ("static/js", ("static", "js"))]
)
def test_area_path(tmp_path: Path, area: str, parts: tuple[str, ...]) -> None:
    assert area_path(tmp_path, area) == tmp_path.joinpath(*parts)
