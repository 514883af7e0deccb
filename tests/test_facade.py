"""``import isogrip`` gives the names a library user needs, each loaded on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import isogrip
from isogrip.types import Hand


def test_import_isogrip_loads_nothing_heavy() -> None:
    code = ("import sys, isogrip; "
            "print(sorted(m for m in ('numpy', 'bleak', 'PyQt6', 'isogrip.runtime', "
            "'isogrip.storage.store') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_to_its_definition() -> None:
    from isogrip.ble_device.registry import open_device
    from isogrip.errors import DeviceError, IsogripError, StorageError
    from isogrip.protocols.loader import load_protocol
    from isogrip.protocols.model import Protocol
    from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
    from isogrip.storage.store import Store

    expected = {"open_device": open_device, "load_protocol": load_protocol,
                "Protocol": Protocol, "SessionConfig": SessionConfig,
                "SessionResult": SessionResult, "SessionRuntime": SessionRuntime,
                "Store": Store, "IsogripError": IsogripError, "DeviceError": DeviceError,
                "StorageError": StorageError}
    assert set(isogrip.__all__) == {"__version__", *expected}
    for name, obj in expected.items():
        assert getattr(isogrip, name) is obj
        assert name in dir(isogrip)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        isogrip.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_a_session_through_the_facade(tmp_path: Path) -> None:
    config = isogrip.SessionConfig(device="sim:good?seed=2", speed=None, data_dir=tmp_path,
                                   known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0},
                                   protocol=isogrip.load_protocol("ihg-4x2-30-alternating"))
    result = isogrip.SessionRuntime(config).run()
    assert result.status == "complete"
    with isogrip.Store.open(tmp_path) as store:
        assert store.get_session(result.session_id).status == "complete"
