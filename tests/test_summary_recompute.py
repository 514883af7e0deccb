"""A session's summary can be recomputed from its own export.

Whole simulated sessions (virtual clock) with 0, 60 and 300 ms of delivery latency are
exported; every metric of every hold and every MVC trial in summary.json is then
recomputed from samples.csv alone (the samples stamped in [start, end) of each effort,
through the project's metric functions) and must match. With latency, samples stamped
before the end of an effort arrive after the tick that ended it: they must still count.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.signal.metrics import HoldMetrics, hold_metrics
from isogrip.signal.mvc import score_trial
from isogrip.storage.export import export_session
from isogrip.storage.store import Store

#: samples.csv keeps 6 decimals of time and 4 of force: the recomputation is exact to
#: that rounding, far below any figure shown.
REL, ABS = 1e-6, 2e-3
#: Half the force resolution of samples.csv, N: a sample this close to a band edge may
#: have been on either side of it before rounding.
HALF_LSB_N = 0.5e-4

SESSIONS = {
    "no-latency": "sim:good?seed=5&jitter_ms=0",
    "60ms": "sim:good?seed=5&jitter_ms=60",
    "300ms": "sim:good?seed=5&jitter_ms=300",
    # A 12 s link drop in hold 1: it is recorded incomplete, with its gap, and repeated.
    "drop-300ms": "sim:fatigue?seed=2&jitter_ms=300&disconnect_at=250&disconnect_s=12",
}


def _export(device: str, tmp: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    store = Store.open(tmp / "data")
    try:
        result = SessionRuntime(SessionConfig(device=device, speed=None,
                                              resume_after_reconnect=True), store).run()
        export_session(store, result.session_id, tmp / "out")
    finally:
        store.close()
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    with (tmp / "out" / "samples.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["t_s"]) for r in rows])
    f = np.array([float(r["force_n"]) for r in rows])
    return summary, t, f


@pytest.fixture(scope="module", params=list(SESSIONS), ids=list(SESSIONS))
def exported(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    return _export(SESSIONS[request.param], tmp_path_factory.mktemp(request.param))


def _inside(t: np.ndarray, f: np.ndarray, start: float, end: float
            ) -> tuple[np.ndarray, np.ndarray]:
    keep = (t >= start) & (t < end)
    return t[keep], f[keep]


def _resolutions(f: np.ndarray, h: dict[str, Any]) -> list[np.ndarray]:
    """The forces with each sample that rounding left on a band edge put on either side."""
    edges = (h["band_low_n"], h["band_high_n"])
    near = [(i, e) for e in edges for i in np.flatnonzero(np.abs(f - e) <= HALF_LSB_N)]
    assert len(near) <= 4, near  # a handful at most, or something else is wrong
    out = []
    for inside in itertools.product((False, True), repeat=len(near)):
        g = f.copy()
        for (i, edge), into in zip(near, inside, strict=True):
            toward = 1.0 if edge == edges[0] else -1.0  # the direction into the band
            g[i] = edge + (toward if into else -toward) * HALF_LSB_N / 10
        out.append(g)
    return out


def _same(a: float | None, b: float | None) -> bool:
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def test_every_hold_metric_recomputes_from_samples_csv(
        exported: tuple[dict[str, Any], np.ndarray, np.ndarray]) -> None:
    summary, t, f = exported
    holds = summary["holds"]
    assert sum(h["completed"] for h in holds) == summary["protocol"]["reps"]
    ramp = summary["protocol"]["ramp_s"]
    names = [fl.name for fl in dataclasses.fields(HoldMetrics)]
    for h in holds:
        ht, hf = _inside(t, f, h["t_go_s"], h["t_end_s"])
        where = f"hold {h['rep']} attempt {h.get('attempt')}"
        assert h["n_samples"] == ht.size, where
        differences = []
        for g in _resolutions(hf, h):
            m = hold_metrics(ht, g, h["target_n"], h["band_low_n"], h["band_high_n"], ramp,
                             mvc_n=h["mvc_n"], start_s=h["t_go_s"],
                             end_s=h["t_end_s"]).as_dict()
            differences.append({k: (h[k], m[k]) for k in names if not _same(h[k], m[k])})
        assert not min(differences, key=len), \
            f"{where}: summary vs samples.csv {min(differences, key=len)}"


def test_every_mvc_trial_recomputes_from_samples_csv(
        exported: tuple[dict[str, Any], np.ndarray, np.ndarray]) -> None:
    summary, t, f = exported
    spec = summary["protocol"]["mvc"]
    assert set(summary["mvc"]) == {"left", "right"}
    for hand, mvc in summary["mvc"].items():
        assert mvc["trials"], hand
        for tr in mvc["trials"]:
            tt, ff = _inside(t, f, tr["t_start_s"], tr["t_end_s"])
            s = score_trial(tt, ff, window_s=spec["window_s"], floor_n=spec["floor_n"],
                            t_start=tr["t_start_s"])
            where = f"{hand} trial {tr['trial']}"
            for name in ("score_n", "raw_peak_n", "time_to_peak_s"):
                assert _same(tr[name], getattr(s, name)), (where, name, tr[name],
                                                           getattr(s, name))
            assert tr["plausible"] == s.plausible, where
        best = max(tr["score_n"] for tr in mvc["trials"] if tr["used"] and tr["plausible"])
        assert mvc["mvc_n"] == pytest.approx(best, rel=1e-12)


def test_recording_covers_the_end_of_the_last_hold(
        exported: tuple[dict[str, Any], np.ndarray, np.ndarray]) -> None:
    summary, t, _ = exported
    last_end = max(h["t_end_s"] for h in summary["holds"])
    assert t[-1] >= last_end
    assert summary["n_samples"] == t.size
