"""What a session is asked to do and how it ended (the runtime's input and output)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from isogrip.bp_check import BpCheck
from isogrip.errors import IsogripError
from isogrip.protocols.loader import DEFAULT_PROTOCOL
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import HoldFinished
from isogrip.types import Hand


@dataclass
class SessionConfig:
    """What to run.

    Attributes:
        device: Device spec string (``sim``, ``sim:fatigue?seed=3``...).
        protocol: Built-in protocol name, path to a TOML file, or a Protocol.
        participant: Participant ID recorded with the session (never a name).
        speed: 1 for real time, N for N times faster, ``None`` for flat out
            (simulated devices only).
        data_dir: Data folder (default: ``ISOGRIP_DATA_DIR`` or the user data dir).
        dominant: The participant's dominant hand.
        known_mvc: MVC per hand (N) to reuse instead of measuring it.
        lsl: Stream force and events live over Lab Streaming Layer (off: nothing
            listens on the network).
        tare: Zero the device before starting.
        resume_after_reconnect: After a long device drop paused the session, resume
            by itself when the device is back (for unattended runs); otherwise the
            user chooses to resume (repeat the effort) or stop.
        bp_check: The blood pressure entered before the session and the choice made
            on it (recorded as a ``bp_check`` event), or ``None``.
        started_at: The wall-clock start recorded for the session (default: now).
            The simulated programme replays weeks of sessions on their own days.
    """

    device: str = "sim"
    protocol: str | Protocol = DEFAULT_PROTOCOL
    participant: str | None = None
    speed: float | None = 1.0
    data_dir: Path | None = None
    dominant: Hand = Hand.RIGHT
    known_mvc: Mapping[Hand, float] | None = None
    tare: bool = True
    resume_after_reconnect: bool = False
    lsl: bool = False
    bp_check: BpCheck | None = None
    started_at: datetime | None = None


@dataclass
class SessionResult:
    """How a session ended.

    Attributes:
        session_id: Database id of the session.
        status: ``complete``, ``aborted`` or ``interrupted``.
        reason: Why it ended early, if it did.
        mvc_n: Session MVC per hand, N.
        holds: Each hold's result, in the order they ended.
        samples: Number of samples recorded.
        wall_s: Wall-clock duration of the run, s.
        session_s: Session-clock duration, s.
    """

    session_id: int
    status: str
    reason: str = ""
    mvc_n: dict[Hand, float] = field(default_factory=dict)
    holds: list[HoldFinished] = field(default_factory=list)
    samples: int = 0
    wall_s: float = 0.0
    session_s: float = 0.0


class SessionCancelled(IsogripError):
    """The session was stopped before it started (nothing was recorded)."""


def check_speed(config: SessionConfig, handover_spec: str | None = None) -> None:
    """Refuse a speed that cannot run, or a handed-over device it does not fit.

    Args:
        config: The session asked for.
        handover_spec: The device spec of a connected device handed to the session.

    Raises:
        IsogripError: Why.
    """
    if config.speed is not None and not (config.speed > 0 and math.isfinite(config.speed)):
        raise IsogripError(f"speed must be a positive number, got {config.speed}")
    if handover_spec is not None and (handover_spec != config.device or config.speed != 1.0):
        raise IsogripError("a connected device can only be handed to a real-time "
                           f"session of the same device ({handover_spec!r})")


def check_options(config: SessionConfig, driver: str) -> None:
    """Refuse what cannot run, in the caller's thread, before the session starts.

    Args:
        config: The session asked for.
        driver: The name of the driver its device spec names.

    Raises:
        IsogripError: The device cannot run at that speed, or the participant ID or
            the LSL option cannot be used.
    """
    if driver not in ("sim", "replay") and config.speed != 1.0:
        raise IsogripError("only the simulated device and replays can run faster than "
                           "real time")
    if config.participant:
        from isogrip.settings import check_value

        check_value("participant", config.participant)  # an ID, never a name
    if config.lsl:
        from isogrip.lsl_outlet import check_available

        check_available()  # say so now, not after the session has started
