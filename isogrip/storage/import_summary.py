"""Validate the ``summary.json`` of an export: the session, its MVC, trials and holds.

Part of the import's checks (:mod:`isogrip.storage.import_check`): every field is read
through :mod:`isogrip.storage.import_fields` and the result is typed rows, nothing left
to interpret. The stored protocol must load, the participant must be an ID, trials
and holds may not be listed twice and no end comes before its start.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from isogrip.files import SMALL_FILE_LIMIT
from isogrip.ids import ParticipantIdError, participant_or_none
from isogrip.protocols.loader import protocol_from_dict
from isogrip.storage.export import (
    FORMAT_VERSION,
    HOLD_BASE,
    SUMMARY_FORMAT,
)
from isogrip.storage.import_fields import (
    INT64_MAX,
    MAX_FORCE_N,
    MAX_INDEX,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_TIME_S,
    MIN_TIME_S,
    ImportFileError,
    Where,
    array,
    boolean,
    choice,
    decode,
    integer,
    number,
    obj,
    parse_json,
    read_export_file,
    required_integer,
    required_text,
    show,
    text,
    wall_time,
)
from isogrip.storage.rows import FINAL_STATUSES, MvcRow, MvcTrialRow
from isogrip.types import Hand

#: A JSON object as read (validated by :func:`~isogrip.storage.import_fields.check_json`).
JsonObject = Mapping[str, Any]

#: Most quality flags of one MVC.
MAX_FLAGS: Final = 32
#: Highest session id kept (the desktop app passes ids as 32-bit integers).
MAX_SESSION_ID: Final = 1_000_000_000
#: Device sample rates accepted, Hz (the simulated device goes up to 1000).
MIN_RATE_HZ: Final = 0.1
MAX_RATE_HZ: Final = 2000.0
#: Largest magnitude of a hold metric.
MAX_METRIC: Final = 1e15
HANDS: Final = tuple(h.value for h in Hand)
_SUMMARY_KEYS: Final = (
    "format", "format_version", "session_id", "uuid", "started_at", "ended_at", "status",
    "completed", "note", "protocol", "device", "device_info", "participant", "app_version",
    "mvc", "holds", "bp_check", "n_samples")
_SUMMARY_REQUIRED: Final = ("uuid", "started_at", "status", "protocol", "device",
                            "app_version")
_MVC_KEYS: Final = ("mvc_n", "mvc_kg", "best_trial", "flags", "trials")
_TRIAL_KEYS: Final = ("hand", "trial", "t_start_s", "t_end_s", "score_n", "score_kg",
                      "raw_peak_n", "time_to_peak_s", "plausible", "message", "used")
_BP_KEYS: Final = ("sbp", "dbp", "pulse", "sbp_limit", "dbp_limit", "too_high",
                   "trained_anyway")
#: Columns of the participant table a metric must not replace.
_TABLE_COLUMNS: Final = frozenset((
    "participant", "session_id", "session_uuid", "started_at", "status", "protocol",
    "device", "target_pct_mvc", "display_scale", "mvc_left_n", "mvc_right_n",
    "mvc_left_reused", "mvc_right_reused", "hold_mvc_n"))
_DEVICE_TEXT: Final = ("kind", "name", "address", "firmware")
_METRIC_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class SessionHeader:
    """The session's own fields from ``summary.json``, validated."""

    uuid: str
    session_id: int | None
    started_at: str
    ended_at: str | None
    status: str
    note: str | None
    protocol_name: str
    protocol: JsonObject
    device: str
    device_info: JsonObject | None
    participant: str | None
    app_version: str
    n_samples: int | None


@dataclass(frozen=True, slots=True)
class ExportHold:
    """One hold attempt; ``metrics`` holds numbers (or ``None``) by metric name."""

    rep: int
    attempt: int
    hand: str | None
    t_go_s: float | None
    t_end_s: float | None
    target_n: float | None
    band_low_n: float | None
    band_high_n: float | None
    mvc_n: float | None
    completed: bool
    metrics: Mapping[str, float | int | None]


class ImportParticipantError(ImportFileError, ParticipantIdError):
    """The participant of an export is not an ID (a name, say)."""



# ---------------------------------------------------------------------------- summary
def read_summary(path: Path) -> tuple[SessionHeader, tuple[MvcRow, ...],
                                      tuple[MvcTrialRow, ...], tuple[ExportHold, ...]]:
    """Validate ``summary.json``: the session, its MVC per hand, trials and holds."""
    w = Where(path)
    data = read_export_file(path, SMALL_FILE_LIMIT, "summary file", export=False)
    s = parse_json(w, None, decode(w, data))
    if not isinstance(s, dict) or s.get("format") != SUMMARY_FORMAT:
        w.fail(None, "not an isogrip session summary")
    obj(w, None, s, allowed=_SUMMARY_KEYS, required=_SUMMARY_REQUIRED)
    version = s.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        w.fail("format_version", f"must be {FORMAT_VERSION} (the version this isogrip "
                                 f"reads), got {show(version)}")
    header = _header(w, s)
    mvc, trials = _mvc(w, s.get("mvc"))
    holds = _holds(w, s.get("holds"))
    bp = s.get("bp_check")
    if bp is not None:
        for key, v in obj(w, "bp_check", bp, allowed=_BP_KEYS).items():
            if isinstance(v, str | list | dict):
                w.fail(f"bp_check.{key}", f"must be a number, true/false or null, got {show(v)}")
    return header, mvc, trials, holds


def _header(w: Where, s: Mapping[str, Any]) -> SessionHeader:
    sid = integer(w, "session_id", s.get("session_id"), 1, MAX_SESSION_ID)
    uuid = _uuid_text(w, s["uuid"])
    started = wall_time(w, "started_at", s["started_at"])
    if started > _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=1):
        w.fail("started_at", f"is in the future, got {show(s['started_at'])}")
    ended_at = s.get("ended_at")
    if ended_at is not None and wall_time(w, "ended_at", ended_at) < started:
        w.fail("ended_at", f"is before started_at, got {show(ended_at)}")
    status = s["status"]
    if status == "running":
        w.fail("status", "is running: only a session that has ended can be imported")
    choice(w, "status", status, FINAL_STATUSES, optional=False)
    completed = s.get("completed")
    if completed is not None and boolean(w, "completed", completed) != (status == "complete"):
        w.fail("completed", f"is {show(completed)} but the status is {status}")
    name, protocol = _protocol(w, s["protocol"])
    return SessionHeader(
        uuid=uuid, session_id=sid, started_at=s["started_at"], ended_at=ended_at,
        status=status, note=text(w, "note", s.get("note"), MAX_MESSAGE, lines=True,
                                 empty=True),
        protocol_name=name, protocol=protocol,
        device=required_text(w, "device", s["device"], MAX_MESSAGE),  # may hold a path
        device_info=_device_info(w, s.get("device_info")),
        participant=_participant(w, s.get("participant")),
        app_version=required_text(w, "app_version", s["app_version"], MAX_NAME),
        n_samples=integer(w, "n_samples", s.get("n_samples"), 0, INT64_MAX))


def _uuid_text(w: Where, v: Any) -> str:
    s = required_text(w, "uuid", v, 36)
    try:
        canonical = str(_uuid.UUID(s))
    except ValueError:
        w.fail("uuid", f"is not a UUID, got {show(v)}")
    if canonical != s:
        w.fail("uuid", f"must be written like {canonical} (lower case, with hyphens)")
    return s


def _protocol(w: Where, v: Any) -> tuple[str, JsonObject]:
    d = obj(w, "protocol", v)
    try:
        p = protocol_from_dict(d)
    except ValueError as exc:  # ProtocolFileError: "<stored protocol>: FIELD: why"
        field = getattr(exc, "field", None)
        why = str(exc).split(": ", 2 if field else 1)[-1]
        w.fail("protocol" + (f".{field}" if field else ""), why)
    return p.name, d


def _device_info(w: Where, v: Any) -> JsonObject | None:
    if v is None:
        return None
    d = obj(w, "device_info", v)
    for key in _DEVICE_TEXT:  # a replay's name and address hold a path
        text(w, f"device_info.{key}", d.get(key), MAX_MESSAGE, empty=True)
    number(w, "device_info.nominal_rate_hz", d.get("nominal_rate_hz"), MIN_RATE_HZ,
           MAX_RATE_HZ)
    number(w, "device_info.full_scale_n", d.get("full_scale_n"), 0.0, MAX_FORCE_N)
    if d.get("has_clock") is not None:
        boolean(w, "device_info.has_clock", d["has_clock"])
    return d


def _participant(w: Where, v: Any) -> str | None:
    """A participant ID or ``None``: never a name (:func:`isogrip.ids.participant_or_none`)."""
    try:
        return participant_or_none(v)
    except ParticipantIdError as exc:
        raise ImportParticipantError(w.path, str(exc), field="participant") from None


def _mvc(w: Where, v: Any) -> tuple[tuple[MvcRow, ...], tuple[MvcTrialRow, ...]]:
    chosen: list[MvcRow] = []
    trials: list[MvcTrialRow] = []
    for hand, raw in obj(w, "mvc", {} if v is None else v, allowed=HANDS).items():
        f = f"mvc.{hand}"
        m = obj(w, f, raw, allowed=_MVC_KEYS)
        mvc_n = number(w, f"{f}.mvc_n", m.get("mvc_n"), 0.0, MAX_FORCE_N)
        number(w, f"{f}.mvc_kg", m.get("mvc_kg"), 0.0, MAX_FORCE_N)
        best = integer(w, f"{f}.best_trial", m.get("best_trial"), 1, MAX_INDEX)
        flags = list(required_text(w, f"{f}.flags[{i}]", x, MAX_NAME) for i, x in
                      enumerate(array(w, f"{f}.flags", m.get("flags", []), MAX_FLAGS)))
        seen: set[int] = set()
        for i, tr in enumerate(array(w, f"{f}.trials", m.get("trials", []), MAX_INDEX)):
            trial = _trial(w, f"{f}.trials[{i}]", hand, tr)
            if trial.trial in seen:
                w.fail(f"{f}.trials[{i}].trial", f"repeats trial {trial.trial}")
            seen.add(trial.trial)
            trials.append(trial)
        if mvc_n is not None or flags:
            chosen.append(MvcRow(hand, mvc_n, best, flags))
    return tuple(chosen), tuple(trials)


def _trial(w: Where, f: str, hand: str, v: Any) -> MvcTrialRow:
    d = obj(w, f, v, allowed=_TRIAL_KEYS, required=("trial",))
    if d.get("hand", hand) != hand:
        w.fail(f"{f}.hand", f"must be {hand} (the hand it is listed under), "
                            f"got {show(d['hand'])}")
    start, end = _span(w, f, d, "t_start_s", "t_end_s")
    number(w, f"{f}.score_kg", d.get("score_kg"), -MAX_FORCE_N, MAX_FORCE_N)
    return MvcTrialRow(
        hand=hand, trial=required_integer(w, f"{f}.trial", d["trial"], 1, MAX_INDEX),
        t_start_s=start, t_end_s=end,
        score_n=optional_force(w, f"{f}.score_n", d.get("score_n")),
        raw_peak_n=optional_force(w, f"{f}.raw_peak_n", d.get("raw_peak_n")),
        time_to_peak_s=number(w, f"{f}.time_to_peak_s", d.get("time_to_peak_s"), 0.0,
                              MAX_TIME_S),
        plausible=_flag(w, f, d, "plausible", False),
        message=text(w, f"{f}.message", d.get("message"), MAX_MESSAGE, lines=True,
                     empty=True),
        used=_flag(w, f, d, "used", True))


def _holds(w: Where, v: Any) -> tuple[ExportHold, ...]:
    out: list[ExportHold] = []
    seen: set[tuple[int, int]] = set()
    for i, raw in enumerate(array(w, "holds", [] if v is None else v, MAX_INDEX)):
        hold = _hold(w, f"holds[{i}]", raw)
        if (hold.rep, hold.attempt) in seen:
            w.fail(f"holds[{i}]", f"repeats hold {hold.rep}, attempt {hold.attempt}")
        seen.add((hold.rep, hold.attempt))
        out.append(hold)
    return tuple(out)


def _hold(w: Where, f: str, v: Any) -> ExportHold:
    d = obj(w, f, v, required=("rep",))
    t_go, t_end = _span(w, f, d, "t_go_s", "t_end_s")
    metrics: dict[str, float | int | None] = {}
    for key, x in d.items():
        if key in HOLD_BASE:
            continue
        if not _METRIC_RE.fullmatch(key) or key in _TABLE_COLUMNS:
            w.fail(f"{f}.{key}", "is not a hold metric name (lower-case letters, digits "
                                 "and _, and not a column of the participant table)")
        number(w, f"{f}.{key}", x, -MAX_METRIC, MAX_METRIC)
        metrics[key] = x  # as written: whole numbers stay whole
    return ExportHold(
        rep=required_integer(w, f"{f}.rep", d["rep"], 1, MAX_INDEX),
        attempt=required_integer(w, f"{f}.attempt", d.get("attempt", 1), 1, MAX_INDEX),
        hand=choice(w, f"{f}.hand", d.get("hand"), HANDS), t_go_s=t_go, t_end_s=t_end,
        target_n=optional_force(w, f"{f}.target_n", d.get("target_n")),
        band_low_n=optional_force(w, f"{f}.band_low_n", d.get("band_low_n")),
        band_high_n=optional_force(w, f"{f}.band_high_n", d.get("band_high_n")),
        mvc_n=optional_force(w, f"{f}.mvc_n", d.get("mvc_n")),
        completed=_flag(w, f, d, "completed", False), metrics=metrics)


def optional_force(w: Where, field: str, v: Any) -> float | None:
    """A force in N or ``None`` (null); beyond :data:`MAX_FORCE_N` is refused."""
    return number(w, field, v, -MAX_FORCE_N, MAX_FORCE_N)


def _time(w: Where, field: str, v: Any) -> float | None:
    return number(w, field, v, MIN_TIME_S, MAX_TIME_S)


def _span(w: Where, f: str, d: Mapping[str, Any], start: str,
          end: str) -> tuple[float | None, float | None]:
    """Two times of ``d`` (either may be null); the end may not come before the start."""
    a, b = _time(w, f"{f}.{start}", d.get(start)), _time(w, f"{f}.{end}", d.get(end))
    if a is not None and b is not None and b < a:
        w.fail(f"{f}.{end}", f"is before {start} ({b:g} s < {a:g} s)")
    return a, b


def _flag(w: Where, f: str, d: Mapping[str, Any], key: str, default: bool) -> bool:
    return default if key not in d else boolean(w, f"{f}.{key}", d[key])
