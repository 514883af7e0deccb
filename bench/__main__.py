"""Benchmarks: ``make bench`` prints each figure (medians of repeated runs) and a JSON
summary at the end. These are measurements, not tests: nothing here fails on a slow
machine. See docs/performance.md for what each figure means and its target."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.live_filter import bench_live_filter
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command
from isogrip.protocols.loader import load_protocol
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.signal.ringbuffer import RingBuffer
from isogrip.signal.timebase import Timebase
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store
from isogrip.types import Hand

RESULTS: dict[str, Any] = {}


def rss_mb() -> float:
    """Resident set size of this process, MB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Pipeline:
    """The runtime's per-batch path: timebase, recorder, ring buffer, filter + engine."""

    def __init__(self, store: Store, protocol_name: str = "ihg-4x2-30-alternating",
                 reps: int | None = None, rate: float = 1000.0, hold_s: float = 90.0,
                 rest_s: float = 30.0, background: bool = False) -> None:
        protocol = load_protocol(protocol_name)
        if reps is not None:  # at most 20 holds (protocols.bounds): long runs, long holds
            protocol = replace(protocol, reps=reps, hold_s=hold_s, rest_s=rest_s)
        self.engine = Engine(protocol, sample_rate_hz=rate,
                             known_mvc={Hand.RIGHT: 400.0, Hand.LEFT: 380.0})
        self.timebase = Timebase(nominal_rate_hz=rate)
        sid = store.create_session(
            started_at=datetime.now(UTC),
            protocol_name=protocol.name, protocol={}, device="bench", participant=None,
            app_version="bench", t0_s=0.0, device_info={"nominal_rate_hz": rate})
        # background=True is the runtime's way: commits on the recorder's own thread.
        self.recorder = Recorder(store, sid, background=background)
        self.ring = RingBuffer(int(60 * rate))
        self.engine.command(Command.START, 0.0)

    def batch(self, host_rx: float, f: np.ndarray, dev_t: np.ndarray) -> None:
        t, tdev = self.timebase.map(host_rx, len(f), dev_t)
        self.recorder.add_samples(t, tdev, f)
        self.ring.append(t, f)
        self.engine.feed(t, f)


def make_stream(seconds: float, rate: float, per: int, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    n = int(seconds * rate) // per * per
    t = np.arange(n) / rate
    f = 120.0 + 3.0 * np.sin(2 * np.pi * 10 * t) + rng.normal(0, 1, n)
    return t.reshape(-1, per), f.reshape(-1, per)


def bench_throughput() -> None:
    for per in (10, 40):
        rates = []
        for rep in range(5):
            t, f = make_stream(300.0, 1000.0, per, seed=rep)
            with tempfile.TemporaryDirectory() as d:
                store = Store.open(Path(d))
                p = Pipeline(store)
                t0 = time.perf_counter()
                for i in range(t.shape[0]):
                    p.batch(float(t[i, -1]) + 0.005, f[i], t[i])
                    if i % 5 == 0:
                        p.engine.tick(float(t[i, -1]))
                p.recorder.flush()
                dt = time.perf_counter() - t0
                store.close()
            rates.append(t.size / dt)
        med = statistics.median(rates)
        print(f"throughput, {per} samples/notification: {med:,.0f} samples/s "
              f"(median of 5; target >= 500,000)")
        RESULTS[f"throughput_samples_per_s_batch{per}"] = round(med)


def bench_session() -> None:
    walls = []
    for rep in range(3):
        with tempfile.TemporaryDirectory() as d:
            rt = SessionRuntime(SessionConfig(device=f"sim:good?seed={rep}", speed=None,
                                              data_dir=Path(d)))
            r = rt.run()
            assert r.status == "complete", r
            walls.append(r.wall_s)
    med = statistics.median(walls)
    print(f"full default session at --speed max (80 Hz sim): {med:.2f} s wall "
          f"(median of 3; target < 2 s; {r.session_s / 60:.1f} min of session)")
    RESULTS["session_speed_max_wall_s"] = round(med, 3)
    RESULTS["session_speed_max_speedup"] = round(r.session_s / med)


def bench_memory() -> None:
    rate, per = 1000.0, 20
    seconds = 2 * 3600
    with tempfile.TemporaryDirectory() as d:
        store = Store.open(Path(d))
        p = Pipeline(store, reps=20, rate=rate, hold_s=270.0, rest_s=90.0)  # 2 h
        chunk = 60.0
        tb, fb = make_stream(chunk, rate, per)
        marks = {}
        t_start = time.perf_counter()
        for k in range(int(seconds / chunk)):
            off = k * chunk
            for i in range(tb.shape[0]):
                p.batch(off + float(tb[i, -1]) + 0.005, fb[i], off + tb[i])
            p.engine.tick(off + chunk)
            if k == 9:
                marks["10min"] = rss_mb()
        p.recorder.flush()
        marks["120min"] = rss_mb()
        wall = time.perf_counter() - t_start
        db_mb = sum(f.stat().st_size for f in Path(d).iterdir()) / 1e6
        store.close()
    growth = marks["120min"] - marks["10min"]
    print(f"2-hour 1 kHz stream: RSS {marks['10min']:.1f} MB at 10 min -> "
          f"{marks['120min']:.1f} MB at 120 min (growth {growth:+.1f} MB; target < 20 MB); "
          f"{seconds * rate / wall:,.0f} samples/s; database {db_mb:.0f} MB")
    RESULTS["memory_growth_2h_1khz_mb"] = round(growth, 1)
    RESULTS["db_size_2h_1khz_mb"] = round(db_mb)


def bench_long_session() -> None:
    """A simulated 2-hour session at 1 kHz through the whole stack, on the virtual clock."""
    import resource

    # 2 hours in the 20 holds a protocol may have at most (isogrip.protocols.bounds).
    protocol = replace(load_protocol("ihg-4x2-30-alternating"), reps=20, hold_s=240.0,
                       rest_s=120.0)
    with tempfile.TemporaryDirectory() as d:
        store = Store.open(Path(d))
        rt = SessionRuntime(SessionConfig(device="sim:good?seed=1&rate=1000&per_packet=20",
                                          protocol=protocol, speed=None,
                                          known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}),
                            store)
        marks: list[tuple[float, float]] = []
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        rt.start()
        while not rt.done:
            time.sleep(0.5)
            marks.append((rt.snapshot().t, rss_mb()))
        result = rt.wait()
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        db_mb = sum(f.stat().st_size for f in Path(d).iterdir()) / 1e6
        store.close()
    session_s = result.session_s
    early = [m for t, m in marks if t - marks[0][0] >= 600] or [marks[-1][1]]
    growth = marks[-1][1] - early[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"2-hour session at 1 kHz (whole stack, virtual clock): {session_s / 3600:.2f} h "
          f"of session in {wall:.1f} s wall; {result.samples:,} samples; CPU "
          f"{cpu / result.samples * 1e6:.2f} us/sample; RSS growth after 10 min "
          f"{growth:+.1f} MB (peak {peak:.0f} MB); database {db_mb:.0f} MB")
    RESULTS["long_session_2h_1khz"] = {
        "session_h": round(session_s / 3600, 2), "wall_s": round(wall, 1),
        "samples": result.samples, "cpu_us_per_sample": round(cpu / result.samples * 1e6, 2),
        "rss_growth_mb": round(growth, 1), "db_mb": round(db_mb),
    }


def bench_exports() -> None:
    """Export time of a one-hour 1 kHz session (3.6 M samples) in each format."""
    from isogrip.storage.export import export_session
    from isogrip.storage.export_formats import write_edf, write_parquet

    rate = 1000.0
    with tempfile.TemporaryDirectory() as d:
        store = Store.open(Path(d) / "data")
        p = Pipeline(store, reps=20, rate=rate, hold_s=135.0, rest_s=45.0)  # 1 h
        tb, fb = make_stream(60.0, rate, 40)
        for k in range(60):
            off = k * 60.0
            for i in range(tb.shape[0]):
                p.batch(off + float(tb[i, -1]) + 0.005, fb[i], off + tb[i])
            p.engine.tick(off + 60.0)
        p.recorder.close("complete", None)
        sid = p.recorder.session_id
        n = store.count_samples(sid)
        out: dict[str, float] = {}
        for name, fn, runs in (("csv", export_session, 3), ("parquet", write_parquet, 3),
                               ("edf", write_edf, 3)):
            times = []
            for r in range(runs):
                t0 = time.perf_counter()
                fn(store, sid, Path(d) / f"{name}{r}")
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times)
        store.close()
    print(f"export of a 1-hour 1 kHz session ({n:,} samples), median of 3: "
          f"CSV {out['csv']:.2f} s (target < 5 s), Parquet {out['parquet']:.2f} s "
          f"(target < 1 s), EDF+ {out['edf']:.2f} s")
    RESULTS["export_1h_1khz_s"] = {k: round(v, 3) for k, v in out.items()}


def bench_ble_latency() -> None:
    """Host-side latency: notification reaching the driver -> sample in the ring buffer."""
    import asyncio
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from virtual_ble import ProgressorPeripheral, VirtualBleWorld

    from isogrip.ble_device.gatt import GattDevice
    from isogrip.ble_device.profiles import PROGRESSOR

    class Stamped(GattDevice):
        def _notification(self, char: Any, data: bytearray) -> None:
            self.entered = time.perf_counter()
            super()._notification(char, data)

    async def run(rate: float, per: int, seconds: float, background: bool) -> list[float]:
        lat: list[float] = []
        async with VirtualBleWorld() as world:
            await world.add(ProgressorPeripheral(rate_hz=rate, per_notification=per,
                                                 force_kg=lambda t: 20.0))
            with tempfile.TemporaryDirectory() as d:
                store = Store.open(Path(d))
                pipe = Pipeline(store, rate=rate, background=background)
                dev = Stamped(PROGRESSOR, backend=world.client_backend,
                              scanner_backend=world.scanner_backend, scan_timeout_s=3)

                def on_samples(batch: Any) -> None:
                    dev_t = batch.device_t_s
                    pipe.batch(batch.host_rx_s, batch.force_n, dev_t)
                    lat.append(time.perf_counter() - dev.entered)

                dev.set_handlers(on_samples)
                await dev.connect()
                await dev.start()
                await asyncio.sleep(seconds)
                await dev.disconnect()
                pipe.recorder.close("complete")
                store.close()
        return lat

    # Both ways in one run: the commit (an fsync, synchronous=FULL) on the device's
    # loop as before, and on the recorder's writer thread as the runtime does it now.
    for rate, per in ((80.0, 2), (1000.0, 10)):
        for background, key in ((False, "_commit_on_loop"), (True, "")):
            lat = np.array(asyncio.run(run(rate, per, 3.0, background))) * 1000
            p50, p99, top = np.percentile(lat, [50, 99, 100])
            where = "writer thread" if background else "commit on the loop (before)"
            print(f"BLE notification -> ring buffer at {rate:g} Hz ({per}/notification, "
                  f"virtual BLE, {where}): p50 {p50:.3f} ms, p99 {p99:.3f} ms, max "
                  f"{top:.3f} ms over {len(lat)} notifications (target p99 < 2 ms)")
            RESULTS[f"ble_latency_ms_{int(rate)}hz{key}"] = {
                "p50": round(p50, 3), "p99": round(p99, 3), "max": round(top, 3)}


def bench_codecs() -> None:
    """Decode throughput per codec over its capture file (samples/s, median of 5)."""
    from isogrip.ble_device import cts500, entralpi, forceboard, progressor, weightscale, whc06
    from isogrip.ble_device.capture import read_capture

    captures = Path(__file__).resolve().parents[1] / "fixtures" / "captures"

    def count(result: Any) -> int:
        if hasattr(result, "force_n"):
            return len(result.force_n)
        return sum(len(r.force_n) for r in result if hasattr(r, "force_n"))

    decoders: dict[str, Any] = {
        "progressor": progressor.decode,
        "forceboard": forceboard.decode,
        "entralpi": entralpi.decode,
        "weightscale": weightscale.decode,
        "whc06": whc06.decode,
        "cts500": None,  # a stateful frame assembler
    }
    RESULTS["decode_samples_per_s"] = {}
    for name, fn in decoders.items():
        items = [data for _t, data in read_capture(captures / f"{name}.hex")] * 20
        rates = []
        for _ in range(5):
            decode = cts500.FrameAssembler().feed if fn is None else fn
            t0 = time.perf_counter()
            n = sum(count(decode(d)) for d in items)
            rates.append(n / (time.perf_counter() - t0))
        med = statistics.median(rates)
        print(f"decode {name}: {med:,.0f} samples/s ({len(items)} notifications)")
        RESULTS["decode_samples_per_s"][name] = round(med)


def main() -> None:
    print("isogrip benchmarks (figures are medians; this machine is shared and noisy)")
    bench_codecs()
    bench_live_filter(RESULTS)
    bench_throughput()
    bench_session()
    bench_memory()
    bench_ble_latency()
    bench_exports()
    bench_long_session()
    from bench.sham import bench_sham

    bench_sham(RESULTS)
    from bench.cold_start import bench_cold_start  # new processes: --version, the app

    bench_cold_start(RESULTS)
    from bench.gui import bench_gui  # Qt is loaded last: it must not slow the others

    bench_gui(RESULTS)
    print(json.dumps(RESULTS, indent=2))


if __name__ == "__main__":
    main()
