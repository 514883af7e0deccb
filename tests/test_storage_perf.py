"""Throughput check of the recorder and the CSV export (prints figures; no timing asserts)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from isogrip.storage.export import export_session
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store


def test_record_and_export_one_million_samples(tmp_path: Path) -> None:
    n, batch = 1_000_000, 1_000
    t = np.arange(n) / 1000.0
    td = t + 0.5
    force = np.random.default_rng(3).normal(100.0, 5.0, n)
    with Store.open(tmp_path / "data") as store:
        sid = store.create_session(
            started_at=dt.datetime.now(dt.UTC), protocol_name="perf", protocol={},
            device="sim", participant=None, app_version="test", t0_s=0.0,
        )
        store.write_phase(sid, 0, 0.0, "rest")
        store.write_phase(sid, 1, 500.0, "hold", hand="left", rep=1, target_n=100.0,
                          band_low_n=95.0, band_high_n=105.0, mvc_n=333.0)
        rec = Recorder(store, sid)
        start = time.perf_counter()
        for i in range(0, n, batch):
            rec.add_samples(t[i:i + batch], td[i:i + batch], force[i:i + batch])
        rec.close("complete")
        record_s = time.perf_counter() - start
        assert rec.samples_written == n
        start = time.perf_counter()
        paths = export_session(store, sid, tmp_path / "out")
        export_s = time.perf_counter() - start
        t2, _, f2 = store.load_samples(sid)
        np.testing.assert_array_equal(t2, t)
        np.testing.assert_array_equal(f2, force)
    print(f"\nrecorded {n} samples in {record_s:.3f} s ({n / record_s:,.0f} samples/s, "
          f"{rec.flushes} flushes); exported in {export_s:.2f} s "
          f"(samples.csv {paths[0].stat().st_size / 1e6:.1f} MB)")
