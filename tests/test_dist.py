"""Distribution metadata, and living next to PyPI's `wasmtime` (wasmtime-py).

The coexistence tests work in a scratch virtualenv: wasmtime-native is put in
by copying the installed files and their dist-info (what pip does with a
wheel), PyPI's wasmtime 50.0.1 is installed with pip itself.
"""

import glob
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys

import pytest

import wasmtime

PACKAGE_DIR = os.path.dirname(os.path.abspath(wasmtime.__file__))
SITE = os.path.dirname(PACKAGE_DIR)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _our_dist():
    for dist in importlib.metadata.distributions(path=[SITE]):
        if dist.metadata["Name"] == "wasmtime-native":
            return dist
    return None


def test_version_attributes():
    assert re.fullmatch(r"\d+\.\d+\.\d+", wasmtime.__version__)
    assert wasmtime.WASMTIME_VERSION == "50.0.1"


def test_distribution_metadata_matches_the_package():
    dist = _our_dist()
    if dist is None:
        pytest.skip("wasmtime is not installed from a distribution here")
    assert dist.version == wasmtime.__version__
    meta = dist.metadata
    assert meta["License-Expression"] == "Apache-2.0 WITH LLVM-exception"
    assert meta["Requires-Python"] == ">=3.10"
    files = {str(f) for f in dist.files or []}
    for lic in ("LICENSE", "NOTICE", "LICENSES/Wasmtime-LICENSE.txt"):
        assert any(f.endswith("licenses/" + lic) for f in files), lic
    # Tools map the import package to its distribution through top_level.txt.
    assert "wasmtime-native" in importlib.metadata.packages_distributions().get("wasmtime", [])


def test_cli_version():
    env = dict(os.environ, PYTHONPATH=SITE)
    p = subprocess.run(
        [sys.executable, "-m", "wasmtime", "--version"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "wasmtime-native %s (Wasmtime 50.0.1)" % wasmtime.__version__


def test_license_files_in_the_tree():
    text = open(os.path.join(REPO, "LICENSE")).read()
    assert "Apache License" in text and "LLVM Exceptions" in text
    assert os.path.exists(os.path.join(REPO, "LICENSES", "Wasmtime-LICENSE.txt"))


# ---- coexistence with PyPI's wasmtime -----------------------------------------------


@pytest.fixture
def scratch(tmp_path):
    """A fresh venv; returns (python, site-packages)."""
    if _our_dist() is None:
        pytest.skip("needs wasmtime-native installed from a distribution")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return py, purelib


def _install_ours(site):
    shutil.copytree(
        PACKAGE_DIR,
        os.path.join(site, "wasmtime"),
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for info in glob.glob(os.path.join(SITE, "wasmtime_native-*.dist-info")):
        shutil.copytree(info, os.path.join(site, os.path.basename(info)), dirs_exist_ok=True)


def _pip(py, *args):
    # The scratch venv has no pip of its own: drive ours at its site-packages.
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", py] + list(args),
        capture_output=True,
        text=True,
    )


def _install_theirs(py):
    p = _pip(py, "install", "-q", "--no-deps", "wasmtime==50.0.1")
    if p.returncode != 0:
        if "pip: error: no such option: --python" in p.stderr:
            pytest.skip("pip is too old for --python")
        pytest.fail("pip could not install PyPI's wasmtime:\n" + p.stderr)


def _run(py, code):
    return subprocess.run([py, "-c", code], capture_output=True, text=True, cwd="/")


def _cli_version(py):
    return subprocess.run(
        [py, "-m", "wasmtime", "--version"], capture_output=True, text=True, cwd="/"
    )


def test_ours_alone_in_scratch_venv(scratch):
    py, site = scratch
    _install_ours(site)
    p = _run(py, "import wasmtime; print(wasmtime.__version__, wasmtime.Memory.view)")
    assert p.returncode == 0, p.stderr


def test_ours_installed_over_pypi_wasmtime_refuses_to_import(scratch):
    py, site = scratch
    _install_theirs(py)
    _install_ours(site)
    p = _run(py, "import wasmtime")
    assert p.returncode != 0
    assert "ImportError: the wasmtime package in" in p.stderr
    assert "mixes files of two distributions" in p.stderr
    assert "pip uninstall -y wasmtime wasmtime-native" in p.stderr
    # Following the advice gives a working package again.
    p = _pip(py, "uninstall", "-y", "wasmtime", "wasmtime-native")
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(os.path.join(site, "wasmtime", "_ffi.py"))
    _install_ours(site)
    p = _run(py, "import wasmtime; wasmtime.Store()")
    assert p.returncode == 0, p.stderr


def test_pypi_wasmtime_installed_over_ours_is_named(scratch):
    py, site = scratch
    _install_ours(site)
    _install_theirs(py)
    # Its __init__.py replaced ours: `import wasmtime` is now wasmtime-py, and
    # our CLI, still on disk, says so instead of misbehaving.
    p = _run(py, "import wasmtime; print(hasattr(wasmtime, '_ext'))")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"
    p = _cli_version(py)
    assert p.returncode != 0
    assert "no longer gives wasmtime-native" in p.stderr
    assert "pip uninstall -y wasmtime wasmtime-native" in p.stderr
    # Uninstalling it takes the shared __init__.py along; the CLI still says so.
    p = _pip(py, "uninstall", "-y", "wasmtime")
    assert p.returncode == 0, p.stderr
    p = _cli_version(py)
    assert p.returncode != 0
    assert "no longer gives wasmtime-native" in p.stderr
