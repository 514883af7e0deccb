"""Read a session export (``samples.csv``, ``events.csv``, ``summary.json``) into a store.

``isogrip import DIR`` is the inverse of ``isogrip export``: the session keeps its uuid
(and its id when that id is free), its times stay relative to its start (``t0_s = 0``),
phases are rebuilt from the ``phase`` events, and the MVC, trials and holds come from
the summary. Exporting the imported session gives the same three files byte for byte.

Nothing is written unless the whole export is valid: every file and field is checked
first (:func:`isogrip.storage.import_check.check_export`; the limits are in
``docs/data-formats.md``, "Import"), then everything is written in one transaction.
A problem is reported as :class:`ImportFileError`, one line naming the file, line and
field at fault.
"""

from __future__ import annotations

import math
from pathlib import Path

from isogrip.storage.import_check import ValidatedExport, check_export
from isogrip.storage.import_fields import ImportFileError
from isogrip.storage.store import Store

__all__ = ["ImportFileError", "import_session"]

#: Samples per stored chunk.
_CHUNK = 65_536


def import_session(store: Store, folder: Path | str) -> int:
    """Import one exported session.

    Args:
        store: The store to add it to.
        folder: The folder holding ``samples.csv``, ``events.csv`` and ``summary.json``.

    Returns:
        The session's id in ``store``.

    Raises:
        ImportFileError: A file is missing, not a regular file, too large, or malformed
            (nothing was written).
        StorageError: The session is already in the store, or it cannot be written.
    """
    export = check_export(folder)
    with store.transaction():
        sid = _write_session(store, export)
        _write_events(store, sid, export)
        _write_results(store, sid, export)
        _write_samples(store, sid, export)
    return sid


def _write_session(store: Store, export: ValidatedExport) -> int:
    h = export.header
    return store.insert_session_record(
        uuid=h.uuid, started_at=h.started_at, ended_at=h.ended_at, status=h.status,
        note=h.note, protocol_name=h.protocol_name, protocol=h.protocol, device=h.device,
        device_info=h.device_info, participant=h.participant, app_version=h.app_version,
        t0_s=0.0, preferred_id=h.session_id)


def _write_events(store: Store, sid: int, export: ValidatedExport) -> None:
    for ev in export.events:
        store.write_event(sid, ev.seq, _nan(ev.t_s), ev.kind, ev.detail)
    for p in export.phases:
        store.write_phase(sid, p.seq, _nan(p.t_s), p.phase, hand=p.hand, rep=p.rep,
                          trial=p.trial, target_n=p.target_n, band_low_n=p.band_low_n,
                          band_high_n=p.band_high_n, mvc_n=p.mvc_n)


def _nan(t: float | None) -> float:
    """A missing time as the store takes it (NaN is stored as NULL)."""
    return math.nan if t is None else t


def _write_results(store: Store, sid: int, export: ValidatedExport) -> None:
    for tr in export.trials:
        store.write_mvc_trial(sid, tr.hand, tr.trial, tr.t_start_s, tr.t_end_s, tr.score_n,
                              tr.raw_peak_n, tr.time_to_peak_s, tr.plausible, tr.message,
                              tr.used)
    for m in export.mvc:
        store.write_mvc(sid, m.hand, m.mvc_n, m.best_trial, m.flags)
    for h in export.holds:
        store.write_hold(sid, h.rep, h.attempt, h.hand, h.t_go_s, h.t_end_s, h.target_n,
                         h.band_low_n, h.band_high_n, h.mvc_n, h.completed, h.metrics)


def _write_samples(store: Store, sid: int, export: ValidatedExport) -> None:
    t, t_dev, force = export.t, export.t_device, export.force
    for chunk, start in enumerate(range(0, t.size, _CHUNK)):
        sl = slice(start, start + _CHUNK)
        store.write_samples(sid, chunk, t[sl], None if t_dev is None else t_dev[sl],
                            force[sl])
