"""The display ring is one object for the whole session (the GUI may hold it early)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isogrip.runtime import SessionConfig, SessionRuntime


def test_the_ring_a_reader_took_before_the_start_holds_the_sessions_samples(
        tmp_path: Path) -> None:
    rt = SessionRuntime(SessionConfig(device="sim?seed=4", speed=None, data_dir=tmp_path))
    ring = rt.ring  # as a display thread holds it from the first frame
    try:
        result = rt.run()
    finally:
        rt.close()
    assert rt.ring is ring
    t, f = ring.latest(5.0)
    assert result.samples > 0 and t.size > 0
    # The newest samples of the session, as recorded, ending at its end.
    assert t[-1] <= result.session_s + 1.0 and t[-1] > result.session_s - 10.0
    assert np.all(np.diff(t) >= 0) and np.all(np.isfinite(f))
    # Sized for the device's rate (80 Hz simulated: a minute and a fifth of it).
    assert ring.capacity == max(1000, int(60.0 * 80 * 1.2))
