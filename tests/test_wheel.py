"""The package as users install it: sdist -> wheel -> a fresh venv outside the checkout.

The wheel is built from the sdist (so both carry what the program loads at run time),
installed into a new virtual environment in a temporary folder, and run from there: the
checkout is not on its path, so an installed program that works here finds its
built-in protocols and everything else in the wheel itself. The new venv borrows the
development venv's installed libraries through a ``.pth`` line (not its ``.pth``
files, so not the editable isogrip), which keeps the test offline and quick; `make
wheel-check` does the full, slower install with the dependencies from the index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    done = run(sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", out,
               ROOT, cwd=out)
    assert done.returncode == 0, done.stderr[-2000:]
    (sdist,) = out.glob("isogrip-*.tar.gz")
    done = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "--wheel-dir", out, sdist, cwd=out)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("isogrip-*.whl")
    return sdist, wheel


def test_the_sdist_and_the_wheel_carry_the_run_time_files(built: tuple[Path, Path]) -> None:
    sdist, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    with tarfile.open(sdist) as tf:
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    protocols = {n for n in names if n.startswith("isogrip/protocols/builtin/")
                 and n.endswith(".toml")}
    assert "isogrip/protocols/builtin/ihg-4x2-30-alternating.toml" in protocols
    assert protocols <= in_sdist
    assert "isogrip/py.typed" in names
    assert not any(n.startswith(("tests/", "bench/", "tools/")) for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "isogrip = isogrip.cli:main" in zf.read(entry).decode()


def test_the_installed_wheel_runs_a_session_outside_the_checkout(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    _sdist, wheel = built
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).stdout.strip())
    # The development venv's libraries, not its .pth files (the editable isogrip).
    (site / "dev-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps",
               "--no-index", wheel, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    home = tmp_path / "home"
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(home),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    isogrip = env_dir / "bin" / "isogrip"
    where = run(py, "-c", "import isogrip; print(isogrip.__file__)", cwd=tmp_path, env=env)
    assert where.stdout.strip().startswith(str(site)), where
    version = run(isogrip, "--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and version.stdout.startswith("isogrip 0."), version
    protocols = run(isogrip, "protocols", cwd=tmp_path, env=env)
    assert "ihg-4x2-30-alternating" in protocols.stdout, protocols
    session = run(isogrip, "--data-dir", tmp_path / "data", "run", "--speed", "max",
                  "--headless", "--bp", "128/82", cwd=tmp_path, env=env)
    assert session.returncode == 0, session.stdout[-2000:] + session.stderr[-2000:]
    assert "complete" in session.stdout.lower(), session.stdout
    listed = run(isogrip, "--data-dir", tmp_path / "data", "sessions", cwd=tmp_path, env=env)
    assert listed.returncode == 0 and "complete" in listed.stdout, listed
    assert os.listdir(tmp_path / "data")
