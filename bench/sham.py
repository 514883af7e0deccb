"""Blinding figures: what a participant sees in a sham protocol against the active arm.

The protocol engine runs with the virtual participant (isogrip.ble_device.participant)
packet by packet, as the simulated device does (80 Hz, 4 samples a notification), on
the virtual clock. For every hold it takes the force as the participant was shown it
(the display mapping applied to the recorded samples, which is what the trace shows)
and reports time in the shown green band, the CV of the shown trace, how long the
shown ramp took to reach the band, and the "above 35 %" warnings and "out of band"
cues the participant got. ``make bench`` prints them; tests/test_sham_blinding.py
checks that the shams stay within a tolerance of the active arm.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from isogrip.ble_device.participant import make_participant
from isogrip.protocols.display import IDENTITY, display_map, shown_band, shown_hold_metrics
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, EventKind, Snapshot
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import SessionWarning

ACTIVE = "ihg-4x2-30-alternating"
SHAMS = ("ihg-4x2-5-sham", "ihg-4x2-10-sham")
RATE_HZ = 80.0
PER_PACKET = 4


@dataclass(frozen=True)
class ArmFigures:
    """What the participants of one arm saw, over every hold of every seed.

    Attributes:
        protocol: Protocol name.
        variant: ``"new"`` (the display mapping) or ``"old"`` (force x scale, the
            participant tracking the true force).
        holds: Number of holds measured.
        time_in_band_pct: Median time in the shown green band, %.
        time_in_band_range: (min, max) over the holds, %.
        cv_pct: Median CV of the shown trace (steady part), %.
        cv_range: (min, max) over the holds, %.
        ramp_s: Median time from "go" to the shown force first reaching the band, s.
        warnings: "Above the warning level" warnings, in all holds.
        out_of_band_cues: "Too light"/"Too hard" cues per hold (mean).
    """

    protocol: str
    variant: str
    holds: int
    time_in_band_pct: float
    time_in_band_range: tuple[float, float]
    cv_pct: float
    cv_range: tuple[float, float]
    ramp_s: float
    warnings: int
    out_of_band_cues: float


def _session(protocol: Protocol, seed: int, preset: str, *, old: bool) -> dict[str, Any]:
    """One session with known MVC (the holds only); per-hold shown figures."""
    participant = make_participant(preset, seed)
    prof = participant.profile
    mvc = {h: prof.mvc(h) for h in protocol.mvc_hands()}
    engine = Engine(protocol, sample_rate_hz=RATE_HZ, known_mvc=mvc)
    engine.command(Command.START, 0.0)
    period = 1.0 / RATE_HZ
    k = 0
    samples_t: list[np.ndarray] = []
    samples_f: list[np.ndarray] = []
    events = []
    while not engine.finished:
        t = (k + np.arange(PER_PACKET)) / RATE_HZ + period
        k += PER_PACKET
        snap: Snapshot = engine.snapshot()
        # The old display multiplied everything by the scale and the participant
        # effectively tracked the true force: it saw the unmapped snapshot.
        participant.observe(float(t[-1]), replace(snap, display=IDENTITY) if old else snap)
        f = participant.forces(t)
        samples_t.append(t)
        samples_f.append(f)
        events += engine.feed(t, f)
        events += engine.tick(float(t[-1]))
    tt, ff = np.concatenate(samples_t), np.concatenate(samples_f)
    out = []
    for res in engine.hold_results:
        if not res.completed:
            continue
        go, end, hand_mvc = res.t_go_s, res.t_end_s, res.mvc_n
        sel = (tt >= go) & (tt < end)
        m = shown_hold_metrics(protocol, tt[sel], ff[sel], mvc_n=hand_mvc, start_s=go,
                               end_s=end)
        shown = display_map(protocol, hand_mvc).show(ff[sel])
        band = shown_band(protocol, hand_mvc)
        inside = np.flatnonzero((shown >= band.low_n) & (shown <= band.high_n))
        ramp = float(tt[sel][inside[0]] - go) if inside.size else math.nan
        in_hold = [e for e in events if go <= e.t <= end]
        out.append({
            "tib": m.time_in_band_pct, "cv": m.cv_mean_pct, "ramp": ramp,
            "warn": sum(1 for e in in_hold if isinstance(e, SessionWarning)
                        and e.reason == "above_warn_level"),
            "oob": sum(1 for e in in_hold if e.kind is EventKind.OUT_OF_BAND),
        })
    return {"holds": out}


def arm_figures(name: str, seeds: range | list[int], *, preset: str = "good",
                old: bool = False, reps: int | None = None,
                hold_s: float | None = None) -> ArmFigures:
    """Run one arm on the virtual participant and summarise what it was shown.

    Args:
        name: Built-in protocol name.
        seeds: Participant seeds (one session each).
        preset: Virtual participant preset.
        old: Measure the old display (force x ``display_scale``, a straight line).
        reps: Holds per session (default: the protocol's).
        hold_s: Hold length, s (default: the protocol's).
    """
    protocol = load_protocol(name)
    changes: dict[str, Any] = {"rest_s": 5.0, "countdown_s": 3.0, "prepare_s": 1.0}
    if reps is not None:
        changes["reps"] = reps
    if hold_s is not None:
        changes["hold_s"] = hold_s
    if old:
        changes["display_slope"] = protocol.display_scale  # the straight line x scale
    protocol = dataclasses.replace(protocol, **changes)
    holds = [h for s in seeds for h in _session(protocol, s, preset, old=old)["holds"]]
    tib = [h["tib"] for h in holds]
    cv = [h["cv"] for h in holds]
    return ArmFigures(
        protocol=name, variant="old" if old else "new", holds=len(holds),
        time_in_band_pct=statistics.median(tib), time_in_band_range=(min(tib), max(tib)),
        cv_pct=statistics.median(cv), cv_range=(min(cv), max(cv)),
        ramp_s=statistics.median(h["ramp"] for h in holds),
        warnings=sum(h["warn"] for h in holds),
        out_of_band_cues=statistics.mean(h["oob"] for h in holds),
    )


def bench_sham(results: dict[str, Any], seeds: int = 8) -> None:
    """Print the shown statistics of both shams (old and new display) and the active arm."""
    rows = [arm_figures(ACTIVE, range(seeds))]
    for name in SHAMS:
        rows.append(arm_figures(name, range(seeds), old=True))
        rows.append(arm_figures(name, range(seeds)))
    results["sham_blinding"] = {}
    for r in rows:
        print(f"shown to the participant, {r.protocol} ({r.variant} display, {r.holds} holds "
              f"of 'good', {seeds} seeds): time in band {r.time_in_band_pct:.0f} % "
              f"({r.time_in_band_range[0]:.0f}-{r.time_in_band_range[1]:.0f}), CV "
              f"{r.cv_pct:.1f} % ({r.cv_range[0]:.1f}-{r.cv_range[1]:.1f}), ramp to band "
              f"{r.ramp_s:.2f} s, warnings {r.warnings}, out-of-band cues "
              f"{r.out_of_band_cues:.1f}/hold")
        results["sham_blinding"][f"{r.protocol}:{r.variant}"] = {
            "time_in_band_pct": round(r.time_in_band_pct, 1), "cv_pct": round(r.cv_pct, 2),
            "ramp_s": round(r.ramp_s, 3), "warnings": r.warnings,
            "out_of_band_per_hold": round(r.out_of_band_cues, 2),
        }


if __name__ == "__main__":
    bench_sham({})
