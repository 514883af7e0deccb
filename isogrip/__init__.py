"""isogrip: isometric handgrip training for blood pressure.

The package is layered (see ``docs/architecture.md``):

* :mod:`isogrip.signal`: pure numpy/scipy signal processing (units, filters,
  timebase, MVC scoring, hold metrics).
* :mod:`isogrip.protocols`: protocol files and the protocol engine (a pure state
  machine driven by samples and clock ticks).
* :mod:`isogrip.ble_device`: device drivers, including the simulated device.
* :mod:`isogrip.storage`: the SQLite session store, recorder and exports.
* :mod:`isogrip.runtime`: the session runtime that ties them together.

A library user needs only the names below, importable from ``isogrip`` itself; each is
loaded on first use, so ``import isogrip`` stays cheap (no numpy, Qt or bleak)::

    import isogrip

    result = isogrip.SessionRuntime(isogrip.SessionConfig(device="sim", speed=None)).run()
    with isogrip.Store.open() as store:
        print(store.get_session(result.session_id).status)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from isogrip._version import __version__

if TYPE_CHECKING:
    from isogrip.ble_device.registry import open_device
    from isogrip.errors import DeviceError, IsogripError, StorageError
    from isogrip.protocols.loader import load_protocol
    from isogrip.protocols.model import Protocol
    from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
    from isogrip.storage.store import Store

#: Public name -> the module that defines it (imported when the name is first used).
_LAZY: dict[str, str] = {
    "open_device": "isogrip.ble_device.registry",
    "load_protocol": "isogrip.protocols.loader",
    "Protocol": "isogrip.protocols.model",
    "SessionConfig": "isogrip.runtime",
    "SessionResult": "isogrip.runtime",
    "SessionRuntime": "isogrip.runtime",
    "Store": "isogrip.storage.store",
    "IsogripError": "isogrip.errors",
    "DeviceError": "isogrip.errors",
    "StorageError": "isogrip.errors",
}

__all__ = [
    "DeviceError", "IsogripError", "Protocol", "SessionConfig", "SessionResult",
    "SessionRuntime", "StorageError", "Store", "__version__", "load_protocol", "open_device",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'isogrip' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
