"""The live Lab Streaming Layer outlet, received with inlets on this machine."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pylsl

from isogrip.protocols.loader import load_protocol
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store
from isogrip.types import Hand


def test_force_and_marker_streams_reach_an_inlet(tmp_path: Path) -> None:
    protocol = replace(load_protocol("ihg-4x2-30-alternating"), reps=2, hold_s=12.0,
                       rest_s=4.0, prepare_s=4.0, rest_after_mvc_s=4.0)
    store = Store.open(tmp_path)
    rt = SessionRuntime(SessionConfig(device="sim:good?seed=2", protocol=protocol, speed=4.0,
                                      participant="P3", lsl=True,
                                      known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}),
                        store)
    rt.start()
    force_info = pylsl.resolve_byprop("name", "isogrip-force", timeout=10)
    marker_info = pylsl.resolve_byprop("name", "isogrip-markers", timeout=10)
    assert force_info and marker_info
    assert force_info[0].type() == "Force" and force_info[0].channel_count() == 1
    assert force_info[0].nominal_srate() == 80.0
    assert marker_info[0].type() == "Markers"
    force_in = pylsl.StreamInlet(force_info[0], max_buflen=60)
    marker_in = pylsl.StreamInlet(marker_info[0], max_buflen=60)
    force_in.open_stream(timeout=5)
    marker_in.open_stream(timeout=5)
    values: list[float] = []
    stamps: list[float] = []
    markers: list[dict[str, object]] = []
    while not rt.done:
        chunk, ts = force_in.pull_chunk(timeout=0.2)
        values += [c[0] for c in chunk]
        stamps += ts
        mchunk, _ = marker_in.pull_chunk(timeout=0.0)
        markers += [json.loads(m[0]) for m in mchunk]
    result = rt.wait(10)
    time.sleep(0.3)
    chunk, ts = force_in.pull_chunk(timeout=0.5)
    values += [c[0] for c in chunk]
    stamps += ts
    mchunk, _ = marker_in.pull_chunk(timeout=0.5)
    markers += [json.loads(m[0]) for m in mchunk]
    assert result.status == "complete"

    t, _, force = store.load_samples(result.session_id)
    assert len(values) > 0.5 * len(t)  # the inlet joined a little after the start
    # The received samples are the recorded ones (the newest part), as float32, and
    # their timestamps are the device-derived session times moved by one offset.
    tail = force[-len(values):].astype(np.float32)
    assert np.array_equal(np.asarray(values, np.float32), tail)
    offset = np.asarray(stamps) - t[-len(stamps):]
    assert np.ptp(offset) < 1e-6
    assert abs(np.median(np.diff(stamps)) - 1 / 80) < 1e-4  # the device's 80 Hz
    kinds = [m["kind"] for m in markers]
    assert "go" in kinds and "stop" in kinds and "hold_result" in kinds
    assert any(m.get("phase") == "hold" for m in markers)
    store.close()


def test_nothing_listens_without_lsl(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    before = _listening_ports()
    rt = SessionRuntime(SessionConfig(device="sim:good?seed=1", speed=None,
                                      known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}), store)
    rt.start()
    time.sleep(0.3)
    during = _listening_ports()
    rt.wait(30)
    store.close()
    assert during <= before


def _listening_ports() -> set[str]:
    """Local TCP/UDP ports in LISTEN (or bound UDP) state, from /proc/net."""
    ports: set[str] = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if name.startswith("tcp") and parts[3] != "0A":
                continue
            ports.add(f"{name}:{parts[1]}")
    return ports
