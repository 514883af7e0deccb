"""The Summary screen: how the session went, hold by hold, and exporting it.

Shown at the end of every session and for any past session opened from History. The
data are read from the store on a background thread (a long session at 1 kHz has
millions of samples), then drawn once.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QProcess
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from isogrip.errors import IsogripError
from isogrip.protocols.display import display_map, shown_band
from isogrip.protocols.model import Protocol
from isogrip.signal.units import Unit
from isogrip.storage.export_formats import export
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.before_screen import typed_reading
from isogrip.ui.common import (
    Redraws,
    button,
    fill_table,
    label,
    panel,
    run_task,
    set_text,
    table,
)
from isogrip.ui.cuff_reader import CuffControl
from isogrip.ui.force_trace import ForceTrace

# The session data and the wording live in summary_data; callers import them from here.
from isogrip.ui.summary_data import (
    SessionData,
    hold_cells,
    hold_label,
    hold_outcome,
    intensity_view,
    load_session_data,
    mvc_text,
    summary_note,
    summary_subtitle,
    summary_title,
)
from isogrip.ui.theme import NORMAL, Palette

__all__ = [
    "HOLD_COLUMNS",
    "SessionData",
    "SummaryScreen",
    "hold_label",
    "hold_outcome",
    "load_session_data",
]

# Short headers: at 1024 px the table has about 120 px a column, and the outcome
# ("stopped after 40.0 s") must be read whole.
HOLD_COLUMNS = ("Hold", "Hand", "In the band", "Average", "Steadiness", "Drift (%/min)",
                "Signal gaps", "Outcome")


def _hold_table() -> QTableWidget:
    """The hold table: as wide as the screen, as tall as its rows."""
    t = table(list(HOLD_COLUMNS))
    t.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    header = t.horizontalHeader()
    assert header is not None
    for name in ("Hold", "Hand", "Outcome"):  # short or must be whole: their own width
        header.setSectionResizeMode(HOLD_COLUMNS.index(name),
                                    QHeaderView.ResizeMode.ResizeToContents)
    return t


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
        # What the programme says after the session: near the top, it is what to do next.
        self.programme_text = label("", wrap=True)
        self.programme_text.setVisible(False)
        self.mvc_text = label("", wrap=True)
        self.mvc_text.setMinimumHeight(56)
        self.table = _hold_table()
        self.plots = QGridLayout()
        self.plot_box = QWidget()
        self.plot_box.setLayout(self.plots)
        self.note = label("", "muted", wrap=True)
        post_row = self._post_bp_row()  # the cuff's words go in the note, like Save's
        buttons = self._button_row()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.programme_text)
        lay.addWidget(panel(label("Your maximum (MVC)", "heading"), self.mvc_text))
        lay.addWidget(self.table)
        lay.addWidget(self.plot_box, 1)
        lay.addLayout(post_row)
        lay.addWidget(self.note)
        lay.addLayout(buttons)
        self.choose_folder = self._ask_folder
        self.choose_pdf = self._ask_pdf
        self._report: QProcess | None = None

    def _post_bp_row(self) -> QHBoxLayout:
        """The optional blood-pressure reading after training: three fields and Save."""
        self.post_sbp = QLineEdit()
        self.post_dbp = QLineEdit()
        self.post_pulse = QLineEdit()
        for w, hint in ((self.post_sbp, "upper"), (self.post_dbp, "lower"),
                        (self.post_pulse, "pulse")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(90)
        self.post_btn = button("Save", slot=self.save_post_bp)
        # A cuff reading taken just after the session is saved as its "post" reading.
        self.cuff = CuffControl(self, self.note)
        self.cuff.got.connect(self._clear_post)
        post_row = QHBoxLayout()
        post_row.addWidget(label("Blood pressure after training (optional):"))
        for item in (self.post_sbp, label("/"), self.post_dbp, self.post_pulse,
                     self.post_btn, self.cuff.button):
            post_row.addWidget(item)
        post_row.addStretch(1)
        return post_row

    def _clear_post(self, _saved: object = None) -> None:
        for w in (self.post_sbp, self.post_dbp, self.post_pulse):
            w.clear()

    def _button_row(self) -> QHBoxLayout:
        """Export format and Export, Report, then History and Done."""
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
        return buttons

    def load(self, store: Store, session_id: int, programme: bool = False) -> None:
        """Show a session (read in the background).

        Args:
            store: The database.
            session_id: The session.
            programme: The session has just ended: review the participant's programme
                (recording its new steps) and say what it means for the next session.
                A past session opened from History leaves it alone.
        """
        self.store, self.session_id, self.data = store, session_id, None
        self.cuff.reset()
        self.loading = True
        set_text(self.title, "Loading the session\u2026")
        set_text(self.subtitle, "")
        set_text(self.note, "")
        set_text(self.programme_text, "")
        self.programme_text.setVisible(False)
        today = _dt.datetime.now().astimezone().date() if programme else None
        run_task(self, lambda: load_session_data(store, session_id, today), self._loaded,
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
        set_text(self.title, summary_title(d.info.status))
        view = intensity_view(d.info)
        set_text(self.subtitle, summary_subtitle(d.info, view.sham))
        set_text(self.programme_text, d.programme)
        self.programme_text.setVisible(bool(d.programme))
        set_text(self.mvc_text, mvc_text(d, self.unit))
        fill_table(self.table, [hold_cells(h, t, f, d.holds, view)
                                for h, (t, f) in zip(d.holds, d.traces, strict=True)])
        header = self.table.horizontalHeader()
        rows_h = sum(self.table.rowHeight(i) for i in range(self.table.rowCount()))
        self.table.setFixedHeight(rows_h + (header.height() if header else 30) + 4)
        self._draw_traces(d, view.sham if view.mapped else None)
        set_text(self.note, summary_note(d, view.hide, self.suggest_starter))

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
            entry = typed_reading(self.post_sbp.text(), self.post_dbp.text(),
                                  self.post_pulse.text())
            participant = self.data.info.participant if self.data is not None else None
            self.store.add_bp_reading(sbp=entry.sbp, dbp=entry.dbp, pulse=entry.pulse,
                                      context="post",
                                      participant=participant, session_id=self.session_id)
        except (ValueError, IsogripError) as exc:
            set_text(self.note, f"Not saved: {exc}")
            return
        for w in (self.post_sbp, self.post_dbp, self.post_pulse):
            w.clear()
        set_text(self.note, f"Saved {entry} after training.")

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
