"""The optional libraries, and the one line that says which extra brings each.

A plain ``pip install isogrip`` (or ``pipx install isogrip``) is what a person training
at home needs: the app, sessions, the CSV, JSON and EDF+ exports, reports, the
blood-pressure log and ``isogrip import``. What only research and clinic exports use is
in an extra of ``pyproject.toml``:

* ``research``: pyarrow and pandas (Parquet exports, the participant table, replaying
  a ``samples.parquet``) and pylsl (the live Lab Streaming Layer outlet, also the
  ``lsl`` extra).
* ``clinic``: fhir.resources (``isogrip export --format fhir``).

Each feature imports its library through :func:`import_extra` when it is asked for,
so a missing library stops it with :class:`~isogrip.errors.MissingExtraError`, whose
message is the one line the command line and the app show.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

from isogrip.errors import MissingExtraError

RESEARCH: Final = "research"
CLINIC: Final = "clinic"


def import_extra(module: str, feature: str, extra: str) -> ModuleType:
    """Import ``module`` for ``feature``, or say which extra installs it.

    Args:
        module: The module to import, e.g. ``"pyarrow.parquet"``.
        feature: What needs it, as the message names it, e.g. ``"Parquet export"``.
        extra: The extra that installs it (:data:`RESEARCH`, :data:`CLINIC`).

    Raises:
        MissingExtraError: The module cannot be imported.
    """
    try:
        importlib.import_module(module.partition(".")[0])  # the distribution's package
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(feature, extra) from exc
