"""A live Lab Streaming Layer outlet: force samples and event markers.

Opened only when asked for (``isogrip run --lsl`` or the GUI setting); otherwise
nothing in isogrip listens on the network. Two streams share a source id derived from
the session's uuid:

* ``isogrip-force`` (type ``Force``): one float32 channel in newtons at the device's
  nominal rate. Each sample carries its own timestamp: the session-clock time the
  timebase derived from the device's clock, moved onto LSL's clock by the offset
  between the two clocks measured when the outlet opens (both are the host's
  monotonic clock in live sessions, so the offset is constant).
* ``isogrip-markers`` (type ``Markers``): one string per event, a JSON object with the
  event's kind, message and details, stamped with the event's time.

pylsl is an optional dependency (``pip install 'isogrip[lsl]'``, also in the ``research``
extra).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import IsogripError
from isogrip.protocols.records import Event
from isogrip.storage.jsonio import to_jsonable


class LslUnavailableError(IsogripError, RuntimeError):
    """pylsl (and its liblsl library) cannot be loaded."""


def check_available() -> None:
    """Raise :class:`LslUnavailableError` now if an outlet could not be opened later."""
    try:
        import pylsl  # noqa: F401
    except ImportError as exc:  # not installed: the one line of isogrip.extras
        raise LslUnavailableError(
            "Lab Streaming Layer needs the lsl extra (also part of research): pipx "
            "install 'isogrip[lsl]' (or pip install 'isogrip[lsl]').") from exc
    except Exception as exc:  # installed, but its liblsl library does not load
        raise LslUnavailableError(
            "the Lab Streaming Layer library is not available; install it with "
            f"\"pip install 'isogrip[lsl]'\" ({exc})") from exc


class LslOutlet:
    """Force and marker outlets for one session.

    Args:
        source_id: Stable id shared by both streams (e.g. the session uuid).
        rate_hz: Nominal sample rate of the device.
        session_clock_now: The session clock (its current time, s).
        participant: Participant ID written into the stream description.
        device: Device description written into the stream description.

    Raises:
        LslUnavailableError: pylsl is not installed or cannot load liblsl.
    """

    def __init__(self, source_id: str, rate_hz: float, session_clock_now: Callable[[], float],
                 participant: str | None = None, device: str = "") -> None:
        check_available()
        import pylsl

        self._pylsl = pylsl
        force = pylsl.StreamInfo("isogrip-force", "Force", 1, float(rate_hz),
                                 pylsl.cf_float32, f"{source_id}-force")
        desc = force.desc()
        ch = desc.append_child("channels").append_child("channel")
        ch.append_child_value("label", "force")
        ch.append_child_value("unit", "newtons")
        ch.append_child_value("type", "Force")
        desc.append_child_value("participant", participant or "")
        desc.append_child_value("device", device)
        desc.append_child_value("manufacturer", "isogrip")
        markers = pylsl.StreamInfo("isogrip-markers", "Markers", 1, pylsl.IRREGULAR_RATE,
                                   pylsl.cf_string, f"{source_id}-markers")
        markers.desc().append_child_value("participant", participant or "")
        self.force: Any = pylsl.StreamOutlet(force, chunk_size=0, max_buffered=360)
        self.markers: Any = pylsl.StreamOutlet(markers)
        self.offset_s = pylsl.local_clock() - session_clock_now()
        self.pushed = 0

    def push_samples(self, t: NDArray[np.float64], force_n: NDArray[np.float64]) -> None:
        """Send samples with their (session-clock) times."""
        if len(t) == 0 or self.force is None:
            return
        stamps = (np.asarray(t, np.float64) + self.offset_s).tolist()
        values = np.asarray(force_n, np.float32).reshape(-1, 1).tolist()
        self.force.push_chunk(values, stamps)
        self.pushed += len(t)

    def push_event(self, ev: Event) -> None:
        """Send one event as a JSON marker."""
        if self.markers is None:
            return
        payload: dict[str, Any] = {"kind": ev.kind.value, "message": ev.message,
                                   **to_jsonable(ev.detail())}
        self.markers.push_sample([json.dumps(payload, ensure_ascii=False)],
                                 ev.t + self.offset_s)

    def close(self) -> None:
        """Close both outlets (receivers see the streams end)."""
        self.force = self.markers = None  # pylsl closes an outlet when it is released
