"""What the Device screen says: the simulated participants, signal strength, failures.

Plain words for a non-technical user, kept apart from the screen's widgets so the
wording can be read (and changed) in one place; the Device screen and the session
flow both use :func:`friendly_error`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass

from isogrip.errors import IsogripError


@dataclass(frozen=True)
class SimParticipant:
    """A virtual participant the simulated device can play, in words.

    Attributes:
        preset: The participant preset (``sim:<preset>``).
        title: Its name in the list.
        words: What a session with it looks like.
    """

    preset: str
    title: str
    words: str


#: The simulated participants offered on the Device screen, in the order shown (the
#: presets of :data:`isogrip.ble_device.participant.PRESETS`).
SIM_PARTICIPANTS = (
    SimParticipant("good", "Steady",
                   "Follows the target closely and stays in the green band: what a "
                   "practised user looks like."),
    SimParticipant("sloppy", "Unsteady",
                   "Reacts late, aims badly and wanders out of the band, so the amber and "
                   "orange zones and the \u201charder\u201d and \u201cease off\u201d "
                   "cues can be seen."),
    SimParticipant("fatigue", "Tiring",
                   "Starts well, then loses strength during each hold and drifts below "
                   "the band unless it squeezes harder."),
    SimParticipant("weak", "Weak grip",
                   "A maximum of only 12-14 kg, like a frail or older person: small "
                   "targets and forces on every screen."),
)


def signal_words(rssi: int) -> str:
    """Signal strength in words a non-technical user understands."""
    if rssi >= -60:
        return f"strong ({rssi} dBm)"
    if rssi >= -75:
        return f"good ({rssi} dBm)"
    return f"weak ({rssi} dBm)"


def friendly_error(exc: BaseException) -> str:
    """One sentence for a device failure (GUI wording of the CLI's advice)."""
    if isinstance(exc, concurrent.futures.TimeoutError | asyncio.TimeoutError | TimeoutError):
        return ("The device did not answer. Check that it is switched on and close to the "
                "computer, then try again.")
    text = str(exc) if isinstance(exc, IsogripError) else f"{type(exc).__name__}: {exc}"
    return text.replace("use --device sim", "use the simulated device")
