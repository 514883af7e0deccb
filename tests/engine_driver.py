"""Drive an Engine with synthetic force, the way a device and runtime would."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Phase, Snapshot, Stage
from isogrip.protocols.records import Event, PhaseChanged

ForceFn = Callable[[Snapshot, np.ndarray], np.ndarray]


def obedient(mvc_efforts: tuple[float, ...] = (300.0,)) -> ForceFn:
    """A perfect participant: trial k of a hand reaches ``mvc_efforts[k - 1]`` (the last
    value repeats), and holds are exactly on target."""

    def fn(s: Snapshot, t: np.ndarray) -> np.ndarray:
        if s.phase is Phase.MVC_EFFORT:
            level = mvc_efforts[min(s.trial - 1, len(mvc_efforts) - 1)]
            return np.full(t.shape, level)
        if s.phase is Phase.HOLD and s.target_n is not None:
            return np.full(t.shape, s.target_n)
        return np.zeros(t.shape)

    return fn


def drive(
    engine: Engine,
    until: float,
    force: ForceFn,
    *,
    start: float | None = None,
    fs: float = 100.0,
    per_batch: int = 4,
    silent: Callable[[float], bool] | None = None,
) -> list[Event]:
    """Feed samples at ``fs`` from the engine's time to ``until``; tick in between."""
    t = engine.snapshot().t if start is None else start
    out: list[Event] = []
    dt = 1.0 / fs
    while t < until and not engine.finished:
        ts = t + dt * np.arange(1, per_batch + 1)
        ts = ts[ts <= until + 1e-12]
        if ts.size == 0:
            break
        if silent is None or not silent(float(ts[0])):
            out += engine.feed(ts, force(engine.snapshot(), ts))
        out += engine.tick(float(ts[-1]))
        t = float(ts[-1])
    return out


def phases(events: list[Event]) -> list[tuple[float, str, str | None]]:
    """(t, phase, stage) of every phase change, t rounded to 1 ms."""
    return [
        (round(e.t, 3), e.phase.value, None if e.stage is None else e.stage.value)
        for e in events
        if isinstance(e, PhaseChanged)
    ]


__all__ = ["Stage", "drive", "obedient", "phases"]
