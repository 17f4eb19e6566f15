"""The declared public surface: `assetbuild.__all__`, loaded lazily, and named in the README."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import assetbuild
import assetbuild.jinja
import assetbuild.manifest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")

PUBLIC = {
    "__version__": None,
    "Manifest": assetbuild.manifest,
    "ManifestError": assetbuild.manifest,
    "install_jinja": assetbuild.jinja,
    "AssetbuildExtension": assetbuild.jinja,
}


def test_all_names_the_public_surface() -> None:
    assert sorted(assetbuild.__all__) == sorted(PUBLIC)


def test_import_assetbuild_imports_no_submodule() -> None:
    code = (
        "import json, sys; before = set(sys.modules); import assetbuild; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)
    assert "assetbuild.manifest" not in added
    assert added == ["assetbuild"]


@pytest.mark.parametrize("name", [n for n, module in PUBLIC.items() if module is not None])
def test_lazy_names_are_the_defining_modules_objects(name: str) -> None:
    module = PUBLIC[name]
    assert getattr(assetbuild, name) is getattr(module, name)


def test_from_import_gives_the_same_object() -> None:
    from assetbuild import Manifest, install_jinja

    assert Manifest is assetbuild.manifest.Manifest
    assert install_jinja is assetbuild.jinja.install_jinja


def test_version_is_defined_directly() -> None:
    assert "__version__" in vars(assetbuild)
    assert isinstance(assetbuild.__version__, str)


def test_unknown_names_raise() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        getattr(assetbuild, "no_such_name")  # noqa: B009  # the name is deliberately unknown
    with pytest.raises(ImportError):
        exec("from assetbuild import no_such_name")


def test_dir_lists_the_public_names() -> None:
    assert set(assetbuild.__all__) <= set(dir(assetbuild))


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_readme_names_each_public_name(name: str) -> None:
    library_use = README.split("### Library use", 1)[1].split("\n#", 1)[0]
    assert f"`{name}`" in library_use
