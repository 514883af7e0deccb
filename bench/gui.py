"""Frame time and display latency of the Train view (off-screen Qt).

Run by ``make bench`` (see bench/__main__.py); figures are medians and percentiles.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from isogrip.protocols.events import Phase, Snapshot, Stage, Zone
from isogrip.signal.ringbuffer import RingBuffer
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

RATE_HZ = 1000.0
WINDOW_S = 30.0
FRAME_S = 1 / 60


def _snapshot(force_n: float) -> Snapshot:
    mvc = 32 * KGF_N
    return Snapshot(t=100.0, phase=Phase.HOLD, stage=Stage.HOLD, hand=Hand.LEFT, rep=2, reps=4,
                    target_n=0.30 * mvc, band_low_n=0.27 * mvc, band_high_n=0.33 * mvc,
                    near_low_n=0.25 * mvc, near_high_n=0.35 * mvc, target_pct=30.0, mvc_n=mvc,
                    phase_duration_s=120.0, time_left_s=61.0, force_n=force_n,
                    pct_mvc=100 * force_n / mvc, zone=Zone.IN_BAND, cue="Good")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_gui(results: dict[str, Any]) -> None:
    """Frame time of the Train view with 30 s of 1 kHz data, and sample-to-plot delay."""
    from PyQt6.QtWidgets import QApplication

    from isogrip.ui.theme import palette, stylesheet
    from isogrip.ui.train_screen import TrainScreen

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet(palette(False), False))
    screen = TrainScreen()
    screen.trace.set_window(WINDOW_S)
    screen.resize(1280, 760)
    screen.show()
    app.processEvents()

    ring = RingBuffer(int(WINDOW_S * RATE_HZ * 1.2))
    rng = np.random.default_rng(0)
    n0 = int(WINDOW_S * RATE_HZ)
    t0 = np.arange(n0) / RATE_HZ
    ring.append(t0, 94 + 3 * np.sin(t0) + rng.normal(0, 0.5, n0))
    per_frame = int(RATE_HZ * FRAME_S)

    # 1. Frame time: pull + setData + paint, with 1 kHz data arriving between frames.
    times: list[float] = []
    t_next = t0[-1]
    for i in range(900):
        tt = t_next + (np.arange(1, per_frame + 1) / RATE_HZ)
        t_next = tt[-1]
        ring.append(tt, 94 + 3 * np.sin(tt) + rng.normal(0, 0.5, per_frame))
        start = time.perf_counter()
        t, f = ring.latest(WINDOW_S)
        screen.update_frame(_snapshot(float(f[-1])), t, f)
        screen.repaint()  # synchronous paint into the off-screen backing store
        if i >= 60:  # first second: caches warming up
            times.append(time.perf_counter() - start)
    n_points = len(t)
    p50, p95 = _pct(times, 50) * 1e3, _pct(times, 95) * 1e3
    print(f"train view frame (30 s of 1 kHz = {len(t):,} points): p50 {p50:.2f} ms, "
          f"p95 {p95:.2f} ms (target p95 < 8 ms)")

    # 2. Delay from ring-buffer append (producer thread, 1 kHz in 10-sample batches, as a
    # BLE notification thread would) to the sample being in the plotted arrays.
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            now = time.perf_counter()
            tt = now + np.zeros(10)  # a sample's time = when it entered the buffer
            ring.append(tt, np.full(10, 94.0))
            time.sleep(0.01)

    ring.clear()
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    delays: list[float] = []
    last_plotted = time.perf_counter()
    frame_times: list[float] = []
    deadline = time.perf_counter() + 5.0
    while time.perf_counter() < deadline:
        frame_start = time.perf_counter()
        t, f = ring.latest(WINDOW_S)
        screen.update_frame(_snapshot(94.0), t, f)
        screen.repaint()
        done = time.perf_counter()
        x = screen.trace.curve.xData
        newest = float(t[-1]) if len(t) else last_plotted
        assert x is not None and len(x) and abs(x[-1]) < 1e-9  # newest sample is plotted
        fresh = t[t > last_plotted]
        delays.extend((done - fresh).tolist())
        last_plotted = newest
        frame_times.append(done - frame_start)
        spare = FRAME_S - (time.perf_counter() - frame_start)
        if spare > 0:
            time.sleep(spare)
    stop.set()
    producer.join()
    d50, d95, dmax = (_pct(delays, 50) * 1e3, _pct(delays, 95) * 1e3, max(delays) * 1e3)
    print(f"sample -> plotted delay at 60 Hz: p50 {d50:.1f} ms, p95 {d95:.1f} ms, max "
          f"{dmax:.1f} ms (one frame = {FRAME_S * 1e3:.1f} ms; target: within one frame)")
    results["gui"] = {
        "train_frame_ms_p50": round(p50, 3), "train_frame_ms_p95": round(p95, 3),
        "points_per_frame": n_points,
        "sample_to_plot_ms_p50": round(d50, 2), "sample_to_plot_ms_p95": round(d95, 2),
        "sample_to_plot_ms_max": round(dmax, 2), "frame_interval_ms": round(FRAME_S * 1e3, 2),
        "within_one_frame_p95": bool(d95 <= FRAME_S * 1e3 + statistics.median(frame_times) * 1e3),
    }
