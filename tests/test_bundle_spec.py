"""The PyInstaller spec's settings for each platform, read without PyInstaller.

Building and running the bundle is `make bundle-check` (tools/check_bundle.py): too slow
for the suite, and only the Linux bundle can be built here. These tests run the spec
with PyInstaller's build steps replaced by recorders, as if on Linux, Windows and macOS,
and check what the other platforms need and nobody here can try: the macOS Bluetooth
sentences and app id, bleak's WinRT modules, the icons, and the entitlements file.
"""

from __future__ import annotations

import ast
import importlib.util
import plistlib
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "isogrip.spec"
STEPS = ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")


def run_spec(monkeypatch: pytest.MonkeyPatch, platform: str) -> dict[str, dict[str, Any]]:
    """Execute the spec as on ``platform``; the keyword arguments of each build step."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package, **_: [f"{package}.collected"]  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda dist: [(f"/site-packages/{dist}.dist-info", f"{dist}.dist-info")]  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setattr(sys, "platform", platform)
    calls: dict[str, dict[str, Any]] = {}

    def recorder(step: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> types.SimpleNamespace:
            calls[step] = {"args": args, **kwargs}
            return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])
        return record

    namespace: dict[str, Any] = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC),
                                 **{step: recorder(step) for step in STEPS}}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return calls


def app_id() -> str:
    source = (ROOT / "isogrip" / "ui" / "app.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "APP_ID":
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise AssertionError("isogrip/ui/app.py sets no APP_ID")


def test_linux_is_one_folder_with_the_data_the_app_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec(monkeypatch, "linux")
    assert "BUNDLE" not in calls
    assert calls["EXE"]["exclude_binaries"] is True  # one folder: COLLECT gathers the rest
    assert calls["EXE"]["name"] == calls["COLLECT"]["name"] == "isogrip"
    assert calls["EXE"]["console"] is True and calls["EXE"]["upx"] is False
    analysis = calls["Analysis"]
    assert analysis["args"][0] == [str(ROOT / "packaging" / "isogrip_main.py")]
    datas = dict(analysis["datas"])
    assert datas[str(ROOT / "isogrip" / "protocols" / "builtin" / "*.toml")] == \
        "isogrip/protocols/builtin"
    for size in (16, 32, 48, 64, 128, 256):  # the window icon (isogrip.ui.app.app_icon)
        png = ROOT / "isogrip" / "resources" / "icons" / f"isogrip-{size}.png"
        assert datas[str(png)] == "isogrip/resources/icons"
    assert "isogrip.collected" in analysis["hiddenimports"]  # drivers imported by name
    for test_tool in ("bumble", "hypothesis", "pytest", "mypy"):
        assert test_tool in analysis["excludes"]


def test_the_research_and_clinic_extras_stay_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    left_out = [r for extra in ("research", "clinic") for r in extras.get(extra, [])]
    excludes = run_spec(monkeypatch, "linux")["Analysis"]["excludes"]
    for requirement in left_out:
        name = requirement.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip()
        assert name.lower().replace("-", "_") in excludes


def test_windows_has_bleaks_winrt_modules_and_the_ico(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec(monkeypatch, "win32")
    hidden = set(calls["Analysis"]["hiddenimports"])
    # Every winrt module bleak's WinRT backend imports, read from the installed bleak.
    spec = importlib.util.find_spec("bleak")
    assert spec is not None and spec.submodule_search_locations
    backend = Path(next(iter(spec.submodule_search_locations))) / "backends" / "winrt"
    imported: set[str] = set()
    for source in backend.glob("*.py"):
        hidden_module = f"bleak.backends.winrt.{source.stem}"
        if source.stem != "__init__":
            assert hidden_module in hidden
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("winrt"):
                imported.add(node.module or "")
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names if a.name.startswith("winrt"))
    assert "winrt.windows.devices.bluetooth" in imported  # the scan found bleak's imports
    assert imported <= hidden, imported - hidden
    # Imported by the winrt extension modules from C (scan results are collections).
    assert "winrt.windows.foundation.collections" in hidden
    assert "winrt.collected" in hidden
    icon = Path(calls["EXE"]["icon"])
    assert icon.suffix == ".ico" and icon.is_file()
    assert calls["EXE"]["hide_console"] == "hide-early"


def test_macos_app_says_why_it_uses_bluetooth(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec(monkeypatch, "darwin")
    bundle = calls["BUNDLE"]
    assert bundle["name"] == "isogrip.app"
    assert bundle["bundle_identifier"] == app_id()
    assert (ROOT / "packaging" / "linux" / f"{app_id()}.desktop").is_file()
    plist = bundle["info_plist"]
    for key in ("NSBluetoothAlwaysUsageDescription", "NSBluetoothPeripheralUsageDescription"):
        assert "Bluetooth" in plist[key] and len(plist[key]) > 40
    icon = Path(bundle["icon"])
    assert icon.suffix == ".icns" and icon.is_file()
    assert Path(calls["EXE"]["icon"]) == icon


def test_macos_entitlements_claim_bluetooth() -> None:
    entitlements = plistlib.loads((ROOT / "packaging" / "macos" / "entitlements.plist")
                                  .read_bytes())
    assert entitlements["com.apple.security.device.bluetooth"] is True


def test_the_launcher_calls_the_console_script() -> None:
    source = (ROOT / "packaging" / "isogrip_main.py").read_text(encoding="utf-8")
    assert "from isogrip.cli import main" in source
    assert "multiprocessing.freeze_support()" in source
