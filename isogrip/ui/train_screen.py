"""The Train screen: the four guided holds and the rests between them.

Everything a participant needs is visible from a distance: which hold and which hand,
a very large countdown, the gauge with the green band, words and a shape for where the
force is, and the breathing reminder. Pause and Stop never move or hide.
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from isogrip.protocols.events import Phase, Snapshot, Stage, Zone
from isogrip.signal.units import Unit
from isogrip.ui.common import (
    button,
    control_row,
    fmt_clock,
    fmt_count,
    label,
    set_point_size,
    set_text,
)
from isogrip.ui.force_trace import ForceTrace
from isogrip.ui.gauge import ForceGauge, HandIcon
from isogrip.ui.theme import NORMAL, ZONE_SYMBOLS, Palette, zone_colour

#: Seconds of force shown in the trace.
TRACE_WINDOW_S = 20.0
#: The gauge and the trace reach this multiple of the top of the amber band.
SCALE_HEADROOM = 1.6
#: A force reading older than this (s) is not shown as the current force.
STALE_S = 1.0


class TrainScreen(QWidget):
    """Holds, their countdowns and the rests between them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.unit = Unit.KGF
        self._band_key: tuple[float, ...] | None = None  # what the band was drawn for

        self.hand_icon = HandIcon()
        self.title = label("", "title")
        self.banner = label("", "banner", wrap=True)
        self.banner.hide()
        top = QHBoxLayout()
        top.addWidget(self.hand_icon)
        top.addWidget(self.title, 1)

        self.gauge = ForceGauge()
        self.gauge.setFixedWidth(190)
        self.countdown = label("", align=Qt.AlignmentFlag.AlignCenter)
        set_point_size(self.countdown, 84)
        self.cue = label("", align=Qt.AlignmentFlag.AlignCenter)
        self.cue.setMinimumHeight(90)
        self.detail = label("", "heading", align=Qt.AlignmentFlag.AlignCenter, wrap=True)
        self.breathe = label("Breathe normally. Do not hold your breath.", "muted",
                             align=Qt.AlignmentFlag.AlignCenter, wrap=True)
        centre = QVBoxLayout()
        centre.addStretch(1)
        centre.addWidget(self.countdown)
        centre.addWidget(self.cue)
        centre.addWidget(self.detail)
        centre.addWidget(self.breathe)
        centre.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.gauge)
        middle.addLayout(centre, 1)

        self.trace = ForceTrace(TRACE_WINDOW_S)
        self.trace.setMinimumHeight(170)
        self.trace.setMaximumHeight(260)

        self.continue_btn = button("Continue  (Space)", "primary")
        bottom, self.pause_btn, self.stop_btn = control_row(self.continue_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addLayout(top)
        lay.addWidget(self.banner)
        lay.addLayout(middle, 1)
        lay.addWidget(self.trace)
        lay.addLayout(bottom)

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        self.gauge.set_palette(pal)
        self.hand_icon.set_palette(pal)
        self.trace.set_palette(pal)

    def set_unit(self, unit: Unit) -> None:
        """Show forces in ``unit``."""
        self.unit = unit
        self.trace.set_unit(unit.value)
        self._band_key = None

    def show_link(self, message: str | None) -> None:
        """Show (or hide, with ``None``) the device-connection banner."""
        if message is None:
            self.banner.hide()
        else:
            set_text(self.banner, message)
            self.banner.show()

    def update_frame(self, snap: Snapshot, t: np.ndarray, force_n: np.ndarray) -> None:
        """Show one display frame: the snapshot and the recent force (true newtons).

        Every force is drawn as the participant is shown it (``snap.display``: a
        sham's mapping in its holds, the true force otherwise).
        """
        per_unit = 1.0 / self.unit.newtons
        phase = snap.phase
        resting = phase in (Phase.REST, Phase.PREPARE)
        hand_words = f"{snap.hand.label} hand" if snap.hand is not None else ""
        self._show_heading(snap, resting, hand_words)
        self._show_band(snap, per_unit)
        zone = snap.zone if phase is Phase.HOLD and not snap.in_gap else Zone.NONE
        colour = zone_colour(self.pal, zone) if zone is not Zone.NONE else self.pal.muted
        force = self._show_force(snap, t, force_n, per_unit, colour)
        self._show_cue(snap, zone, colour, resting)
        self._show_detail(snap, force, resting, hand_words)
        self.breathe.setVisible(phase in (Phase.HOLD, Phase.COUNTDOWN))
        self.continue_btn.setVisible(resting or snap.paused)
        set_text(self.continue_btn, "Continue  (Space)" if snap.paused else
                 "Start the next hold now  (Space)")
        set_text(self.pause_btn, "Resume  (P)" if snap.paused else "Pause  (P)")

    def _show_heading(self, snap: Snapshot, resting: bool, hand_words: str) -> None:
        """The hand, the title (which hold, or the rest before it) and the countdown."""
        phase = snap.phase
        self.hand_icon.set_hand(snap.hand.value if snap.hand is not None else None)
        if resting and snap.rep:
            title = f"Rest \u00b7 next: hold {snap.rep} of {snap.reps}, {hand_words}"
        elif snap.rep:
            title = f"Hold {snap.rep} of {snap.reps} \u00b7 {hand_words}"
        else:
            title = "Training"
        if snap.paused:
            title = "Paused \u00b7 " + title
        set_text(self.title, title)
        if snap.paused:
            clock = "\u2016"  # a pause sign
        elif phase is Phase.COUNTDOWN:
            clock = fmt_count(snap.time_left_s)
        else:
            clock = fmt_clock(snap.time_left_s)
        set_text(self.countdown, clock)

    def _show_band(self, snap: Snapshot, per_unit: float) -> None:
        """Band and fixed scale (only recomputed when the band changes)."""
        edges = snap.shown_band
        target_shown = snap.shown_target_n
        key = (*edges, target_shown, per_unit) if edges is not None and \
            target_shown is not None else None
        if key is not None and key != self._band_key:
            self._band_key = key
            assert edges is not None and target_shown is not None
            band = (edges[0] * per_unit, edges[1] * per_unit)
            near = (edges[2] * per_unit, edges[3] * per_unit)
            top = near[1] * SCALE_HEADROOM
            self.gauge.set_band(target_shown * per_unit, band, near, top)
            self.trace.set_band(target_shown * per_unit, band, near, top)

    def _show_force(self, snap: Snapshot, t: np.ndarray, force_n: np.ndarray,
                    per_unit: float, colour: str) -> float | None:
        """The gauge and the trace; returns the force shown now (display unit) or None."""
        phase = snap.phase
        in_hold = phase is Phase.HOLD or (phase is Phase.COUNTDOWN and snap.stage is Stage.HOLD)
        # A reading older than a second is not "now" (device away or silent): the
        # gauge shows none, and the trace keeps scrolling so the silence shows.
        now = max(float(t[-1]), snap.t) if len(t) else snap.t
        fresh = len(t) > 0 and now - float(t[-1]) <= STALE_S
        shown = snap.shown_force_n
        force = shown * per_unit if shown is not None and fresh else None
        self.gauge.set_force(force if in_hold or phase is Phase.REST else None, colour)
        if len(t):
            self.trace.show_window(t, snap.display.show(force_n) * per_unit, now)
        return force

    def _show_cue(self, snap: Snapshot, zone: Zone, colour: str, resting: bool) -> None:
        """Cue: shape + words + colour (``colour`` is the zone's, for a hold)."""
        phase = snap.phase
        if snap.paused:
            cue, colour = "Paused", self.pal.muted
        elif phase is Phase.HOLD and snap.in_gap:
            cue, colour = "Waiting for the device\u2026", self.pal.muted
        elif phase is Phase.HOLD:
            cue = f"{ZONE_SYMBOLS[zone]}  {zone.words}" if zone is not Zone.NONE else snap.cue
        elif phase is Phase.COUNTDOWN:
            cue, colour = "Get ready", self.pal.accent
        elif resting:
            cue, colour = "Rest. Let your hand relax.", self.pal.muted
        else:
            cue = snap.cue
        self._set_cue(cue, colour)

    def _show_detail(self, snap: Snapshot, force: float | None, resting: bool,
                     hand_words: str) -> None:
        """The line under the cue: the force and % in a hold, what comes next otherwise."""
        phase = snap.phase
        if phase is Phase.HOLD and force is not None and not snap.in_gap:
            detail = f"{force:.1f} {self.unit.value}"
            pct = snap.shown_pct_mvc  # a sham shows about 30 %, like its active arm
            if pct is not None and math.isfinite(pct):
                detail += f"  \u00b7  {max(0.0, pct):.0f} % of your maximum"
        elif phase is Phase.COUNTDOWN and snap.stage is Stage.HOLD:
            detail = "Squeeze gently until the marker is in the green band."
        elif resting and snap.rep:
            detail = f"Next: hold {snap.rep} of {snap.reps} with your {hand_words}."
        else:
            detail = ""
        set_text(self.detail, detail)

    def _set_cue(self, text: str, colour: str) -> None:
        if self.cue.text() == text and self.cue.property("colour") == colour:
            return
        self.cue.setProperty("colour", colour)
        self.cue.setText(text)
        self.cue.setStyleSheet(
            f"font-size: 34pt; font-weight: 700; color: {colour}; background: transparent;"
        )
