"""What a session produces: one frozen dataclass per kind of record.

The protocol engine and the runtime emit these; the runtime hands them unchanged to
the recorder, the GUI, the terminal view and the LSL outlet, which read their
attributes. Each record is stored as one row of the ``events`` table (its
:attr:`~Record.kind` and :meth:`~Record.detail` as JSON); MVC trials, MVC results,
phases and holds also fill their own tables.
:func:`isogrip.protocols.record_detail.record_from_detail` turns a stored row back into
its record, so reports read attributes too.

Adding a field is one edit here (and its column where the record has a table).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from isogrip.protocols.events import EventKind, Phase, Stage
from isogrip.signal.metrics import HoldMetrics
from isogrip.types import Hand


@dataclass(frozen=True, kw_only=True)
class Record:
    """Something that happened at time ``t`` (session clock, s).

    Attributes:
        t: When it happened, s.
        message: A sentence for the participant or the log ("" for none).
    """

    KIND: ClassVar[EventKind]
    #: Fields stored even when ``None`` (the others are left out of the detail).
    ALWAYS: ClassVar[tuple[str, ...]] = ()

    t: float
    message: str = ""

    @property
    def kind(self) -> EventKind:
        """What happened (the ``kind`` column of ``events.csv``)."""
        return self.KIND

    def detail(self) -> dict[str, Any]:
        """The record's fields (but ``t`` and ``message``) for the events table."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("t", "message", "cue"):
                continue
            value = getattr(self, f.name)
            if value is None and f.name not in self.ALWAYS:
                continue
            out[f.metadata.get("key", f.name)] = _plain(value)
        return out


def _plain(value: object) -> object:
    """A field's value as the JSON detail stores it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, HoldMetrics):
        return value.as_dict()
    if isinstance(value, Mapping):
        return dict(value)
    return value


@dataclass(frozen=True, kw_only=True)
class PhaseChanged(Record):
    """The session entered a phase.

    Attributes:
        phase: The phase entered.
        stage: For countdowns and rests, what follows; for efforts, their kind.
        hand: The hand in use (or next), if any.
        duration_s: The phase's planned length, s (``None``: open-ended).
        rep: 1-based hold number (hold stage only).
        target_n: Hold target, N (hold stage, once the MVC is known).
        band_low_n: Lower edge of the green band, N.
        band_high_n: Upper edge of the green band, N.
        mvc_n: The MVC the hold trains against, N.
        trial: 1-based MVC trial number (MVC stage only).
        reason: Why the session stopped (``ABORTED`` only).
    """

    KIND = EventKind.PHASE
    ALWAYS = ("stage", "hand", "duration_s")

    phase: Phase
    stage: Stage | None = None
    hand: Hand | None = None
    duration_s: float | None = None
    rep: int | None = None
    target_n: float | None = None
    band_low_n: float | None = None
    band_high_n: float | None = None
    mvc_n: float | None = None
    trial: int | None = None
    reason: str | None = None

    def detail(self) -> dict[str, Any]:
        """As :meth:`Record.detail`; the band fields are stored for every hold stage."""
        out = super().detail()
        if self.stage is Stage.HOLD:
            for name in ("rep", "target_n", "band_low_n", "band_high_n", "mvc_n"):
                out.setdefault(name, None)
        return out


#: Kinds of :class:`Cue`.
CUE_KINDS = frozenset({
    EventKind.COUNTDOWN, EventKind.GO, EventKind.BREATHE, EventKind.HALFWAY,
    EventKind.TEN_SECONDS_LEFT, EventKind.STOP, EventKind.OUT_OF_BAND,
    EventKind.BACK_IN_BAND,
})


@dataclass(frozen=True, kw_only=True)
class Cue(Record):
    """A prompt to the participant (count, go, halfway, stop, band feedback...).

    Attributes:
        cue: Which prompt (one of :data:`CUE_KINDS`).
        count: The number a countdown says.
        stage: What a go or breathing cue belongs to.
        hand: The hand a go cue is for.
        rep: The hold a go or stop cue belongs to.
        side: ``"low"`` or ``"high"`` for an out-of-band cue.
    """

    KIND = EventKind.GO

    cue: EventKind
    count: int | None = None
    stage: Stage | None = None
    hand: Hand | None = None
    rep: int | None = None
    side: str | None = None

    def __post_init__(self) -> None:
        """Reject a kind that is not a cue (a programming error)."""
        if self.cue not in CUE_KINDS:
            raise ValueError(f"{self.cue.value} is not a cue")

    @property
    def kind(self) -> EventKind:
        """Which prompt this is."""
        return self.cue


@dataclass(frozen=True, kw_only=True)
class MvcTrialScored(Record):
    """An MVC trial has been scored from every sample stamped inside it.

    Attributes:
        hand: The hand.
        trial: 1-based trial number for that hand.
        t_start_s: Go cue, s.
        t_end_s: End of the effort, s.
        score_n: The trial's score (best 1-s mean), N.
        raw_peak_n: Highest single sample, N.
        time_to_peak_s: From the go cue to the peak, s.
        plausible: Whether the effort looks like a real maximal squeeze.
        score_message: Why not, when it is not plausible ("" otherwise).
        flags: The assessment's flags so far (values of ``MvcFlag``).
        extra_trial: Whether another trial was added for this hand.
        advice: The assessment's sentence for the participant.
        saturated: Whether the squeeze reached the device's full scale.
    """

    KIND = EventKind.MVC_TRIAL

    hand: Hand
    trial: int
    t_start_s: float
    t_end_s: float
    score_n: float
    raw_peak_n: float
    time_to_peak_s: float
    plausible: bool
    score_message: str = field(default="", metadata={"key": "message"})
    flags: tuple[str, ...] = ()
    extra_trial: bool = False
    advice: str = ""
    saturated: bool = False


@dataclass(frozen=True, kw_only=True)
class MvcTrialRedone(Record):
    """The participant asked to repeat a trial: it is kept but no longer counts.

    Attributes:
        hand: The hand.
        trial: The trial set aside.
        repeat_as: The number the repeat gets.
        redo: Always true (marks the row in the events table).
    """

    KIND = EventKind.MVC_TRIAL

    hand: Hand
    trial: int
    redo: bool = True
    repeat_as: int


@dataclass(frozen=True, kw_only=True)
class MvcChosen(Record):
    """The session's MVC of a hand.

    Attributes:
        hand: The hand.
        mvc_n: The MVC, N.
        best_trial: The trial it came from.
        flags: The assessment's flags (values of ``MvcFlag``).
        advice: The assessment's sentence for the participant.
    """

    KIND = EventKind.MVC_RESULT

    hand: Hand
    mvc_n: float
    best_trial: int
    flags: tuple[str, ...] = ()
    advice: str = ""


@dataclass(frozen=True, kw_only=True)
class HoldFinished(Record):
    """A hold has ended, with its metrics from every sample stamped inside it.

    Attributes:
        rep: 1-based hold number.
        hand: The hand.
        t_go_s: Go cue, s.
        t_end_s: End of the hold, s.
        target_n: Target, N.
        band_low_n: Lower edge of the green band, N.
        band_high_n: Upper edge of the green band, N.
        mvc_n: The MVC the hold trained against, N.
        completed: Whether the hold ran its full time.
        metrics: Its metrics.
    """

    KIND = EventKind.HOLD_RESULT

    rep: int
    hand: Hand
    t_go_s: float
    t_end_s: float
    target_n: float
    band_low_n: float
    band_high_n: float
    mvc_n: float
    completed: bool
    metrics: HoldMetrics


@dataclass(frozen=True, kw_only=True)
class SessionWarning(Record):
    """Something the participant must know (too hard, device limit, disk full...).

    Attributes:
        reason: Machine-readable reason (``"above_warn_level"``, ``"saturated"`` ...).
        warn_above_pct: The warning level, % MVC (``above_warn_level``).
        full_scale_n: The device's full scale, N (``saturated``).
    """

    KIND = EventKind.WARNING

    reason: str
    warn_above_pct: float | None = None
    full_scale_n: float | None = None


@dataclass(frozen=True, kw_only=True)
class GapStarted(Record):
    """No force data for longer than the gap rule allows during an effort.

    Attributes:
        since_s: Time of the last sample, s.
    """

    KIND = EventKind.GAP

    since_s: float


@dataclass(frozen=True, kw_only=True)
class GapEnded(Record):
    """Force data are back after a gap.

    Attributes:
        duration_s: How long the gap lasted, s.
    """

    KIND = EventKind.GAP_END

    duration_s: float


@dataclass(frozen=True, kw_only=True)
class Paused(Record):
    """The session was paused.

    Attributes:
        phase: The phase it waits in.
    """

    KIND = EventKind.PAUSED

    phase: Phase


@dataclass(frozen=True, kw_only=True)
class Resumed(Record):
    """The session was resumed.

    Attributes:
        phase: The phase it goes on in.
    """

    KIND = EventKind.RESUMED

    phase: Phase


@dataclass(frozen=True, kw_only=True)
class CommandRejected(Record):
    """A command that did not apply; :attr:`message` says why.

    Attributes:
        command: The command (a ``Command`` value).
    """

    KIND = EventKind.COMMAND_REJECTED

    command: str


@dataclass(frozen=True, kw_only=True)
class LinkLost(Record):
    """The device went away, or sent nothing for so long that the session paused.

    Attributes:
        reason: Why the link dropped, as the Bluetooth stack said.
        paused: Whether the session was paused for it.
        connected: For a pause: whether the device was still connected.
    """

    KIND = EventKind.DEVICE_DISCONNECTED

    reason: str | None = None
    paused: bool | None = None
    connected: bool | None = None


@dataclass(frozen=True, kw_only=True)
class LinkBack(Record):
    """The device reconnected.

    Attributes:
        attempts: Connection attempts it took.
        offline_s: How long it was away, s.
    """

    KIND = EventKind.DEVICE_RECONNECTED

    attempts: int
    offline_s: float


#: The figures a :class:`LinkStatus` of the runtime's own statuses carries; a driver's
#: notice keeps every key it reported in ``device_detail`` (its "count" is its own).
LINK_FIGURES: dict[str, frozenset[str]] = {
    "no_data": frozenset({"silent_s"}),
    "data_resumed": frozenset({"silent_s"}),
    "processing_error": frozenset({"count"}),
}


@dataclass(frozen=True, kw_only=True)
class LinkStatus(Record):
    """A notice about the device or the data stream.

    Attributes:
        status: Machine-readable kind (``"no_data"``, ``"data_resumed"``,
            ``"processing_error"``, or a driver's notice such as ``"malformed"``).
        silent_s: For ``no_data`` and ``data_resumed``: seconds without data.
        count: For ``processing_error``: errors so far.
        device_detail: What a driver's notice reported, as it reported it.
    """

    KIND = EventKind.DEVICE_STATUS

    status: str
    silent_s: float | None = None
    count: int | None = None
    device_detail: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Keep each figure to its status, so a stored row reads back unambiguously."""
        own = LINK_FIGURES.get(self.status, frozenset())
        for name in ("silent_s", "count"):
            if getattr(self, name) is not None and name not in own:
                raise ValueError(f"a {self.status!r} link status has no {name}")
        # The driver's details are stored flat beside the status and its figures.
        clash = {"message", "status", *own} & set(self.device_detail)
        if clash:
            raise ValueError(f"a driver's detail cannot be called {', '.join(sorted(clash))}")

    def detail(self) -> dict[str, Any]:
        """The status, then its figures, the driver's flat beside them (as stored)."""
        out = super().detail()
        extra = out.pop("device_detail")
        return {**out, **extra}


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Record):
    """The device is connected and the session is about to start.

    Attributes:
        device: The device spec.
        battery_pct: Battery level the device reported, %, if it did.
    """

    KIND = EventKind.SESSION
    ALWAYS = ("battery_pct",)

    device: str
    battery_pct: float | None = None


@dataclass(frozen=True, kw_only=True)
class BpChecked(Record):
    """The blood pressure entered before the session and what it was checked against.

    Attributes:
        sbp: Systolic, mmHg.
        dbp: Diastolic, mmHg.
        pulse: Pulse, beats/min, if given.
        sbp_limit: Systolic limit, mmHg.
        dbp_limit: Diastolic limit, mmHg.
        too_high: Whether the reading was at or above a limit.
        trained_anyway: Whether the person trained despite the advice not to.
    """

    KIND = EventKind.BP_CHECK
    ALWAYS = ("pulse",)

    sbp: int
    dbp: int
    pulse: int | None = None
    sbp_limit: int
    dbp_limit: int
    too_high: bool
    trained_anyway: bool


#: Everything a session produces.
Event = (PhaseChanged | Cue | MvcTrialScored | MvcTrialRedone | MvcChosen | HoldFinished
         | SessionWarning | GapStarted | GapEnded | Paused | Resumed | CommandRejected
         | LinkLost | LinkBack | LinkStatus | SessionStarted | BpChecked)
