"""Cold start: ``isogrip --version``, ``isogrip --help`` and the desktop app's first frame.

Each figure is the wall time of a new process, from just before it is started: the
commands until they exit, the app until it prints that its main window was painted
(``ISOGRIP_EXIT_AFTER_FIRST_FRAME=1``, :mod:`isogrip.ui.first_frame`; off-screen Qt, a
fresh user's config and data folders). A bare ``python -c pass`` is timed in the same
runs as the yardstick. Runs are interleaved (A B C A B C ...), so a machine that slows
down during the run slows every figure alike; figures are medians.

``make bench`` runs it for this interpreter. To compare installs in one run, name their
interpreters (the ``isogrip`` script next to each is used for the commands)::

    python -m bench.cold_start --python /tmp/before/bin/python --python .venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Runs of each command, and of the app (each app run takes a second or two).
COMMAND_RUNS = 15
GUI_RUNS = 7
#: Starts the app through the ``isogrip`` command line (``isogrip gui``) as a user's
#: ``isogrip`` does. The off-screen platform needs no display server, so the CLI's
#: "is there a display" check is answered yes for this process only.
_GUI_SNIPPET = (
    "import sys\n"
    "import isogrip.cli.gui as g\n"
    "g.display_available = lambda: True\n"
    "from isogrip.cli import main\n"
    "sys.exit(main(['gui']))\n"
)
_STAMP = "isogrip: first frame at "
#: The environment of every run: compiled modules are written and used (.pyc), as on a
#: user's machine after the first start, even where this shell turns that off.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _script(python: str) -> list[str]:
    """The ``isogrip`` command of the install ``python`` belongs to."""
    script = Path(python).with_name("isogrip")
    return [str(script)] if script.exists() else [python, "-m", "isogrip"]


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=_ENV, cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def first_frame_s(python: str, home: Path) -> float:
    """Seconds from starting ``python`` with the app to its first painted frame."""
    env = {**_ENV, "QT_QPA_PLATFORM": "offscreen", "ISOGRIP_EXIT_AFTER_FIRST_FRAME": "1",
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache"), "ISOGRIP_DATA_DIR": str(home / "isogrip"),
           "ISOGRIP_CONFIG_DIR": str(home / "config")}
    t0 = time.time()
    home.mkdir(parents=True, exist_ok=True)
    # Run from that folder: with ``-c`` the current folder comes first on sys.path, and a
    # checkout's isogrip/ there would be imported instead of the install's.
    out = subprocess.run([python, "-c", _GUI_SNIPPET], env=env, cwd=home,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith(_STAMP):
            return float(line[len(_STAMP):]) - t0
    raise RuntimeError(f"the app printed no first-frame line (exit {out.returncode}): "
                       f"{out.stderr.strip()[-500:]}")


def measure(pythons: list[str], command_runs: int = COMMAND_RUNS,
            gui_runs: int = GUI_RUNS) -> dict[str, dict[str, float]]:
    """Median seconds per install: bare python, ``--version``, ``--help``, first frame."""
    figures: dict[str, dict[str, list[float]]] = {
        p: {"python_pass_s": [], "version_s": [], "help_s": [], "gui_first_frame_s": []}
        for p in pythons}
    for p in pythons:  # warm-up: disk caches, .pyc files
        _wall([p, "-c", "pass"])
        _wall([*_script(p), "--version"])
    for _ in range(command_runs):
        for p in pythons:
            figures[p]["python_pass_s"].append(_wall([p, "-c", "pass"]))
            figures[p]["version_s"].append(_wall([*_script(p), "--version"]))
            figures[p]["help_s"].append(_wall([*_script(p), "--help"]))
    with tempfile.TemporaryDirectory() as d:
        for p in pythons:
            first_frame_s(p, Path(d) / "warm-up")
        for run in range(gui_runs):
            for i, p in enumerate(pythons):  # a fresh user each run: no settings yet
                figures[p]["gui_first_frame_s"].append(first_frame_s(p, Path(d) / f"{i}-{run}"))
    return {p: {k: statistics.median(v) for k, v in f.items()} for p, f in figures.items()}


def report(python: str, med: dict[str, float], command_runs: int, gui_runs: int) -> None:
    """Print one install's figures."""
    base = med["python_pass_s"]
    print(f"cold start ({python}): python -c pass {base * 1e3:.0f} ms; "
          f"isogrip --version {med['version_s'] * 1e3:.0f} ms "
          f"({med['version_s'] / base:.1f}x; target < 100 ms); "
          f"isogrip --help {med['help_s'] * 1e3:.0f} ms ({med['help_s'] / base:.1f}x; "
          f"target < 100 ms) (medians of {command_runs})")
    print(f"desktop app to first frame (off-screen, fresh user): "
          f"{med['gui_first_frame_s']:.2f} s (median of {gui_runs}; target < 1.5 s)")


def bench_cold_start(results: dict[str, Any]) -> None:
    """``make bench``: this interpreter's cold-start figures."""
    med = measure([sys.executable])[sys.executable]
    report(sys.executable, med, COMMAND_RUNS, GUI_RUNS)
    results["cold_start"] = {k: round(v, 3) for k, v in med.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", default=None,
                        help="an install's interpreter (repeat to compare; default: this one)")
    parser.add_argument("--runs", type=int, default=COMMAND_RUNS)
    parser.add_argument("--gui-runs", type=int, default=GUI_RUNS)
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    for p, med in measure(pythons, args.runs, args.gui_runs).items():
        report(p, med, args.runs, args.gui_runs)


if __name__ == "__main__":
    main()
