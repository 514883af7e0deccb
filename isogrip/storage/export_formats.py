"""Session exports for research tools: Parquet, EDF+ and JSON, plus a per-participant table.

* **Parquet** (``samples.parquet``, pyarrow): the columns of ``samples.csv`` with real
  types (float64, dictionary-encoded text, nullable int16 and bool); the session
  summary and every event are in the file's key-value metadata (``isogrip.summary``,
  ``isogrip.events``, JSON), so one file carries the whole session.
* **EDF+** (``session.edf``, :mod:`isogrip.storage.edf`): the force in newtons
  resampled onto the device's nominal rate (EDF needs a fixed rate; the recorded times
  are not perfectly regular), the hold's target and band edges as channels of their
  own, and an annotation with the whole text of every phase change, cue and other
  event. Gaps in the signal are annotated as such.
* **JSON** (``session.json``): summary, events and samples in one document.
* **Participant table** (``participant-<ID>.parquet``): one row per hold attempt across
  all of a participant's sessions, with every metric and the session's MVC per hand.

Column meanings are in ``docs/data-formats.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from isogrip.ble_device.limits import limits_for
from isogrip.errors import IsogripError
from isogrip.extras import RESEARCH, import_extra
from isogrip.files import write_atomic
from isogrip.signal.metrics import gap_threshold
from isogrip.signal.units import KGF_N
from isogrip.storage.edf import EdfAnnotation, EdfSignal, edf_number, write_edf_plus
from isogrip.storage.export import (
    export_session,
    output_folder,
    session_summary,
)
from isogrip.storage.jsonio import to_jsonable
from isogrip.storage.samples_csv import phase_index
from isogrip.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd

#: What ``isogrip export --format`` accepts.
EXPORT_FORMATS: Final = ("csv", "parquet", "edf", "json")
SAMPLES_PARQUET: Final = "samples.parquet"
SESSION_EDF: Final = "session.edf"
SESSION_JSON: Final = "session.json"
#: EDF sample rate when the device did not say, Hz.
DEFAULT_EDF_RATE_HZ: Final = 80

F64 = NDArray[np.float64]


class ExportFormatError(IsogripError, ValueError):
    """An unknown export format was asked for."""


def sample_columns(store: Store, session_id: int) -> dict[str, Any]:
    """The samples of a session as typed columns (the content of ``samples.csv``).

    Returns:
        Column name -> numpy array (``phase`` and ``hand`` as object arrays of str or
        None, ``rep`` as float with NaN for none, ``in_band`` as float 1/0/NaN).
    """
    info = store.get_session_info(session_id)
    t, t_dev, force = store.load_samples(session_id)
    phases = store.load_phases(session_id)
    idx = phase_index(phases, t)
    rows = [*phases, None]
    idx = np.where(idx < 0, len(rows) - 1, idx)

    def pick(attr: str) -> F64:
        return np.array([np.nan if p is None or getattr(p, attr) is None
                         else float(getattr(p, attr)) for p in rows])[idx]

    low, high, mvc, target, rep = (pick(a) for a in ("band_low_n", "band_high_n", "mvc_n",
                                                       "target_n", "rep"))
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(mvc > 0, 100.0 * force / mvc, np.nan)
        has_band = np.isfinite(low) & np.isfinite(high) & np.isfinite(force)
        in_band = np.where(has_band, ((force >= low) & (force <= high)).astype(float), np.nan)
    return {
        "t_s": t - info.t0_s, "t_device_s": t_dev, "force_n": force,
        "force_kg": force / KGF_N, "pct_mvc": pct,
        # Text columns as (index per sample, one entry per phase row): millions of
        # repeated strings are never built.
        "phase": (idx, [None if p is None else p.phase for p in rows]),
        "hand": (idx, [None if p is None else p.hand for p in rows]),
        "rep": rep, "target_n": target, "band_low_n": low, "band_high_n": high,
        "in_band": in_band,
    }


def _text_column(col: tuple[NDArray[np.intp], list[str | None]]) -> list[str | None]:
    idx, values = col
    table = np.array(values, dtype=object)
    out: list[str | None] = table[idx].tolist()
    return out


def _events(store: Store, session_id: int) -> list[dict[str, Any]]:
    t0 = store.get_session_info(session_id).t0_s
    return [{"t_s": None if e.t_s is None else e.t_s - t0, "kind": e.kind,
             "detail": to_jsonable(e.detail)} for e in store.load_events(session_id)]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# ---------------------------------------------------------------------------- parquet
def _dictionary(pa: Any, col: tuple[NDArray[np.intp], list[str | None]]) -> Any:
    """A dictionary-encoded text column straight from phase-row indices."""
    idx, values = col
    uniq = sorted({v for v in values if v is not None})
    code = {v: i for i, v in enumerate(uniq)}
    per_row = np.array([code.get(v, -1) if v is not None else -1 for v in values], np.int32)
    indices = per_row[idx]
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32(), mask=indices < 0),
                                          pa.array(uniq, pa.string()))


def write_parquet(store: Store, session_id: int, out_dir: Path | str) -> list[Path]:
    """Write ``samples.parquet`` (typed columns + summary and events in its metadata).

    Raises:
        MissingExtraError: pyarrow is not installed (the ``research`` extra).
    """
    pa = import_extra("pyarrow", "Parquet export", RESEARCH)
    pq = import_extra("pyarrow.parquet", "Parquet export", RESEARCH)
    folder = output_folder(out_dir)  # first: a bad folder costs nothing
    cols = sample_columns(store, session_id)
    rep = cols["rep"]
    in_band = cols["in_band"]
    arrays = {
        **{k: pa.array(cols[k], pa.float64()) for k in
           ("t_s", "t_device_s", "force_n", "force_kg", "pct_mvc")},
        "phase": _dictionary(pa, cols["phase"]),
        "hand": _dictionary(pa, cols["hand"]),
        "rep": pa.array(np.nan_to_num(rep, nan=0).astype(np.int16), pa.int16(),
                        mask=~np.isfinite(rep)),
        **{k: pa.array(cols[k], pa.float64()) for k in ("target_n", "band_low_n",
                                                         "band_high_n")},
        "in_band": pa.array(in_band == 1.0, pa.bool_(), mask=~np.isfinite(in_band)),
    }
    table = pa.table(arrays)
    meta = {
        b"isogrip.summary": _dumps(session_summary(store, session_id)).encode(),
        b"isogrip.events": _dumps(_events(store, session_id)).encode(),
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})

    def write(fh: IO[bytes]) -> None:
        # Dictionary pages only for the text columns: trying them on millions of
        # distinct floats costs more than the whole write.
        pq.write_table(table, fh, compression="zstd", use_dictionary=["phase", "hand"])

    return [write_atomic(folder / SAMPLES_PARQUET, write)]


# ---------------------------------------------------------------------------- EDF+
#: EDF channels besides the force: label -> phase-row attribute (N, held during holds).
EDF_TARGET_CHANNELS: Final = (("Target", "target_n"), ("Band low", "band_low_n"),
                              ("Band high", "band_high_n"))


def edf_event_text(kind: str, detail: dict[str, Any]) -> str:
    """The annotation text of one event: its kind, then its phase or message."""
    extra = detail.get("phase") or detail.get("message")
    return f"{kind}: {extra}" if extra else kind


def _hold_levels(store: Store, session_id: int, t0: float,
                 grid: F64) -> list[F64]:
    """Target and band edges (N) at each grid time: the hold's values, 0 elsewhere."""
    phases = store.load_phases(session_id)
    idx = phase_index(phases, grid + t0)
    out = []
    for _, attr in EDF_TARGET_CHANNELS:
        per_row = np.array([float(getattr(p, attr)) if p.phase == "hold"
                            and getattr(p, attr) is not None else 0.0 for p in phases]
                           + [0.0])
        out.append(per_row[np.where(idx < 0, len(phases), idx)])
    return out


#: Percentiles (and margin, as a multiple of the span between them) bounding the
#: plausible force when the device's range is not known.
EDF_ROBUST_PERCENTILES: Final = (0.1, 99.9)
EDF_ROBUST_MARGIN: Final = 1.0


def _plausible_force_range(device_info: dict[str, Any] | None,
                           force: F64) -> tuple[float, float]:
    """Where real forces of this session can lie, N (``force`` finite, not empty).

    The device's physical range when the session says which device it was (the range
    its codec accepts); otherwise the 0.1st to 99.9th percentile widened by their span
    on each side. Those percentiles are taken as sample values (no interpolation), so
    one outlier never moves them, while an MVC peak above the 99.9th percentile stays
    inside the margin.
    """
    info = device_info or {}
    full = info.get("full_scale_n")
    limits = limits_for(info.get("kind"),
                        float(full) if isinstance(full, (int, float)) else None)
    if limits is not None and bool(limits.contains(force).any()):
        return limits.low_n, limits.high_n
    # The percentiles as sample values ("higher" for the low one, "lower" for the high
    # one), both from one partial sort: this runs on every sample of the session.
    last = force.size - 1
    k_lo = math.ceil(EDF_ROBUST_PERCENTILES[0] / 100 * last)
    k_hi = math.floor(EDF_ROBUST_PERCENTILES[1] / 100 * last)
    part = np.partition(force, [k_lo, k_hi])
    lo, hi = float(part[k_lo]), float(part[k_hi])
    margin = EDF_ROBUST_MARGIN * max(hi - lo, 1.0)
    return lo - margin, hi + margin


def write_edf(store: Store, session_id: int, out_dir: Path | str) -> list[Path]:
    """Write ``session.edf``: force, target and band edges (N) and whole annotations.

    The signals are resampled onto the device's nominal rate; see
    ``docs/data-formats.md`` for the channels and annotations.
    """
    info = store.get_session_info(session_id)
    folder = output_folder(out_dir)
    t, _, force = store.load_samples(session_id)
    ok = np.isfinite(t) & np.isfinite(force)
    t, force = t[ok] - info.t0_s, force[ok]
    rate = (info.device_info or {}).get("nominal_rate_hz") or DEFAULT_EDF_RATE_HZ
    fs = max(1, round(float(rate)))
    t_start = min(0.0, float(t[0])) if len(t) else 0.0
    t_end = float(t[-1]) if len(t) else 1.0
    covered = math.floor((t_end - t_start) * fs) + 1
    n = max(1, math.ceil(covered / fs)) * fs  # whole 1-s data records
    grid = t_start + np.arange(n) / fs
    levels = _hold_levels(store, session_id, info.t0_s, grid)
    # One physical range for every channel: a viewer draws force and target to scale.
    # It spans the plausible force only: with 16 bits per sample, one glitch of 1e6 kg
    # would otherwise leave about 150 N per step for the real force.
    lo, hi = 0.0, max(0.0, *(float(v.max()) for v in levels))
    if len(t):
        p_lo, p_hi = _plausible_force_range(info.device_info, force)
        real = force[(force >= p_lo) & (force <= p_hi)]
        lo, hi = min(lo, float(real.min())), max(hi, float(real.max()))
    pmin, pmax = edf_number(lo - 1.0, up=False), edf_number(hi + 1.0, up=True)
    # Implausible samples are clipped to the range before resampling, so they cannot
    # pull the interpolated neighbours out of it either (samples.csv keeps them as read).
    signal = np.interp(grid, t, np.clip(force, pmin, pmax)) if len(t) else np.zeros(n)
    signals = [EdfSignal("Force", "N", signal, pmin, pmax, info.device[:80], "none")]
    signals += [EdfSignal(label, "N", v, pmin, pmax, "isogrip protocol",
                          "0 outside holds") for (label, _), v in zip(EDF_TARGET_CHANNELS,
                                                                      levels, strict=True)]
    notes = [EdfAnnotation(max(0.0, float(ev["t_s"]) - t_start), None,
                           edf_event_text(ev["kind"], ev["detail"]))
             for ev in _events(store, session_id) if ev["t_s"] is not None]
    if len(t) > 1:
        dt = np.diff(t)
        gap_s = gap_threshold(float(np.median(dt)))  # the rule the hold metrics use
        notes += [EdfAnnotation(float(t[i] - t_start), float(dt[i]),
                                "signal gap (interpolated)")
                  for i in np.flatnonzero(dt > gap_s)]
    start = _dt.datetime.fromisoformat(info.started_at).astimezone()
    start = start.replace(tzinfo=None) + _dt.timedelta(seconds=t_start)
    path = folder / SESSION_EDF

    def write(fh: IO[bytes]) -> None:
        write_edf_plus(fh, signals, fs, start, notes, patient_code=info.participant or "X")

    return [write_atomic(path, write)]


# ---------------------------------------------------------------------------- JSON
def write_json(store: Store, session_id: int, out_dir: Path | str) -> list[Path]:
    """Write ``session.json``: summary, events and sample columns in one document."""
    folder = output_folder(out_dir)
    cols = sample_columns(store, session_id)
    doc = {
        "summary": session_summary(store, session_id),
        "events": _events(store, session_id),
        "samples": {k: _text_column(a) if isinstance(a, tuple) else
                    [None if not math.isfinite(v) else v for v in np.asarray(a).tolist()]
                    for k, a in cols.items()},
    }

    def write(fh: IO[bytes]) -> None:
        fh.write(_dumps(doc).encode("utf-8"))

    return [write_atomic(folder / SESSION_JSON, write)]


def export(store: Store, session_id: int, out_dir: Path | str, fmt: str = "csv") -> list[Path]:
    """Export a session in one of :data:`EXPORT_FORMATS`.

    Raises:
        ExportFormatError: Unknown format.
        SessionNotFoundError: No such session.
        StorageError: The folder cannot be written.
    """
    writers = {"csv": export_session, "parquet": write_parquet, "edf": write_edf,
               "json": write_json}
    try:
        writer = writers[fmt]
    except KeyError:
        raise ExportFormatError(f"unknown export format {fmt!r}; use one of: "
                                f"{', '.join(EXPORT_FORMATS)}") from None
    return writer(store, session_id, out_dir)


# ---------------------------------------------------------------------------- cohort
def participant_table(store: Store, participant: str) -> pd.DataFrame:
    """One row per hold attempt across a participant's sessions (tidy, for pandas).

    Columns: session id/uuid/start/status/protocol/device, the programme it belongs to
    (``programme_id``, ``programme_week`` from 1, and ``programme_step``: the sentence of
    the intensity change it led to, if any), the session's MVC per hand
    (``mvc_left_n``, ``mvc_right_n``, and whether each was reused), the hold's rep,
    attempt, hand, times relative to the session start, target and band, completion,
    and every hold metric.

    Raises:
        SessionNotFoundError: The participant has no sessions.
        MissingExtraError: pandas is not installed (the ``research`` extra).
    """
    from isogrip.errors import SessionNotFoundError

    import_extra("pandas", "The participant table", RESEARCH)  # the one-line error
    import pandas as pd

    sessions = store.list_sessions(participant)
    if not sessions:
        raise SessionNotFoundError(f"no sessions of participant {participant!r}; list "
                                   "them with `isogrip sessions`")
    rows: list[dict[str, Any]] = []
    programme = store.programmes.session_columns(participant)
    for s in sessions:
        info = store.get_session_info(s.id)
        mvc = {m.hand: m for m in store.load_mvc(s.id)}
        base = {
            "participant": participant, "session_id": s.id, "session_uuid": s.uuid,
            "started_at": pd.Timestamp(s.started_at), "status": s.status,
            "protocol": s.protocol_name, "device": s.device,
            "target_pct_mvc": info.protocol.get("target_pct"),
            "display_scale": info.protocol.get("display_scale", 1.0),
            **programme(s.id, s.started_at),
        }
        for hand in ("left", "right"):
            m = mvc.get(hand)
            base[f"mvc_{hand}_n"] = None if m is None else m.mvc_n
            base[f"mvc_{hand}_reused"] = None if m is None else "reused" in m.flags
        holds = store.load_holds(s.id)
        if not holds:
            rows.append({**base, "rep": None})
            continue
        for h in holds:
            rows.append({
                **base, "rep": h.rep, "attempt": h.attempt, "hand": h.hand,
                "t_go_s": None if h.t_go_s is None else h.t_go_s - info.t0_s,
                "t_end_s": None if h.t_end_s is None else h.t_end_s - info.t0_s,
                "target_n": h.target_n, "band_low_n": h.band_low_n,
                "band_high_n": h.band_high_n, "hold_mvc_n": h.mvc_n,
                "completed": h.completed, **h.metrics,
            })
    df = pd.DataFrame(rows)
    for col in ("rep", "attempt"):
        if col in df:
            df[col] = df[col].astype("Int16")
    for col in ("status", "protocol", "device", "hand"):
        if col in df:
            df[col] = df[col].astype("category")
    return df


def export_participant(store: Store, participant: str, out_dir: Path | str,
                       fmt: str = "parquet") -> list[Path]:
    """Write ``participant-<ID>.parquet`` (or ``.csv``) with :func:`participant_table`.

    Raises:
        MissingExtraError: pandas (or, for Parquet, pyarrow) is not installed: the
            ``research`` extra.
    """
    if fmt not in ("parquet", "csv"):
        raise ExportFormatError("a participant table is written as parquet or csv, "
                                f"not {fmt!r}")
    if fmt == "parquet":  # before any work: pandas writes Parquet with pyarrow
        import_extra("pyarrow.parquet", "Parquet export", RESEARCH)
    df = participant_table(store, participant)
    folder = output_folder(out_dir)
    path = folder / f"participant-{participant}.{fmt}"

    def write(fh: IO[bytes]) -> None:
        if fmt == "parquet":
            df.to_parquet(fh, index=False)
        else:
            fh.write(df.to_csv(index=False).encode("utf-8"))

    return [write_atomic(path, write)]
