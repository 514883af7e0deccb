"""Linux desktop integration: the .desktop file, the AppStream metainfo and the icon.

The two files in ``packaging/linux/`` are checked by the freedesktop validators
themselves (``desktop-file-validate`` from desktop-file-utils, ``appstreamcli`` from
appstream), which ``tools/system-deps`` installs: a machine without them fails here
rather than skipping. The rest checks that the app id, icon name, Qt's desktop file
name and X11 window class agree, that the icon renders are what they claim to be and
ship in the wheel, and that ``make desktop-install`` installs a valid tree.
"""

from __future__ import annotations

import configparser
import fnmatch
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from isogrip._version import __version__
from isogrip.ui.app import APP_ID, ICON_SIZES, app_icon, setup_application

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "isogrip" / "resources" / "icons"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def tool(name: str) -> str:
    """The path of a system tool the checks need; a clear failure where it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run tools/system-deps (`make test` runs it), "
                    "which installs the Debian packages isogrip's tests use")
    return path


def run(*args: str | Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT, env=env)


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def semicolon_list(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


def render_icons_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_icons", ROOT / "tools" /
                                                  "render_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the standard validators -------------------------------------------------------------

def test_desktop_file_passes_desktop_file_validate() -> None:
    done = run(tool("desktop-file-validate"), DESKTOP)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, output
    assert output == "", output  # not even a hint


def test_metainfo_passes_appstreamcli_validate_pedantic() -> None:
    done = run(tool("appstreamcli"), "validate", "--no-net", "--pedantic", "--explain",
               METAINFO)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Every issue (E: error, W: warning, I: info, P: pedantic) starts its line with a tag.
    issues = [line for line in output.splitlines()
              if line.lstrip()[:2] in {"E:", "W:", "I:", "P:"}]
    assert issues == [], output
    assert "Validation was successful" in output, output


# -- one app id everywhere ---------------------------------------------------------------

def test_the_app_id_icon_name_and_desktop_file_name_agree() -> None:
    entry = desktop_entry()
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert DESKTOP.stem == METAINFO.name.removesuffix(".metainfo.xml") == APP_ID
    assert entry["Icon"] == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    # The command the menu runs is the console script, and AppStream says it provides it.
    assert entry["Exec"] in PYPROJECT["project"]["scripts"]
    assert root.findtext("provides/binary") == entry["Exec"]
    # Same categories in both, licence and version as pyproject.toml says.
    assert [c.text for c in root.iterfind("categories/category")] == \
        semicolon_list(entry["Categories"])
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]
    versions = [r.get("version") for r in root.iterfind("releases/release")]
    assert versions[0] == __version__  # pyproject.toml reads it from isogrip/_version.py
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"


def test_the_metainfo_screenshots_are_the_docs_screenshots() -> None:
    root = ET.parse(METAINFO).getroot()
    images = [image.text or "" for image in root.iterfind("screenshots/screenshot/image")]
    assert images
    for url in images:
        assert url.startswith("https://") and "/docs/screenshots/" in url, url
        assert (ROOT / "docs" / "screenshots" / url.rsplit("/", 1)[1]).is_file(), url


def test_the_app_sets_its_icon_desktop_file_name_and_wm_class(qapp) -> None:  # type: ignore[no-untyped-def]
    saved = (qapp.applicationName(), qapp.desktopFileName(), qapp.windowIcon())
    try:
        app = setup_application()
        assert app is qapp
        assert app.desktopFileName() == APP_ID
        # Qt's X11 window class is the application name: the menu's StartupWMClass.
        assert app.applicationName() == desktop_entry()["StartupWMClass"]
        icon = app.windowIcon()
        assert not icon.isNull()
        assert sorted(s.width() for s in icon.availableSizes()) == sorted(ICON_SIZES)
    finally:
        qapp.setApplicationName(saved[0])
        qapp.setDesktopFileName(saved[1])
        qapp.setWindowIcon(saved[2])


def test_the_main_window_shows_the_app_icon(window, qapp) -> None:  # type: ignore[no-untyped-def]
    saved = qapp.windowIcon()
    try:
        qapp.setWindowIcon(app_icon())
        assert not window.windowIcon().isNull()
        assert window.windowIcon().cacheKey() == qapp.windowIcon().cacheKey()
    finally:
        qapp.setWindowIcon(saved)


# -- the icon files ----------------------------------------------------------------------

def test_every_png_render_has_its_size(qapp) -> None:  # type: ignore[no-untyped-def]
    from PyQt6.QtGui import QImage

    assert ICON_SIZES == render_icons_module().PNG_SIZES
    for size in ICON_SIZES:
        image = QImage(str(ICONS / f"isogrip-{size}.png"))
        assert not image.isNull(), size
        assert (image.width(), image.height()) == (size, size)
        assert image.hasAlphaChannel()  # the rounded tile's corners are transparent
        assert image.pixelColor(0, 0).alpha() == 0


def test_the_png_renders_are_up_to_date_with_the_svg(qapp) -> None:  # type: ignore[no-untyped-def]
    """The committed PNGs are what tools/render_icons.py draws from the SVG now."""
    from PyQt6.QtGui import QImage

    render_png = render_icons_module().render_png

    def pixels(image: QImage) -> np.ndarray:  # type: ignore[type-arg]
        image = image.convertToFormat(QImage.Format.Format_RGBA8888_Premultiplied)
        buffer = image.constBits()
        assert buffer is not None
        buffer.setsize(image.sizeInBytes())
        rows = np.frombuffer(buffer, np.uint8).reshape(image.height(), image.bytesPerLine())
        return rows[:, :image.width() * 4].copy()  # a copy: the QImage goes away

    for size in ICON_SIZES:
        fresh = QImage.fromData(render_png(ICONS / "isogrip.svg", size), "PNG")
        diff = np.abs(pixels(fresh).astype(int) - pixels(QImage(str(ICONS /
                                                                    f"isogrip-{size}.png"))))
        # A little antialiasing drift between Qt versions is allowed, a changed SVG not.
        assert diff.max() <= 24 and diff.mean() < 0.5, (
            f"isogrip-{size}.png differs from the SVG: run tools/render_icons.py")


def test_the_svg_is_a_square_128_icon_without_text() -> None:
    root = ET.parse(ICONS / "isogrip.svg").getroot()
    assert root.get("viewBox") == "0 0 128 128"
    assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "text"]


def test_the_windows_ico_holds_every_size() -> None:
    data = (ICONS / "isogrip.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)  # an icon, not a cursor
    sizes = set()
    for i in range(count):
        width, height, *_rest, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert offset + length <= len(data)
        sizes.add((width or 256, height or 256))  # 0 means 256
    assert {(s, s) for s in (16, 32, 48, 256)} <= sizes


def test_the_macos_icns_is_an_icns_file() -> None:
    data = (ICONS / "isogrip.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    types = set()
    offset = 8
    while offset < len(data):
        kind, length = struct.unpack_from(">4sI", data, offset)
        types.add(kind)
        offset += length
    assert {b"ic07", b"ic08", b"ic09"} <= types  # 128, 256, 512 px


def test_the_icons_ship_in_the_wheel_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["isogrip"]
    files = sorted(p.relative_to(ROOT / "isogrip").as_posix() for p in ICONS.iterdir())
    assert "resources/icons/isogrip.svg" in files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


# -- make desktop-install ----------------------------------------------------------------

@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """``make desktop-install`` into ``tmp_path/share`` (XDG_DATA_HOME)."""
    data_home = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "HOME": str(tmp_path / "home")}
    done = run(tool("make"), "--no-print-directory", "desktop-install", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    yield data_home


def test_make_desktop_install_installs_the_three_files(installed: Path) -> None:
    desktop = installed / "applications" / f"{APP_ID}.desktop"
    metainfo = installed / "metainfo" / f"{APP_ID}.metainfo.xml"
    assert desktop.read_text(encoding="utf-8") == DESKTOP.read_text(encoding="utf-8")
    assert metainfo.read_bytes() == METAINFO.read_bytes()
    for size in ICON_SIZES:
        icon = installed / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert icon.read_bytes() == (ICONS / f"isogrip-{size}.png").read_bytes()
    svg = installed / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_bytes() == (ICONS / "isogrip.svg").read_bytes()
    assert not (installed.parent / "home").exists()  # nothing went to ~/.local/share


def test_the_installed_tree_passes_appstreamcli_validate_tree(installed: Path) -> None:
    """The validator finds the metainfo's .desktop file in the tree it was installed to."""
    done = run(tool("appstreamcli"), "validate-tree", "--no-net", "--explain", installed.parent)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert APP_ID in output or "Validation was successful" in output, output
    done = run(tool("desktop-file-validate"), installed / "applications" / f"{APP_ID}.desktop")
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip()


def test_make_desktop_install_can_name_the_command(tmp_path: Path) -> None:
    exe = tmp_path / "bin" / "isogrip"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    done = run(tool("make"), "--no-print-directory", "desktop-install", f"ISOGRIP_EXEC={exe}",
               env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    entry = desktop_entry(tmp_path / "share" / "applications" / f"{APP_ID}.desktop")
    assert entry["Exec"] == str(exe)


# -- on a real X server ------------------------------------------------------------------

@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    """A private Xvfb server; its display name (``:N``)."""
    xvfb = tool("Xvfb")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0",
                               "1280x1024x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_window_class_on_x11_is_the_desktop_files_startup_wm_class(
        x_display: str, tmp_path: Path) -> None:
    """The running app's X11 WM_CLASS is what the menu matches its windows with."""
    xdotool = tool("xdotool")
    script = Path(sys.executable).parent / "isogrip"
    assert script.is_file(), f"{script}: the console script (pip install -e .)"
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb",
           "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "ISOGRIP_CONFIG_DIR": str(tmp_path / "isogrip-config")}
    env.pop("WAYLAND_DISPLAY", None)
    wm_class = desktop_entry()["StartupWMClass"]
    app = subprocess.Popen([script, "gui"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        found = run("timeout", "60", xdotool, "search", "--sync", "--class",
                    f"^{wm_class}$", env=env)
        assert found.returncode == 0 and found.stdout.split(), (
            f"no window of class {wm_class!r}: {found.stdout}{found.stderr}")
        # The instance part is the command's name, as for any Qt program.
        by_name = run(xdotool, "search", "--classname", f"^{script.name}$", env=env)
        assert set(found.stdout.split()) & set(by_name.stdout.split())
    finally:
        app.terminate()
        try:
            output, _ = app.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            output, _ = app.communicate()
    assert "Traceback" not in output, output
