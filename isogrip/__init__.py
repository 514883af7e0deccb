"""isogrip: isometric handgrip training for blood pressure.

The package is layered (see ``docs/architecture.md``):

* :mod:`isogrip.signal`: pure numpy/scipy signal processing (units, filters,
  timebase, MVC scoring, hold metrics).
* :mod:`isogrip.protocols`: protocol files and the protocol engine (a pure state
  machine driven by samples and clock ticks).
* :mod:`isogrip.ble_device`: device drivers, including the simulated device.
* :mod:`isogrip.storage`: the SQLite session store, recorder and exports.
* :mod:`isogrip.runtime`: the session runtime that ties them together.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("isogrip")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
