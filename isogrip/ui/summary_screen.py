"""The Summary screen: how the session went, hold by hold, and exporting it.

Shown at the end of every session and for any past session opened from History. The
data are read from the store on a background thread (a long session at 1 kHz has
millions of samples), then drawn once.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
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
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from isogrip.errors import IsogripError
from isogrip.signal.units import Unit
from isogrip.storage.export_formats import export
from isogrip.storage.history import previous_mvc
from isogrip.storage.store import HoldRow, MvcRow, SessionInfo, Store
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

HOLD_COLUMNS = ("Hold", "Hand", "Time in band", "Mean % of max", "Steadiness (CV)",
                "Drift (%/min)", "Signal gaps")


@dataclass
class SessionData:
    """Everything the summary shows, read off the GUI thread."""

    info: SessionInfo
    holds: list[HoldRow]
    mvc: list[MvcRow]
    previous: dict[Hand, float]
    traces: list[tuple[F64, F64]] = field(default_factory=list)


def load_session_data(store: Store, session_id: int) -> SessionData:
    """Read a session's summary data (runs on a worker thread)."""
    info = store.get_session_info(session_id)
    holds = [h for h in store.load_holds(session_id) if h.completed] or \
        store.load_holds(session_id)
    t, _, f = store.load_samples(session_id)
    traces = []
    for h in holds:
        if h.t_go_s is None or h.t_end_s is None:
            traces.append((np.empty(0), np.empty(0)))
            continue
        i0, i1 = np.searchsorted(t, [h.t_go_s, h.t_end_s])
        traces.append((t[i0:i1].copy(), f[i0:i1].copy()))
    return SessionData(info, holds, store.load_mvc(session_id),
                       previous_mvc(store, session_id), traces)


def started_words(iso: str) -> str:
    """``"Monday 23 November 2026, 14:05"`` in local time."""
    try:
        when = _dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return when.strftime("%A %d %B %Y, %H:%M")


class SummaryScreen(Redraws, QWidget):
    """One session's results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.unit = Unit.KGF
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
        sub = f"{started_words(info.started_at)} \u00b7 {info.protocol_name}"
        if info.participant:
            sub += f" \u00b7 participant {info.participant}"
        if info.note:  # why it ended early, as a sentence
            note = info.note.strip()
            sub += "\n" + note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")
        set_text(self.subtitle, sub)
        hide = bool(info.protocol.get("hide_intensity"))
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
        for h in d.holds:
            gap = h.gap_s or 0.0
            cells = (
                str(h.rep) + ("" if h.completed else " (stopped)"),
                Hand(h.hand).label if h.hand else "",
                fmt_num(h.time_in_band_pct, 0, " %"),
                "hidden" if hide else fmt_num(h.mean_pct_mvc, 1, " %"),
                fmt_num(h.cv_mean_pct, 1, " %"),
                "hidden" if hide else fmt_num(h.drift_pct_mvc_per_min, 2),
                "none" if gap < 0.05 else f"{gap:.1f} s",
            )
            rows.append(cells)
        fill_table(self.table, rows)
        header = self.table.horizontalHeader()
        rows_h = sum(self.table.rowHeight(i) for i in range(self.table.rowCount()))
        self.table.setFixedHeight(rows_h + (header.height() if header else 30) + 4)
        self._draw_traces(d, hide)
        notes = []
        if any((h.gap_s or 0) >= 1.0 for h in d.holds):
            notes.append("Some holds lost signal for a while; those moments are not scored.")
        if hide:
            notes.append("This is a blinded study protocol: intensity figures are hidden.")
        set_text(self.note, " ".join(notes))

    def _draw_traces(self, d: SessionData, hide: bool) -> None:
        while self.plots.count():
            item = self.plots.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        scale = float(d.info.protocol.get("display_scale", 1.0)) if hide else 1.0
        per_unit = scale / self.unit.newtons
        for i, (h, (t, f)) in enumerate(zip(d.holds, d.traces, strict=True)):
            plot = ForceTrace(unit=self.unit.value, compact=True)
            plot.set_palette(self.pal)
            plot.setMinimumHeight(120)
            hand = Hand(h.hand).label if h.hand else ""
            plot.getPlotItem().setTitle(f"Hold {h.rep} \u00b7 {hand}")
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
            set_text(self.note, f"The report could not be written: {out.splitlines()[-1:]}")

    def _exported(self, paths: list[Any]) -> None:
        self.export_btn.setEnabled(True)
        folder = Path(paths[0]).parent if paths else ""
        set_text(self.note, f"Saved {len(paths)} files in {folder}.")

    def _export_failed(self, exc: BaseException) -> None:
        self.export_btn.setEnabled(True)
        set_text(self.note, f"The export failed: {exc}")
