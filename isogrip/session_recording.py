"""Opening and closing a session's recording: its row, its recorder, its end.

Every write here runs off the device thread (:func:`asyncio.to_thread`): another
isogrip (an import, say) may hold the database's write lock, and the loop that owns
the device must never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from isogrip import __version__
from isogrip.ble_device.base import DeviceInfo
from isogrip.bp_check import BpCheck
from isogrip.clock import Clock
from isogrip.errors import StorageError
from isogrip.protocols.engine import Engine
from isogrip.protocols.loader import protocol_to_dict
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import BpChecked
from isogrip.session_config import SessionConfig
from isogrip.session_pipeline import SessionPipeline
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store
from isogrip.types import Hand

log = logging.getLogger(__name__)


async def open_recording(store: Store, config: SessionConfig, protocol: Protocol,
                         info: DeviceInfo, t0: float, clock: Clock) -> tuple[int, Recorder]:
    """Create the session's row and its recorder; the id and the recorder."""
    session_id = await asyncio.to_thread(
        store.create_session,
        started_at=config.started_at or datetime.now(UTC),
        protocol_name=protocol.name,
        protocol=protocol_to_dict(protocol),
        device=config.device,
        participant=config.participant,
        app_version=__version__,
        t0_s=t0,
        device_info={
            "kind": info.kind, "name": info.name, "address": info.address,
            "firmware": info.firmware, "nominal_rate_hz": info.nominal_rate_hz,
            "has_clock": info.has_clock, "full_scale_n": info.full_scale_n,
            **info.extra,
        },
    )
    # Written on the recorder's own thread, for the same reason.
    recorder = Recorder(store, session_id, background=True)
    for hand, mvc_n in (config.known_mvc or {}).items():
        # Carried over from an earlier session: recorded so this session's summary
        # shows the MVC it trained against, flagged so it is not counted as a new
        # measurement (history and "reuse within 7 days" skip it).
        recorder.reuse_mvc(Hand(hand), float(mvc_n))
    return session_id, recorder


def open_lsl(store: Store, config: SessionConfig, info: DeviceInfo, session_id: int,
             clock: Clock) -> Any:
    """The session's Lab Streaming Layer outlet, when it streams (else ``None``)."""
    if not config.lsl:
        return None
    from isogrip.lsl_outlet import LslOutlet  # optional dependency, loaded on demand

    return LslOutlet(store.get_session(session_id).uuid, info.nominal_rate_hz, clock.now,
                     participant=config.participant, device=config.device)


def bp_check_record(t: float, check: BpCheck) -> BpChecked:
    """The pre-session blood-pressure check as a record (a clinician needs to see it)."""
    r, lim = check.reading, check.limits
    return BpChecked(t=t, message=check.note() or f"Blood pressure before: {r}.",
                     sbp=r.sbp, dbp=r.dbp, pulse=r.pulse, sbp_limit=lim.sbp,
                     dbp_limit=lim.dbp, too_high=check.too_high,
                     trained_anyway=check.trained_anyway)


async def close_recording(pipeline: SessionPipeline, engine: Engine, recorder: Recorder,
                          status: str, reason: str) -> tuple[str, str]:
    """Give the last results and write the end; the status and reason as written."""
    if engine.results_pending:  # cut short: keep what was measured
        try:
            pipeline.emit(engine.settle())
        except Exception:
            log.exception("could not record the last results")
    try:
        # The end may wait its turn behind another process's write.
        await asyncio.shield(asyncio.to_thread(recorder.close, status, reason or None))
    except StorageError as exc:
        # The end could not be written (disk still full): the session stays "running"
        # on disk and is marked interrupted at the next start, with everything written
        # before the failure.
        log.error("could not record the end of the session: %s", exc)
        status = "interrupted"
        reason = (reason + "; " if reason else "") + \
            f"the end of the session could not be saved ({exc})"
    if pipeline.lsl is not None:
        pipeline.lsl.close()
    return status, reason
