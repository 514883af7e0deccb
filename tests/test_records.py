"""Session records: each reads back from its stored events row as the record it was."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from isogrip.protocols.events import Phase, Stage
from isogrip.protocols.record_detail import record_from_detail
from isogrip.protocols.records import (
    CUE_KINDS,
    BpChecked,
    CommandRejected,
    Cue,
    Event,
    GapEnded,
    GapStarted,
    HoldFinished,
    LinkBack,
    LinkLost,
    LinkStatus,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    Paused,
    PhaseChanged,
    Resumed,
    SessionStarted,
    SessionWarning,
)
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.signal.metrics import HoldMetrics
from isogrip.storage.jsonio import dumps
from isogrip.storage.session_records import event_detail
from isogrip.storage.store import Store
from isogrip.types import Hand

#: Finite, distinct metrics (NaN would not compare equal).
_VALUES: dict[str, Any] = {f.name: (1200 + i if f.type in (int, "int") else 0.5 + i)
                           for i, f in enumerate(dataclasses.fields(HoldMetrics))}
METRICS = HoldMetrics(**_VALUES)

#: One record of every class with every field set, and one with the defaults.
RECORDS: list[Event] = [
    PhaseChanged(t=5.0, message="Squeeze to the green band and hold.", phase=Phase.HOLD,
                 stage=Stage.HOLD, hand=Hand.LEFT, duration_s=120.0, rep=2, target_n=90.0,
                 band_low_n=81.0, band_high_n=99.0, mvc_n=300.0, trial=1, reason="why"),
    PhaseChanged(t=0.0, phase=Phase.PREPARE),
    PhaseChanged(t=3.0, phase=Phase.COUNTDOWN, stage=Stage.HOLD, hand=Hand.RIGHT,
                 duration_s=3.0),  # a hold stage: the band fields are stored as null
    PhaseChanged(t=9.0, message="Stopped.", phase=Phase.ABORTED,
                 reason="stopped by the user"),
    *(Cue(t=1.5, message="Go!", cue=kind, count=3, stage=Stage.MVC, hand=Hand.RIGHT,
          rep=1, side="low") for kind in sorted(CUE_KINDS)),
    *(Cue(t=2.0, cue=kind) for kind in sorted(CUE_KINDS)),
    MvcTrialScored(t=13.0, hand=Hand.RIGHT, trial=2, t_start_s=8.0, t_end_s=13.0,
                   score_n=310.5, raw_peak_n=320.25, time_to_peak_s=1.25, plausible=False,
                   score_message="too short", flags=("disagreement", "single_trial"),
                   extra_trial=True, advice="One more.", saturated=True),
    MvcTrialScored(t=13.0, hand=Hand.LEFT, trial=1, t_start_s=8.0, t_end_s=13.0,
                   score_n=300.0, raw_peak_n=301.0, time_to_peak_s=0.75, plausible=True),
    MvcTrialRedone(t=14.0, message="Squeeze 1 will be repeated.", hand=Hand.LEFT, trial=1,
                   repeat_as=4),
    MvcChosen(t=15.0, message="Right: 31.6 kg.", hand=Hand.RIGHT, mvc_n=310.5, best_trial=2,
              flags=("disagreement",), advice="Well done."),
    MvcChosen(t=15.0, hand=Hand.LEFT, mvc_n=300.0, best_trial=1),
    HoldFinished(t=128.0, message="Hold 1 done.", rep=1, hand=Hand.RIGHT, t_go_s=8.0,
                 t_end_s=128.0, target_n=93.15, band_low_n=83.835, band_high_n=102.465,
                 mvc_n=310.5, completed=True, metrics=METRICS),
    SessionWarning(t=30.0, message="Too hard.", reason="above_warn_level",
                   warn_above_pct=35.0, full_scale_n=1961.33),
    SessionWarning(t=31.0, reason="saturated"),
    GapStarted(t=40.0, message="No force data.", since_s=39.5),
    GapEnded(t=45.0, message="Data again.", duration_s=5.5),
    Paused(t=50.0, message="Paused.", phase=Phase.MVC_REST),
    Resumed(t=60.0, message="Resumed.", phase=Phase.REST),
    CommandRejected(t=61.0, message="Nothing to redo.", command="redo_trial"),
    LinkLost(t=70.0, message="Gone.", reason="out of range", paused=True, connected=False),
    LinkLost(t=70.5),
    LinkBack(t=80.0, message="The device is back.", attempts=3, offline_s=9.75),
    LinkStatus(t=81.0, message="Damaged packets.", status="malformed",
               device_detail={"truncated": 2, "malformed": 5, "note": "x"}),
    LinkStatus(t=81.5, message="No readings.", status="no_data", silent_s=2.5),
    LinkStatus(t=82.0, message="Internal error.", status="processing_error", count=4),
    LinkStatus(t=83.0, status="low_battery"),
    SessionStarted(t=0.0, message="Device connected.", device="sim?seed=3", battery_pct=87.0),
    SessionStarted(t=0.0, device="sim"),
    BpChecked(t=0.0, message="Blood pressure before: 120/80.", sbp=120, dbp=80, pulse=64,
              sbp_limit=160, dbp_limit=100, too_high=False, trained_anyway=True),
    BpChecked(t=0.0, sbp=170, dbp=90, sbp_limit=160, dbp_limit=100, too_high=True,
              trained_anyway=False),
]


def _sort(value: object) -> type:
    """What a value must be read back as: enums exactly, numbers by kind (numpy too)."""
    if isinstance(value, enum.Enum):
        return type(value)
    if isinstance(value, bool | np.bool_):
        return bool
    if isinstance(value, int | np.integer):
        return int
    if isinstance(value, float | np.floating):
        return float
    return type(value)


def assert_same(back: object, want: object, where: str = "") -> None:
    """Field by field equal and of the same kind (an enum stays an enum), NaN as NaN."""
    assert type(back) is type(want), where
    assert dataclasses.is_dataclass(want)
    for f in dataclasses.fields(want):
        b, w, at = getattr(back, f.name), getattr(want, f.name), f"{where}.{f.name}"
        if dataclasses.is_dataclass(w):
            assert_same(b, w, at)
            continue
        assert _sort(b) is _sort(w), (at, b, w)
        if isinstance(w, float) and math.isnan(w):
            assert math.isnan(b), (at, b)
        else:
            assert b == w, (at, b, w)
    if hasattr(want, "kind"):
        assert back.kind is want.kind, where  # type: ignore[attr-defined]


def test_every_record_class_is_covered() -> None:
    assert {type(r) for r in RECORDS} == set(typing.get_args(Event))
    assert {r.kind for r in RECORDS if isinstance(r, Cue)} == CUE_KINDS
    assert all(not math.isnan(v) for v in METRICS.as_dict().values())


@pytest.mark.parametrize("record", [pytest.param(r, id=f"{type(r).__name__}-{r.kind}")
                                    for r in RECORDS])
def test_a_record_reads_back_from_its_detail(record: Event) -> None:
    detail = event_detail(record)
    assert_same(record_from_detail(record.kind.value, record.t, detail), record)
    # ... and from what the events table holds: the detail as JSON.
    stored = json.loads(dumps(detail))
    back = record_from_detail(record.kind.value, record.t, stored)
    assert_same(back, record)
    assert back == record


def test_a_drivers_count_stays_in_its_device_detail() -> None:
    # The "saturated" notice of a BLE driver reports {"count": n}: stored flat beside
    # the status, it cannot be told from LinkStatus.count (processing errors).
    record = LinkStatus(t=1.0, message="Top of its range.", status="saturated",
                        device_detail={"count": 3})
    assert record_from_detail("device_status", 1.0, event_detail(record)) == record


def test_a_hold_without_every_metric_is_refused_with_a_value_error() -> None:
    detail = event_detail(next(r for r in RECORDS if isinstance(r, HoldFinished)))
    detail["metrics"] = {"gap_s": 0.0}  # as a session recorded by an older version
    with pytest.raises(ValueError, match="metrics"):
        record_from_detail("hold_result", 1.0, detail)


def test_an_unknown_kind_reads_back_as_nothing() -> None:
    assert record_from_detail("no_such_kind", 1.0, {"message": "x"}) is None


def test_a_stored_session_reads_back_as_the_records_the_engine_emitted(
        tmp_path: Path) -> None:
    rt = SessionRuntime(SessionConfig(device="sim?seed=3", speed=None, data_dir=tmp_path))
    result = rt.run()
    assert result.status == "complete", result.reason
    assert len(result.holds) == 4
    with Store.open(tmp_path) as store:
        rows = store.load_events(result.session_id)
    back = []
    for row in rows:
        assert row.t_s is not None
        back.append(record_from_detail(row.kind, row.t_s, row.detail))
    assert all(r is not None for r in back)
    assert [r.kind.value for r in back if r is not None] == [row.kind for row in rows]
    holds = [r for r in back if isinstance(r, HoldFinished)]
    assert len(holds) == len(result.holds)
    for i, (got, want) in enumerate(zip(holds, result.holds, strict=True)):
        assert_same(got, want, f"hold {i + 1}")
        assert got.metrics.as_dict().keys() == want.metrics.as_dict().keys()


def test_a_link_status_keeps_each_figure_to_its_status() -> None:
    with pytest.raises(ValueError, match="'malformed' link status has no silent_s"):
        LinkStatus(t=1.0, status="malformed", silent_s=2.0)
    assert LinkStatus(t=1.0, status="processing_error", count=2).count == 2


def test_a_drivers_detail_cannot_shadow_the_status_or_its_figures() -> None:
    with pytest.raises(ValueError, match="cannot be called status"):
        LinkStatus(t=1.0, status="malformed", device_detail={"status": "x"})
    with pytest.raises(ValueError, match="cannot be called silent_s"):
        LinkStatus(t=1.0, status="no_data", silent_s=1.0, device_detail={"silent_s": 2.0})
