"""Audio cues: the tones, the event mapping, rate limiting, and never failing."""

from __future__ import annotations

import builtins
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from isogrip.protocols.events import EventKind, Phase
from isogrip.protocols.records import CUE_KINDS, Cue, Event, PhaseChanged
from isogrip.ui.audio import (
    CUES,
    RATE_HZ,
    CuePlayer,
    QtSink,
    SilentSink,
    default_sink,
    synthesize,
    write_wav,
)


class Recorder:
    available = True
    description = "test"

    def __init__(self) -> None:
        self.played: list[tuple[str, float]] = []

    def play(self, name: str, volume: float) -> None:
        self.played.append((name, volume))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def ev(kind: EventKind) -> Event:
    """A record of ``kind`` at t = 0: a cue, or (for ``PHASE``) a phase change."""
    if kind in CUE_KINDS:
        return Cue(t=0.0, cue=kind)
    assert kind is EventKind.PHASE, kind
    return PhaseChanged(t=0.0, phase=Phase.REST)


@pytest.mark.parametrize("name", sorted(CUES))
def test_tones_have_the_designed_shape(name: str) -> None:
    x = synthesize(name)
    notes = CUES[name]
    assert x.dtype == np.int16
    assert len(x) == sum(round(d * RATE_HZ) + round(g * RATE_HZ) for _, d, g in notes)
    peak = int(np.abs(x).max())
    assert 0.5 * 32767 < peak <= 0.61 * 32767  # loud enough, never clipping
    assert abs(int(x[0])) < 50 and abs(int(x[-1])) < 400  # faded in and out: no click
    freq0, dur0, _ = notes[0]
    first = x[: round(dur0 * RATE_HZ)].astype(float)
    spectrum = np.abs(np.fft.rfft(first * np.hanning(len(first)), n=RATE_HZ))
    assert abs(float(np.argmax(spectrum)) - freq0) <= 5
    assert all(400 <= f <= 1000 for f, _, _ in notes)  # audible to older listeners


def test_wav_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "go.wav"
    x = synthesize("go")
    write_wav(path, x)
    with wave.open(str(path)) as fh:
        assert (fh.getnchannels(), fh.getsampwidth(), fh.getframerate()) == (1, 2, RATE_HZ)
        back = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
    assert np.array_equal(back, x)


def test_events_map_to_cues_once_per_frame() -> None:
    sink = Recorder()
    p = CuePlayer(sink, volume=0.5)
    played = p.handle([ev(EventKind.COUNTDOWN), ev(EventKind.COUNTDOWN), ev(EventKind.GO),
                       ev(EventKind.PHASE), ev(EventKind.HALFWAY),
                       ev(EventKind.TEN_SECONDS_LEFT), ev(EventKind.STOP)])
    assert played == ["countdown", "go", "halfway", "ten_left", "stop"]
    assert sink.played[0] == ("countdown", 0.5)


def test_out_of_band_is_rate_limited() -> None:
    sink, clock = Recorder(), Clock()
    p = CuePlayer(sink, out_of_band_interval_s=8.0, clock=clock)
    assert p.handle([ev(EventKind.OUT_OF_BAND)]) == ["out_of_band"]
    clock.t = 7.9
    assert p.handle([ev(EventKind.OUT_OF_BAND)]) == []
    clock.t = 8.0
    assert p.handle([ev(EventKind.OUT_OF_BAND)]) == ["out_of_band"]
    assert p.handle([ev(EventKind.GO)]) == ["go"]  # other cues are not limited


def test_disabled_silent_and_volume_clamped() -> None:
    sink = Recorder()
    p = CuePlayer(sink, enabled=False)
    assert p.handle([ev(EventKind.GO)]) == []
    p.enabled = True
    p.volume = 0
    assert p.handle([ev(EventKind.GO)]) == []
    p.volume = 3.0
    assert p.volume == 1.0
    p.volume = float("nan")
    assert p.volume == 1.0
    p.test_sound()
    assert sink.played == [("go", 1.0)]


def test_a_failing_sink_turns_silent_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Recorder):
        def play(self, name: str, volume: float) -> None:
            raise RuntimeError("device unplugged")

    p = CuePlayer(Broken())
    assert p.handle([ev(EventKind.GO)]) == []
    assert p.handle([ev(EventKind.STOP)]) == []
    assert p.description == "no sound (audio failed)"
    assert sum("device unplugged" in r.getMessage() for r in caplog.records) == 1


def test_no_qt_multimedia_means_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith("PyQt6.QtMultimedia"):
            raise ImportError("libpulse.so.0: cannot open shared object file")
        return real_import(name, *args, **kw)

    monkeypatch.delitem(sys.modules, "PyQt6.QtMultimedia", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake)
    assert QtSink.create() is None
    sink = default_sink()
    assert isinstance(sink, SilentSink) and not sink.available
    sink.play("go", 1.0)  # does nothing, raises nothing
