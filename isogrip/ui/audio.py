"""Audio cues for training: synthesised tones, rate-limited, never fatal.

Tones stay between 440 and 900 Hz (older listeners lose high frequencies first) and
have 10 ms raised-cosine fades so they do not click. They are played with
QtMultimedia when it can be loaded and an output device exists; otherwise, or after
any audio failure, the app is silent and a session goes on untouched.
"""

from __future__ import annotations

import atexit
import io
import logging
import math
import shutil
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from isogrip.files import write_atomic_bytes
from isogrip.protocols.events import EventKind
from isogrip.protocols.records import Event

log = logging.getLogger(__name__)

RATE_HZ = 44_100
FADE_S = 0.010
#: Cue name -> notes as (frequency Hz, duration s, silence after s).
CUES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "countdown": ((600.0, 0.12, 0.0),),
    "go": ((880.0, 0.35, 0.0),),
    "halfway": ((660.0, 0.12, 0.08), (660.0, 0.12, 0.0)),
    "ten_left": ((660.0, 0.09, 0.06), (660.0, 0.09, 0.06), (660.0, 0.09, 0.0)),
    "stop": ((880.0, 0.25, 0.0), (523.0, 0.25, 0.0)),
    "out_of_band": ((440.0, 0.20, 0.0),),
}
_EVENT_CUES = {
    EventKind.COUNTDOWN: "countdown",
    EventKind.GO: "go",
    EventKind.HALFWAY: "halfway",
    EventKind.TEN_SECONDS_LEFT: "ten_left",
    EventKind.STOP: "stop",
    EventKind.OUT_OF_BAND: "out_of_band",
}


def synthesize(name: str) -> NDArray[np.int16]:
    """The samples of a cue (16-bit mono at :data:`RATE_HZ`).

    Raises:
        KeyError: Unknown cue name.
    """
    parts: list[NDArray[np.float64]] = []
    for freq, dur, gap in CUES[name]:
        n = round(dur * RATE_HZ)
        t = np.arange(n) / RATE_HZ
        tone = np.sin(2 * math.pi * freq * t)
        nf = min(int(FADE_S * RATE_HZ), n // 2)
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, math.pi, nf))
        tone[:nf] *= ramp
        tone[n - nf:] *= ramp[::-1]
        parts.append(tone)
        parts.append(np.zeros(round(gap * RATE_HZ)))
    return (np.concatenate(parts) * 0.6 * 32767).astype(np.int16)


def wav_bytes(samples: NDArray[np.int16]) -> bytes:
    """Mono 16-bit samples at :data:`RATE_HZ` as the bytes of a WAV file."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(RATE_HZ)
        fh.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


def write_wav(path: Path, samples: NDArray[np.int16]) -> None:
    """Write mono 16-bit samples as a WAV file, atomically with mode ``0o600``.

    The file is built in memory and written with :func:`~isogrip.files.write_atomic_bytes`,
    so a link planted at ``path`` is replaced, never followed.

    Raises:
        StorageError: The file cannot be written (one line naming it).
    """
    write_atomic_bytes(path, wav_bytes(samples))


class AudioSink(Protocol):
    """Something that plays named cues."""

    available: bool
    description: str

    def play(self, name: str, volume: float) -> None:
        """Play cue ``name`` at ``volume`` (0..1); must return at once."""


class SilentSink:
    """Plays nothing (no audio output on this computer)."""

    available = False
    description = "no sound (no audio output found)"

    def play(self, name: str, volume: float) -> None:
        """Do nothing."""


class QtSink:
    """Plays cues with QtMultimedia's QSoundEffect (low latency, preloaded)."""

    available = True

    def __init__(self, effects: dict[str, Any], description: str) -> None:
        self._effects = effects
        self.description = description

    @classmethod
    def create(cls) -> QtSink | None:
        """A sink for the default output, or ``None`` when audio cannot be used here."""
        try:
            from PyQt6.QtCore import QUrl
            from PyQt6.QtMultimedia import QMediaDevices, QSoundEffect
        except Exception as exc:  # e.g. the PulseAudio library is missing
            log.info("audio cues are off: QtMultimedia cannot load (%s)", exc)
            return None
        try:
            outputs = QMediaDevices.audioOutputs()
            if not outputs:
                return None
            folder = Path(tempfile.mkdtemp(prefix="isogrip-sounds-"))
            # The sounds are made afresh at every start: leave nothing behind.
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            effects: dict[str, Any] = {}
            for name in CUES:
                path = folder / f"{name}.wav"
                write_wav(path, synthesize(name))
                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effects[name] = effect
            return cls(effects, f"sound on {outputs[0].description()}")
        except Exception as exc:
            log.warning("audio cues are off: %s", exc)
            return None

    def play(self, name: str, volume: float) -> None:
        """Play a cue (returns at once)."""
        effect = self._effects[name]
        effect.setVolume(volume)
        effect.play()


def default_sink() -> AudioSink:
    """The best sink this computer offers; never raises."""
    try:
        sink = QtSink.create()
    except Exception:  # defensive: audio must never stop the app from starting
        sink = None
    return sink if sink is not None else SilentSink()


class CuePlayer:
    """Turns engine events into sounds.

    Args:
        sink: Where sounds go.
        enabled: Play anything at all.
        volume: 0..1.
        out_of_band_interval_s: At most one "out of band" sound this often, so a
            participant hovering at the band's edge is not nagged.
        clock: Monotonic clock, s (tests pass a fake one).
    """

    def __init__(self, sink: AudioSink, *, enabled: bool = True, volume: float = 0.7,
                 out_of_band_interval_s: float = 8.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sink = sink
        self.enabled = enabled
        self._volume = 0.7
        self.volume = volume
        self.out_of_band_interval_s = out_of_band_interval_s
        self._clock = clock
        self._last_oob: float | None = None
        self._failed = False

    @property
    def volume(self) -> float:
        """Volume, 0..1."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        if isinstance(value, int | float) and math.isfinite(value):
            self._volume = min(max(float(value), 0.0), 1.0)

    @property
    def description(self) -> str:
        """What the user hears (for Settings)."""
        return "no sound (audio failed)" if self._failed else self.sink.description

    def handle(self, events: Sequence[Event]) -> list[str]:
        """Play the cues for a frame's events.

        Several events of one kind in one frame (after a stall) give one sound; of a
        run of countdown ticks only the newest is played.

        Returns:
            The cue names played.
        """
        if not self.enabled or self._volume <= 0 or self._failed:
            return []
        names: list[str] = []
        for ev in events:
            name = _EVENT_CUES.get(ev.kind)
            if name is None:
                continue
            if name == "out_of_band":
                now = self._clock()
                if self._last_oob is not None and now - self._last_oob < \
                        self.out_of_band_interval_s:
                    continue
                self._last_oob = now
            if name in names:
                continue
            names.append(name)
        played = []
        for name in names:
            if self._play(name):
                played.append(name)
        return played

    def test_sound(self) -> None:
        """Play "go" once (the Settings screen's "Test sound")."""
        if self.enabled:
            self._play("go")

    def _play(self, name: str) -> bool:
        try:
            self.sink.play(name, self._volume)
        except Exception as exc:
            if not self._failed:
                log.warning("audio cues are off after an error: %s", exc)
            self._failed = True
            return False
        return True
