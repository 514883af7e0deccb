"""The Summary screen: how the session went, hold by hold, and exporting it.

Shown at the end of every session and for any past session opened from History. The
data are read from the store on a background thread (a long session at 1 kHz has
millions of samples), then drawn once.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PyQt6.QtCore import QProcess
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from isogrip.errors import IsogripError
from isogrip.protocols.display import (
    display_map,
    participant_title,
    shown_band,
    shown_hold_metrics,
    stored_blinded_protocol,
)
from isogrip.protocols.model import Protocol
from isogrip.protocols.starter import starter_advice
from isogrip.signal.units import Unit
from isogrip.storage.export_formats import export
from isogrip.storage.history import hold_outcomes, previous_mvc
from isogrip.storage.store import HoldRow, MvcRow, SessionInfo, Store
from isogrip.timefmt import LONG, local_time
from isogrip.types import Hand
from isogrip.ui.before_screen import parse_optional_int
from isogrip.ui.common import (
    Redraws,
    button,
    fill_table,
    fmt_force,
    fmt_num,
    label,
    panel,
    run_task,
    set_text,
    table,
)
from isogrip.ui.force_trace import ForceTrace
from isogrip.ui.theme import NORMAL, Palette

F64 = NDArray[np.float64]

# Short headers: at 1024 px the table has about 120 px a column, and the outcome
# ("stopped after 40.0 s") must be read whole.
HOLD_COLUMNS = ("Hold", "Hand", "In the band", "Average", "Steadiness", "Drift (%/min)",
                "Signal gaps", "Outcome")


@dataclass
class SessionData:
    """Everything the summary shows, read off the GUI thread."""

    info: SessionInfo
    holds: list[HoldRow]
    mvc: list[MvcRow]
    previous: dict[Hand, float]
    traces: list[tuple[F64, F64]] = field(default_factory=list)
    #: A suggestion to try the starter protocol (a hold at 30 % was not held), or "".
    starter_advice: str = ""


def load_session_data(store: Store, session_id: int) -> SessionData:
    """Read a session's summary data (runs on a worker thread).

    Every hold attempt is kept, completed or not (see :func:`hold_outcome`): a hold
    stopped part-way is still recorded training, and hiding it would make the
    summary disagree with ``summary.json``.
    """
    info = store.get_session_info(session_id)
    holds = store.load_holds(session_id)
    t, _, f = store.load_samples(session_id)
    traces = []
    for h in holds:
        if h.t_go_s is None or h.t_end_s is None:
            traces.append((np.empty(0), np.empty(0)))
            continue
        i0, i1 = np.searchsorted(t, [h.t_go_s, h.t_end_s])
        traces.append((t[i0:i1].copy(), f[i0:i1].copy()))
    return SessionData(info, holds, store.load_mvc(session_id),
                       previous_mvc(store, session_id), traces,
                       starter_advice(hold_outcomes(holds)))


def hold_label(h: HoldRow) -> str:
    """The hold's number, with the attempt when it was repeated: ``"1 (try 2)"``."""
    return f"{h.rep}" + (f" (try {h.attempt})" if h.attempt > 1 else "")


def hold_outcome(h: HoldRow, holds: Sequence[HoldRow]) -> str:
    """What became of one hold attempt, in words.

    Args:
        h: The attempt.
        holds: Every attempt of the session (to tell a repeated hold from one the
            session ended in).

    Returns:
        ``"completed"``, ``"completed (repeat)"``, ``"interrupted after 12.0 s,
        repeated"`` (a pause or a lost signal stopped it and it was done again) or
        ``"stopped after 33.5 s"`` (the session ended during it).
    """
    if h.completed:
        return "completed" if h.attempt == 1 else "completed (repeat)"
    held = ""
    if h.t_go_s is not None and h.t_end_s is not None:
        held = f" after {max(0.0, h.t_end_s - h.t_go_s):.1f} s"
    repeated = any(o.rep == h.rep and o.attempt > h.attempt for o in holds)
    return f"interrupted{held}, repeated" if repeated else f"stopped{held}"


class SummaryScreen(Redraws, QWidget):
    """One session's results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.unit = Unit.KGF
        # In a study (protocol locked by the study team) the team decides on intensity,
        # and advice that only one arm could ever get would be an unblinding cue.
        self.suggest_starter = True
        self.store: Store | None = None
        self.session_id: int | None = None
        self.data: SessionData | None = None
        self.loading = False

        self.title = label("", "title")
        self.subtitle = label("", "muted", wrap=True)
        self.mvc_text = label("", wrap=True)
        self.mvc_text.setMinimumHeight(56)
        self.table = table(list(HOLD_COLUMNS))
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.table.horizontalHeader()
        assert header is not None
        for name in ("Hold", "Hand", "Outcome"):  # short or must be whole: their own width
            header.setSectionResizeMode(HOLD_COLUMNS.index(name),
                                        QHeaderView.ResizeMode.ResizeToContents)
        self.plots = QGridLayout()
        self.plot_box = QWidget()
        self.plot_box.setLayout(self.plots)
        self.note = label("", "muted", wrap=True)
        self.post_sbp = QLineEdit()
        self.post_dbp = QLineEdit()
        self.post_pulse = QLineEdit()
        for w, hint in ((self.post_sbp, "upper"), (self.post_dbp, "lower"),
                        (self.post_pulse, "pulse")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(90)
        self.post_btn = button("Save", slot=self.save_post_bp)
        post_row = QHBoxLayout()
        post_row.addWidget(label("Blood pressure after training (optional):"))
        for item in (self.post_sbp, label("/"), self.post_dbp, self.post_pulse,
                     self.post_btn):
            post_row.addWidget(item)
        post_row.addStretch(1)
        self.export_btn = button("Export\u2026", slot=self.export_files)
        self.format = QComboBox()
        for fmt, text in (("csv", "CSV + JSON"), ("parquet", "Parquet"), ("edf", "EDF+"),
                          ("json", "JSON")):
            self.format.addItem(text, fmt)
        self.report_btn = button("Report (PDF)\u2026", slot=self.write_report)
        self.history_btn = button("History")
        self.done_btn = button("Done", "primary")
        buttons = QHBoxLayout()
        buttons.addWidget(self.format)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.report_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.history_btn)
        buttons.addWidget(self.done_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addWidget(panel(label("Your maximum (MVC)", "heading"), self.mvc_text))
        lay.addWidget(self.table)
        lay.addWidget(self.plot_box, 1)
        lay.addLayout(post_row)
        lay.addWidget(self.note)
        lay.addLayout(buttons)
        self.choose_folder = self._ask_folder
        self.choose_pdf = self._ask_pdf
        self._report: QProcess | None = None

    def load(self, store: Store, session_id: int) -> None:
        """Show a session (read in the background)."""
        self.store, self.session_id, self.data = store, session_id, None
        self.loading = True
        set_text(self.title, "Loading the session\u2026")
        set_text(self.subtitle, "")
        set_text(self.note, "")
        run_task(self, lambda: load_session_data(store, session_id), self._loaded,
                 self._failed)

    def _loaded(self, data: SessionData) -> None:
        self.loading = False
        if data.info.id != self.session_id:
            return  # another session was opened meanwhile
        self.data = data
        self._show(data)

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        set_text(self.title, "This session could not be read")
        set_text(self.subtitle, str(exc))

    def _show(self, d: SessionData) -> None:
        info = d.info
        status = {"complete": "Session complete. Well done!",
                  "aborted": "Session stopped early",
                  "interrupted": "Session interrupted"}.get(info.status, "Session in progress")
        set_text(self.title, status)
        # A sham is shown as what it looks like: its name and title say "sham".
        sham = stored_blinded_protocol(info.protocol)
        name = participant_title(sham) if sham is not None else info.protocol_name
        sub = f"{local_time(info.started_at, LONG)} \u00b7 {name}"
        if info.participant:
            sub += f" \u00b7 participant {info.participant}"
        if info.note:  # why it ended early, as a sentence
            note = info.note.strip()
            sub += "\n" + note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")
        set_text(self.subtitle, sub)
        # Intensity figures are hidden only where the shown force is the true force;
        # a sham shows the figures of its display, like its active arm.
        mapped = sham is not None and sham.display_scale != 1.0
        hide = bool(info.protocol.get("hide_intensity")) and not mapped
        lines = []
        for row in sorted(d.mvc, key=lambda r: r.hand):
            hand = Hand(row.hand)
            text = f"{hand.label} hand: {fmt_force(row.mvc_n, self.unit)}"
            if "reused" in row.flags:
                text += " (from an earlier session)"
            prev = d.previous.get(hand)
            if prev is not None and row.mvc_n is not None:
                diff = row.mvc_n - prev
                sign = "+" if diff >= 0 else "\u2212"
                text += (f"  \u00b7  last session {fmt_force(prev, self.unit)} "
                         f"({sign}{fmt_force(abs(diff), self.unit)})")
            lines.append(text)
        set_text(self.mvc_text, "\n".join(lines) or "No maximum was measured in this session.")
        rows: list[tuple[str, ...]] = []
        for h, (t, f) in zip(d.holds, d.traces, strict=True):
            gap = h.gap_s or 0.0
            tib, mean, cv, drift = (h.time_in_band_pct, h.mean_pct_mvc, h.cv_mean_pct,
                                    h.drift_pct_mvc_per_min)
            if mapped and sham is not None and h.mvc_n:
                m = shown_hold_metrics(sham, t, f, mvc_n=h.mvc_n, start_s=h.t_go_s,
                                       end_s=h.t_end_s)
                tib, mean, cv, drift = (m.time_in_band_pct, m.mean_pct_mvc, m.cv_mean_pct,
                                        m.drift_pct_mvc_per_min)
            cells = (
                hold_label(h),
                Hand(h.hand).label if h.hand else "",
                fmt_num(tib, 0, " %"),
                "hidden" if hide else fmt_num(mean, 1, " %"),
                fmt_num(cv, 1, " %"),
                "hidden" if hide else fmt_num(drift, 2),
                "none" if gap < 0.05 else f"{gap:.1f} s",
                hold_outcome(h, d.holds),
            )
            rows.append(cells)
        fill_table(self.table, rows)
        header = self.table.horizontalHeader()
        rows_h = sum(self.table.rowHeight(i) for i in range(self.table.rowCount()))
        self.table.setFixedHeight(rows_h + (header.height() if header else 30) + 4)
        self._draw_traces(d, sham if mapped else None)
        notes = []
        if any((h.gap_s or 0) >= 1.0 for h in d.holds):
            notes.append("Some holds lost signal for a while; those moments are not scored.")
        if hide:
            notes.append("This is a blinded study protocol: intensity figures are hidden.")
        if d.starter_advice and self.suggest_starter:
            notes.append(d.starter_advice)
        set_text(self.note, " ".join(notes))

    def _draw_traces(self, d: SessionData, sham: Protocol | None) -> None:
        """One plot per hold; a sham's as its participant saw them (display mapping)."""
        while self.plots.count():
            item = self.plots.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        per_unit = 1.0 / self.unit.newtons
        for i, (h, (t, f)) in enumerate(zip(d.holds, d.traces, strict=True)):
            if sham is not None and h.mvc_n:
                shown = shown_band(sham, h.mvc_n)
                f = display_map(sham, h.mvc_n).show(f)
                h = dataclasses.replace(h, target_n=shown.target_n, band_low_n=shown.low_n,
                                        band_high_n=shown.high_n)
            plot = ForceTrace(unit=self.unit.value, compact=True)
            plot.set_palette(self.pal)
            plot.setMinimumHeight(120)
            hand = Hand(h.hand).label if h.hand else ""
            title = f"Hold {hold_label(h)} \u00b7 {hand}"
            if not h.completed:
                title += f" \u00b7 {hold_outcome(h, d.holds)}"
            plot.getPlotItem().setTitle(title)
            if h.band_low_n is not None and h.band_high_n is not None and h.target_n is not None:
                top = max(h.band_high_n * 1.6,
                          float(np.nanmax(f)) * 1.05 if len(f) else 0.0) * per_unit
                plot.set_band(h.target_n * per_unit,
                              (h.band_low_n * per_unit, h.band_high_n * per_unit), None,
                              top if math.isfinite(top) else h.band_high_n * 1.6 * per_unit)
            plot.show_whole(t, f * per_unit)
            self.plots.addWidget(plot, i // 2, i % 2)

    def save_post_bp(self) -> None:
        """Store the blood pressure typed after the session (context ``post``)."""
        if self.store is None or self.session_id is None:
            return
        try:
            sbp = parse_optional_int(self.post_sbp.text(), "The upper number")
            dbp = parse_optional_int(self.post_dbp.text(), "The lower number")
            pulse = parse_optional_int(self.post_pulse.text(), "The pulse")
            if sbp is None or dbp is None:
                raise ValueError("Type both numbers of the reading, e.g. 128 / 82.")
            participant = self.data.info.participant if self.data is not None else None
            self.store.add_bp_reading(sbp=sbp, dbp=dbp, pulse=pulse, context="post",
                                      participant=participant, session_id=self.session_id)
        except (ValueError, IsogripError) as exc:
            set_text(self.note, f"Not saved: {exc}")
            return
        for w in (self.post_sbp, self.post_dbp, self.post_pulse):
            w.clear()
        set_text(self.note, f"Saved {sbp}/{dbp} mmHg after training.")

    # ------------------------------------------------------------------ export
    def _ask_folder(self) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder for the export")
        return Path(folder) if folder else None

    def _ask_pdf(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the report", "", "PDF (*.pdf)")
        return Path(path).with_suffix(".pdf") if path else None

    def export_files(self) -> None:
        """Export the session in the chosen format into a folder (in the background)."""
        if self.store is None or self.session_id is None:
            return
        folder = self.choose_folder()
        if folder is None:
            return
        store, sid, fmt = self.store, self.session_id, str(self.format.currentData())
        out = folder / f"isogrip-session-{sid}"
        self.export_btn.setEnabled(False)
        set_text(self.note, "Exporting\u2026")
        run_task(self, lambda: export(store, sid, out, fmt), self._exported,
                 self._export_failed)

    def write_report(self) -> None:
        """Write the one-page PDF report (in the background).

        A separate process draws it: a page of Qt widgets cannot be drawn off the GUI
        thread, and the window must stay responsive.
        """
        if self.store is None or self.session_id is None or self._report is not None:
            return
        path = self.choose_pdf()
        if path is None:
            return
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.finished.connect(lambda code, _status: self._reported(proc, code, path))
        self._report = proc
        self.report_btn.setEnabled(False)
        set_text(self.note, "Writing the report\u2026")
        proc.start(sys.executable, ["-m", "isogrip", "--data-dir",
                                    str(self.store.path.parent), "report",
                                    str(self.session_id), "--out", str(path)])

    def _reported(self, proc: QProcess, code: int, path: Path) -> None:
        self._report = None
        self.report_btn.setEnabled(True)
        if code == 0 and path.exists():
            set_text(self.note, f"Report saved: {path}")
        else:
            out = bytes(proc.readAll().data()).decode("utf-8", "replace").strip()
            last = out.splitlines()[-1] if out else f"exit status {code}"
            set_text(self.note, "The report could not be written: "
                     + last.removeprefix("isogrip: error: "))

    def _exported(self, paths: list[Any]) -> None:
        self.export_btn.setEnabled(True)
        folder = Path(paths[0]).parent if paths else ""
        set_text(self.note, f"Saved {len(paths)} files in {folder}.")

    def _export_failed(self, exc: BaseException) -> None:
        self.export_btn.setEnabled(True)
        set_text(self.note, f"The export failed: {exc}")
