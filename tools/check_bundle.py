"""Run the PyInstaller bundle (dist/isogrip/, from ``make bundle``) as a user would.

``make bundle-check`` runs this. It is not part of ``make test``: the bundle takes
a minute and a half to build. Every run of the bundled program gets an environment of
its own: an empty PATH (no Python on it), empty PYTHONPATH and PYTHONHOME, and a
temporary home, config and data folder, so nothing of the user's is read or written.

1. ``isogrip --version`` prints the version in isogrip/_version.py.
2. ``isogrip run --speed max --headless`` records a whole simulated session; ``sessions``
   lists it as complete and ``export`` writes its CSV files.
3. ``isogrip`` alone opens the desktop app under a virtual X server (Xvfb, installed by
   tools/system-deps): its window appears, shows the Device screen (the settings say
   the welcome page has been read), is captured to a PNG, and is closed as a window
   manager would close it (WM_DELETE_WINDOW); the program must then exit with 0.

Usage: python tools/check_bundle.py [--bundle dist/isogrip] [--screenshot FILE] [--no-gui]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Title of the main window (isogrip/ui/main_window.py).
WINDOW_TITLE = "^isogrip"


class CheckFailed(Exception):
    """A check of the bundle failed; the message says which and why."""


def project_version() -> str:
    """The version ``--version`` must print: isogrip/_version.py's (pyproject.toml's)."""
    source = (ROOT / "isogrip" / "_version.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__version__"
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    raise CheckFailed("isogrip/_version.py sets no __version__")


def clean_env(tmp: Path) -> dict[str, str]:
    """An environment with no Python on PATH and every user folder inside ``tmp``."""
    empty_bin = tmp / "bin"  # PATH is this empty folder: no python, no anything
    runtime = tmp / "run"
    for folder in (empty_bin, tmp / "home", tmp / "config", tmp / "data", tmp / "cache",
                   tmp / "state"):
        folder.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        "PATH": str(empty_bin),
        "PYTHONPATH": "",
        "PYTHONHOME": "",
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_RUNTIME_DIR": str(runtime),
        "ISOGRIP_CONFIG_DIR": str(tmp / "config" / "isogrip"),
        "ISOGRIP_DATA_DIR": str(tmp / "data" / "isogrip"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "COLUMNS": "120",
    }
    for name in ("python", "python3"):
        if shutil.which(name, path=env["PATH"]):
            raise CheckFailed(f"{name} is on the bundle's PATH {env['PATH']}")
    return env


def run(exe: Path, args: list[str], env: dict[str, str], timeout: float = 180) -> str:
    """Run the bundled program; its output, or CheckFailed unless it exits with 0."""
    start = time.monotonic()
    proc = subprocess.run([str(exe), *args], env=env, cwd=env["HOME"], capture_output=True,
                          text=True, timeout=timeout, check=False)
    took = time.monotonic() - start
    print(f"  $ isogrip {' '.join(args)}  -> exit {proc.returncode} in {took:.1f} s")
    if proc.returncode != 0:
        raise CheckFailed(f"'isogrip {' '.join(args)}' exited with {proc.returncode}:\n"
                          f"{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def check_version(exe: Path, env: dict[str, str]) -> None:
    """``--version`` prints ``isogrip X.Y.Z``, the version in pyproject.toml."""
    out = run(exe, ["--version"], env).strip()
    expected = f"isogrip {project_version()}"
    if out != expected:
        raise CheckFailed(f"--version printed {out!r}, expected {expected!r}")
    print(f"  {out}")


def check_headless(exe: Path, env: dict[str, str], tmp: Path) -> None:
    """A whole simulated session is recorded, listed as complete and exported."""
    data = tmp / "headless-data"
    out = run(exe, ["--data-dir", str(data), "run", "--speed", "max", "--headless"], env)
    done = [line for line in out.splitlines() if line.startswith("Session ")]
    if not done or "complete" not in done[-1]:
        raise CheckFailed(f"the headless session did not say it completed:\n{out}")
    print(f"  {done[-1]}")
    listing = run(exe, ["--data-dir", str(data), "sessions"], env)
    if "complete" not in listing:
        raise CheckFailed(f"'sessions' does not list a complete session:\n{listing}")
    export = tmp / "export"
    run(exe, ["--data-dir", str(data), "export", "1", "--out", str(export)], env)
    for name in ("samples.csv", "events.csv", "summary.json"):
        if not (export / name).is_file() or (export / name).stat().st_size == 0:
            raise CheckFailed(f"the export has no {name}")
    rows = sum(1 for _ in (export / "samples.csv").open(encoding="utf-8")) - 1
    print(f"  saved in {data}, exported: samples.csv ({rows} samples), events.csv, "
          "summary.json")


@contextlib.contextmanager
def xvfb(log: Path) -> Iterator[str]:
    """A virtual X server, 1280 x 800 at 24 bits, on a free display; yields ``:N``."""
    if not shutil.which("Xvfb"):
        raise CheckFailed("Xvfb is not installed: run tools/system-deps")
    read_fd, write_fd = os.pipe()
    with log.open("wb") as log_file:
        # -displayfd: Xvfb picks a free display and writes its number to the pipe.
        server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
             "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=log_file, stderr=subprocess.STDOUT)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                number = pipe.readline().decode().strip()
            if not number.isdigit():
                raise CheckFailed(f"Xvfb did not start (see {log})")
            yield f":{number}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def find_window(display: str, app: subprocess.Popen[bytes], timeout: float) -> int:
    """The id of the app's visible top-level window, once it has been mapped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise CheckFailed(f"the app exited with {app.returncode} before its window "
                              "appeared")
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
                               env={**os.environ, "DISPLAY": display}, capture_output=True,
                               text=True, check=False)
        ids = [int(w) for w in found.stdout.split()]
        if ids:
            return ids[0]
        time.sleep(0.25)
    raise CheckFailed(f"no window named {WINDOW_TITLE!r} appeared within {timeout:.0f} s")


def window_name(display: str, window: int) -> str:
    """The title of an X window."""
    return subprocess.run(["xdotool", "getwindowname", str(window)],
                          env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, check=True).stdout.strip()


def close_window(display: str, window: int) -> None:
    """Ask the window to close as a window manager does: a WM_DELETE_WINDOW message.

    (xdotool can destroy a window or kill its client, but not ask it to close.)
    """

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                ctypes.c_long, ctypes.c_void_p]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = xlib.XOpenDisplay(display.encode())
    if not dpy:
        raise CheckFailed(f"cannot open the X display {display}")
    try:
        event = XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window
        event.xclient.message_type = xlib.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = xlib.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        if not xlib.XSendEvent(dpy, window, 0, 0, ctypes.byref(event)):
            raise CheckFailed("XSendEvent failed")
        xlib.XFlush(dpy)
    finally:
        xlib.XCloseDisplay(dpy)


def distinct_colours(png: Path) -> int:
    """How many colours a PNG has (a blank or black capture has one or two)."""
    out = subprocess.run(["identify", "-format", "%k", str(png)], capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip())


def check_gui(exe: Path, env: dict[str, str], tmp: Path, screenshot: Path) -> None:
    """The desktop app opens on the Device screen under Xvfb and closes with exit 0."""
    for tool in ("xdotool", "import", "identify"):
        if not shutil.which(tool):
            raise CheckFailed(f"{tool} is not installed: run tools/system-deps")
    # The welcome page has been read, so the app starts on the Device screen
    # (MainWindow: "device" if settings.first_run_done else "welcome").
    config = Path(env["ISOGRIP_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"first_run_done": True}),
                                          encoding="utf-8")
    app_log = tmp / "gui.log"
    with xvfb(tmp / "xvfb.log") as display, app_log.open("wb") as log:
        start = time.monotonic()
        app = subprocess.Popen([str(exe)], env={**env, "DISPLAY": display}, cwd=env["HOME"],
                               stdout=log, stderr=subprocess.STDOUT)
        try:
            window = find_window(display, app, timeout=90)
            shown = time.monotonic() - start
            print(f"  window {window:#x} {window_name(display, window)!r} on {display} "
                  f"after {shown:.1f} s")
            time.sleep(3)  # let the Device screen finish its first paint and scan
            if app.poll() is not None:
                raise CheckFailed(f"the app exited with {app.returncode} after its window "
                                  "appeared")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["import", "-display", display, "-window", "root", str(screenshot)],
                           check=True)
            colours = distinct_colours(screenshot)
            if colours < 16:
                raise CheckFailed(f"the capture {screenshot} has {colours} colours: the "
                                  "window drew nothing")
            print(f"  captured {screenshot} ({colours} colours)")
            close_window(display, window)
            try:
                code = app.wait(timeout=30)
            except subprocess.TimeoutExpired as exc:
                raise CheckFailed("the app did not exit within 30 s of its window being "
                                  "closed") from exc
            if code != 0:
                raise CheckFailed(f"the app exited with {code} when its window was closed")
            print("  closed (WM_DELETE_WINDOW): exit 0")
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    output = app_log.read_text(encoding="utf-8", errors="replace").strip()
    if output:
        print("  the app's output:")
        for line in output.splitlines()[-20:]:
            print(f"    {line}")
    if "Traceback (most recent call last)" in output:
        raise CheckFailed("the app printed a Python traceback (above)")


def folder_size(folder: Path) -> str:
    """``du -sh`` of a folder."""
    return subprocess.run(["du", "-sh", str(folder)], capture_output=True, text=True,
                          check=True).stdout.split()[0]


def main(argv: list[str] | None = None) -> int:
    """Run every check; 0 when all passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "isogrip",
                        help="the bundle folder (default: dist/isogrip)")
    parser.add_argument("--screenshot", type=Path,
                        default=ROOT / "build" / "bundle-check" / "device-screen.png",
                        help="where the capture of the app goes")
    parser.add_argument("--no-gui", action="store_true", help="skip the desktop app check")
    args = parser.parse_args(argv)
    exe = args.bundle / ("isogrip.exe" if sys.platform == "win32" else "isogrip")
    if not exe.is_file():
        print(f"check_bundle: {exe} does not exist: run 'make bundle' first", file=sys.stderr)
        return 1
    print(f"bundle: {args.bundle} ({folder_size(args.bundle)})")
    build_time = ROOT / "build" / "bundle-build-seconds"
    if build_time.is_file():
        print(f"last build: {build_time.read_text().strip()} s")
    with tempfile.TemporaryDirectory(prefix="isogrip-bundle-check-") as name:
        tmp = Path(name)
        env = clean_env(tmp)
        checks: list[tuple[str, Callable[[], None]]] = [
            ("--version", lambda: check_version(exe, env)),
            ("headless simulated session", lambda: check_headless(exe, env, tmp)),
        ]
        if not args.no_gui:
            checks.append(("desktop app under Xvfb",
                           lambda: check_gui(exe, env, tmp, args.screenshot)))
        for title, check in checks:
            print(f"{title}:")
            try:
                check()
            except (CheckFailed, subprocess.SubprocessError, OSError) as exc:
                print(f"FAILED: {title}: {exc}", file=sys.stderr)
                return 1
    print(f"bundle check passed ({len(checks)} checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
