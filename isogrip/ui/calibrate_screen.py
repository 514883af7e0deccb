"""The Calibrate screen: guided maximal squeezes (MVC) for each hand.

Every trial follows the same script: "Get ready", 3-2-1, "Squeeze as hard as you
can" with the same encouragement each time (standardised encouragement keeps trials
comparable), a reminder to breathe out, then a rest with a countdown. Each trial's
score appears in the list as soon as it ends, with the advice the engine gives when
trials disagree or the last one was the best.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from isogrip.protocols.events import Phase, Snapshot, Stage
from isogrip.protocols.records import MvcChosen, MvcTrialRedone, MvcTrialScored
from isogrip.signal.units import KGF_N, Unit
from isogrip.types import Hand
from isogrip.ui.common import (
    button,
    control_row,
    fill_table,
    fmt_clock,
    fmt_count,
    fmt_force,
    label,
    panel,
    set_point_size,
    set_text,
    table,
)
from isogrip.ui.gauge import ForceGauge, HandIcon
from isogrip.ui.theme import NORMAL, Palette

#: The same words for every maximal effort.
ENCOURAGEMENT = "Harder\u2026 harder\u2026 keep squeezing!"
EXHALE = "Breathe out as you squeeze. Never hold your breath."
#: Lowest top of the MVC bar, N (so a weak first squeeze does not fill it).
MIN_SCALE_N = 40 * KGF_N


class CalibrateScreen(QWidget):
    """MVC trials, their scores, and accepting or redoing them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.unit = Unit.KGF
        self.trials: list[MvcTrialScored] = []
        self.redone: set[tuple[Hand, int]] = set()  # (hand, trial) set aside by a redo
        self.results: dict[Hand, MvcChosen] = {}
        self._scale_n = MIN_SCALE_N

        self.hand_icon = HandIcon()
        self.title = label("Measuring your strength", "title")
        self.subtitle = label("", "heading")
        head = QVBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.subtitle)
        top = QHBoxLayout()
        top.addWidget(self.hand_icon)
        top.addLayout(head, 1)

        self.gauge = ForceGauge()
        self.gauge.setFixedWidth(150)
        self.instruction = label("", align=Qt.AlignmentFlag.AlignCenter, wrap=True)
        set_point_size(self.instruction, 40)
        self.encourage = label("", "heading", align=Qt.AlignmentFlag.AlignCenter)
        self.force = label("", align=Qt.AlignmentFlag.AlignCenter)
        set_point_size(self.force, 30)
        self.breathe = label(EXHALE, "muted", align=Qt.AlignmentFlag.AlignCenter, wrap=True)
        centre = QVBoxLayout()
        centre.addStretch(1)
        for w in (self.instruction, self.encourage, self.force, self.breathe):
            centre.addWidget(w)
        centre.addStretch(1)

        self.table = table(["Hand", "Squeeze", "Score"])
        self.table.setMinimumWidth(300)
        self.advice = label("", wrap=True)
        self.advice.setMinimumWidth(300)
        side = panel(label("Your squeezes", "heading"), self.table, self.advice)
        side.setMaximumWidth(420)

        middle = QHBoxLayout()
        middle.addWidget(self.gauge)
        middle.addLayout(centre, 1)
        middle.addWidget(side)

        self.redo_btn = button("Redo last squeeze")
        self.accept_btn = button("Continue  (Space)", "primary")
        bottom, self.pause_btn, self.stop_btn = control_row(self.redo_btn, self.accept_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addLayout(top)
        lay.addLayout(middle, 1)
        lay.addLayout(bottom)

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        self.gauge.set_palette(pal)
        self.hand_icon.set_palette(pal)

    def set_unit(self, unit: Unit) -> None:
        """Show forces in ``unit``."""
        self.unit = unit
        self._refresh_table()

    def reset(self) -> None:
        """Forget the trials of an earlier session."""
        self.trials.clear()
        self.redone.clear()
        self.results.clear()
        self._scale_n = MIN_SCALE_N
        self._refresh_table()
        set_text(self.advice, "")

    def add_trial(self, trial: MvcTrialScored | MvcTrialRedone) -> None:
        """Show a scored trial, or that a trial will be repeated."""
        if isinstance(trial, MvcTrialRedone):
            self.redone.add((trial.hand, trial.trial))
            advice = f"Squeeze {trial.trial} will be repeated."
        else:
            self.trials.append(trial)
            if math.isfinite(trial.score_n):
                self._scale_n = max(self._scale_n, trial.score_n * 1.25)
            advice = trial.advice or trial.score_message
            if trial.extra_trial:
                advice = (advice + " One more squeeze is added.").strip()
        set_text(self.advice, advice)
        self._refresh_table()

    def add_result(self, result: MvcChosen) -> None:
        """Show the MVC chosen for a hand."""
        self.results[result.hand] = result
        parts = [f"{h.label}: {fmt_force(r.mvc_n, self.unit)}"
                 for h, r in sorted(self.results.items())]
        set_text(self.advice, "Your maximum \u2014 " + ",  ".join(parts)
                 + ". Continue when you are ready, or redo the last squeeze.")

    def _refresh_table(self) -> None:
        rows = []
        for tr in self.trials:
            score = fmt_force(tr.score_n, self.unit)
            if (tr.hand, tr.trial) in self.redone:
                score += "  (repeated)"
            elif not tr.plausible:
                score += "  (not counted)"
            rows.append((tr.hand.label, str(tr.trial), score))
        fill_table(self.table, rows)

    def update_frame(self, snap: Snapshot) -> None:
        """Show one display frame."""
        phase = snap.phase
        self.hand_icon.set_hand(snap.hand.value if snap.hand else None)
        if snap.hand is not None and snap.trial:
            sub = f"{snap.hand.label} hand \u00b7 squeeze {snap.trial} of {snap.trials_planned}"
        elif snap.hand is not None:
            sub = f"{snap.hand.label} hand"
        else:
            sub = ""
        set_text(self.subtitle, sub)
        effort = phase is Phase.MVC_EFFORT
        if snap.paused:
            text = "Paused"
        elif phase in (Phase.IDLE, Phase.PREPARE):
            text = "Get ready. Hold the handle loosely."
        elif phase is Phase.COUNTDOWN and snap.stage is Stage.MVC:
            text = fmt_count(snap.time_left_s)
        elif effort:
            text = "Squeeze as hard as you can!"
        elif phase is Phase.MVC_REST:
            text = f"Rest  {fmt_clock(snap.time_left_s)}"
        elif phase is Phase.REST:
            text = f"Well done. The holds start in {fmt_clock(snap.time_left_s)}"
        else:
            text = snap.cue
        set_text(self.instruction, text)
        set_text(self.encourage, ENCOURAGEMENT if effort and not snap.paused else "")
        self.breathe.setVisible(effort or phase is Phase.COUNTDOWN)
        force = snap.force_n
        set_text(self.force, fmt_force(force, self.unit) if effort else "")
        scale = self._scale_n / self.unit.newtons
        if self.gauge.scale_max != scale or self.gauge.band is not None:
            self.gauge.set_band(None, None, None, scale)
        show = effort or phase is Phase.COUNTDOWN
        self.gauge.set_force(
            force / self.unit.newtons if show and force is not None else None,
            self.pal.accent,
            snap.trial_peak_n / self.unit.newtons if effort and snap.trial_peak_n else None,
        )
        can_redo = phase is Phase.MVC_REST or (phase is Phase.REST and bool(self.trials))
        self.redo_btn.setEnabled(can_redo and not snap.paused)
        resting = phase in (Phase.PREPARE, Phase.MVC_REST, Phase.REST)
        self.accept_btn.setEnabled(resting or snap.paused)
        set_text(self.accept_btn, "Continue  (Space)" if phase is not Phase.REST else
                 "Accept and start the holds  (Space)")
        set_text(self.pause_btn, "Resume  (P)" if snap.paused else "Pause  (P)")
