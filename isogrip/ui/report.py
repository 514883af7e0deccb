"""Printable reports: one page per session, and a participant's progress over weeks.

A report is an A4 page laid out with ordinary Qt widgets (the summary's own tables and
pyqtgraph traces, in black on white) and rendered with QPainter into a PDF
(``QPdfWriter``, vector text) or a PNG (150 dpi). It works off-screen, so
``isogrip report`` runs on a server.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from isogrip.errors import IsogripError
from isogrip.files import write_atomic
from isogrip.signal.units import KGF_N
from isogrip.storage.export import output_folder
from isogrip.storage.store import Store
from isogrip.timefmt import DATE, LOCAL_TIME, LONG, local_time

if TYPE_CHECKING:
    from isogrip.ui.summary_screen import SessionData

#: A4 at 96 px per inch: the layout size of a page, px.
PAGE_W, PAGE_H = 794, 1123
PNG_DPI = 150


_APP: Any = None


class ReportError(IsogripError, ValueError):
    """A report cannot be made (unknown output type, nothing to report)."""


def _app() -> Any:
    """The QApplication, created off-screen when there is no display."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
            sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    global _APP
    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            _quiet_offscreen()
        _APP = app = QApplication(sys.argv[:1])  # kept: Qt needs it alive
    return app


def _quiet_offscreen() -> None:
    """Drop the off-screen platform's notice that a shown page has no window sizes.

    It is printed for every report drawn off-screen and means nothing here; every
    other Qt message still goes to stderr.
    """
    from PyQt6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(_kind: QtMsgType, _ctx: QMessageLogContext, message: str | None) -> None:
        if message and "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _output(out: Path | str) -> Path:
    """Check a report's file name and its folder before any drawing.

    Raises:
        ReportError: Not a .pdf or .png name.
        StorageError: The folder cannot be created or written to.
    """
    out = Path(out).expanduser().absolute()
    if out.suffix.lower() not in (".pdf", ".png"):
        raise ReportError(f"a report is written as .pdf or .png, not {out.name!r}")
    output_folder(out.parent, "the report's folder")
    return out


def _render(page: Any, out: Path) -> Path:
    """Render a page widget into ``out`` (.pdf or .png).

    The page is drawn into memory and then written with the exports' atomic writer,
    so Qt never opens the file: a folder that cannot be written gives one clear error
    (not Qt warnings), and a failure leaves no partial file.
    """
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPoint
    from PyQt6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise ReportError(f"a report is written as .pdf or .png, not {out.name!r}")
    page.resize(PAGE_W, PAGE_H)
    page.show()
    _app().processEvents()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if suffix == ".pdf":
        writer = QPdfWriter(buf)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0)))
        writer.setResolution(300)
        writer.setTitle(page.windowTitle())
        writer.setCreator("isogrip")
        painter = QPainter(writer)
        scale = writer.width() / PAGE_W
        painter.scale(scale, scale)
        page.render(painter, QPoint(0, 0))
        painter.end()
        del writer  # finishes the PDF into the buffer
    else:
        scale = PNG_DPI / 96
        img = QImage(int(PAGE_W * scale), int(PAGE_H * scale), QImage.Format.Format_RGB32)
        img.fill(0xFFFFFF)
        img.setDotsPerMeterX(int(PNG_DPI / 0.0254))
        img.setDotsPerMeterY(int(PNG_DPI / 0.0254))
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.scale(scale, scale)
        page.render(painter, QPoint(0, 0))
        painter.end()
        if not img.save(buf, "PNG"):
            raise ReportError(f"could not draw the report {out.name}")
    page.close()
    buf.close()
    content = bytes(data.data())

    def write(fh: IO[bytes]) -> None:
        fh.write(content)

    return write_atomic(out, write)


_SHEET = """
QWidget { background: #ffffff; color: #000000; font-size: 9pt; }
QLabel[role="title"] { font-size: 16pt; font-weight: 600; }
QLabel[role="heading"] { font-size: 11pt; font-weight: 600; margin-top: 6px; }
QLabel[role="muted"] { color: #333333; }
QTableWidget { border: 1px solid #888888; gridline-color: #aaaaaa; }
QHeaderView::section { background: #eeeeee; color: #000000; border: none;
    border-bottom: 1px solid #888888; padding: 3px; font-weight: 600; }
"""


def _page(title: str) -> tuple[Any, Any]:
    from PyQt6.QtWidgets import QVBoxLayout, QWidget

    _app()
    page = QWidget()
    page.setWindowTitle(title)
    page.setStyleSheet(_SHEET)
    lay = QVBoxLayout(page)
    lay.setContentsMargins(48, 40, 48, 36)
    lay.setSpacing(6)
    return page, lay


def _fit_table(t: Any) -> None:
    """Show every row and whole headers: a printed table cannot scroll."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QHeaderView

    row_h = 22
    t.verticalHeader().setDefaultSectionSize(row_h)
    for i in range(t.rowCount()):
        t.setRowHeight(i, row_h)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setFixedHeight((t.rowCount() + 1) * row_h + header.sizeHint().height()
                     + 2 * t.frameWidth())


def hold_table_rows(d: SessionData) -> list[tuple[str, ...]]:
    """The report's hold table: one row per hold attempt, each marked for what it was.

    Columns: hold (with the attempt when repeated), hand, outcome, time in band, mean
    % MVC, CV, drift, gaps.
    """
    from isogrip.types import Hand
    from isogrip.ui.common import fmt_num
    from isogrip.ui.summary_screen import hold_label, hold_outcome

    return [(
        hold_label(h), Hand(h.hand).label if h.hand else "", hold_outcome(h, d.holds),
        fmt_num(h.time_in_band_pct, 0, " %"), fmt_num(h.mean_pct_mvc, 1, " %"),
        fmt_num(h.cv_mean_pct, 1, " %"), fmt_num(h.drift_pct_mvc_per_min, 2),
        fmt_num(h.gap_s, 1, " s")) for h in d.holds]


def bp_check_line(store: Store, session_id: int) -> str:
    """The pre-session blood-pressure check in one sentence for a clinician, or ``""``."""
    for ev in store.load_events(session_id):
        if ev.kind != "bp_check":
            continue
        d = ev.detail
        pulse = f", pulse {d['pulse']}" if d.get("pulse") else ""
        reading = f"{d.get('sbp')}/{d.get('dbp')} mmHg{pulse}"
        limits = f"{d.get('sbp_limit')}/{d.get('dbp_limit')} mmHg"
        if d.get("trained_anyway"):
            return (f"Trained despite high blood pressure: {reading} before the session, at "
                    f"or above the limit of {limits}; the participant was advised not to "
                    "train and chose to continue.")
        return f"Blood pressure before the session: {reading} (limit {limits})."
    return ""


def session_report(store: Store, session_id: int, out: Path | str) -> Path:
    """Write one session's report page (.pdf or .png).

    Raises:
        ReportError: Unknown output type.
        SessionNotFoundError: No such session.
    """
    from isogrip.signal.units import Unit
    from isogrip.types import Hand
    from isogrip.ui.common import fill_table, fmt_num, label, table
    from isogrip.ui.force_trace import ForceTrace
    from isogrip.ui.summary_screen import hold_label, hold_outcome, load_session_data
    from isogrip.ui.theme import Palette

    out = _output(out)
    d = load_session_data(store, session_id)
    info = d.info
    proto = info.protocol
    page, lay = _page(f"isogrip session {info.id}")
    lay.addWidget(label(f"Session report \u00b7 {proto.get('title') or info.protocol_name}",
                        "title"))
    who = f"participant {info.participant}" if info.participant else "no participant ID"
    # A printed report may be read in another time zone: it says which one.
    started = local_time(info.started_at, LONG, zone=True)
    lay.addWidget(label(f"{started} \u00b7 {who} \u00b7 status: {info.status} \u00b7 device: "
                        f"{info.device} \u00b7 session {info.id} ({info.uuid[:8]})", "muted",
                        wrap=True))
    if proto.get("display_scale", 1.0) != 1.0:
        lay.addWidget(label(
            f"Blinded protocol: true target {proto.get('target_pct')} % MVC, shown to the "
            f"participant scaled by {proto.get('display_scale')}; every figure below is "
            "true (unscaled).", wrap=True))
    bp_line = bp_check_line(store, session_id)
    if bp_line:
        lay.addWidget(label(bp_line, "error" if "despite" in bp_line else "", wrap=True))

    lay.addWidget(label("Maximal voluntary contraction (MVC)", "heading"))
    trials = store.load_mvc_trials(session_id)
    mvc = {m.hand: m for m in d.mvc}
    rows: list[tuple[str, ...]] = []
    for tr in trials:
        chosen = mvc.get(tr.hand)
        best = chosen is not None and chosen.best_trial == tr.trial
        rows.append((Hand(tr.hand).label, str(tr.trial), fmt_num(tr.score_n and
                     tr.score_n / KGF_N, 1, " kg"), fmt_num(tr.time_to_peak_s, 2, " s"),
                     ("yes, best" if best else "yes") if tr.used else "no (repeated)",
                     tr.message or ""))
    for hand, m in sorted(mvc.items()):
        if "reused" in m.flags:
            rows.append((Hand(hand).label, "\u2014", fmt_num(m.mvc_n and m.mvc_n / KGF_N, 1,
                         " kg"), "", "reused", "MVC from an earlier session"))
    t = table(["Hand", "Trial", "Score", "Time to peak", "Used", "Note"])
    fill_table(t, rows)
    _fit_table(t)
    lay.addWidget(t)
    flags = [f"{Hand(h).label}: {', '.join(m.flags)}" for h, m in sorted(mvc.items())
             if m.flags and "reused" not in m.flags]
    chosen_txt = ", ".join(f"{Hand(h).label} {m.mvc_n / KGF_N:.1f} kg"
                           for h, m in sorted(mvc.items()) if m.mvc_n)
    lay.addWidget(label(f"MVC used: {chosen_txt or 'none'}"
                        + (f"  \u00b7  flags: {'; '.join(flags)}" if flags else ""), wrap=True))

    lay.addWidget(label("Holds", "heading"))
    t2 = table(["Hold", "Hand", "Outcome", "Time in band", "Mean % MVC", "CV",
                "Drift %MVC/min", "Gaps"])
    fill_table(t2, hold_table_rows(d))
    _fit_table(t2)
    lay.addWidget(t2)

    from PyQt6.QtWidgets import QGridLayout, QWidget

    grid_box = QWidget()
    grid = QGridLayout(grid_box)
    grid.setContentsMargins(0, 0, 0, 0)
    ink = Palette(background="#ffffff", panel="#ffffff", text="#000000", muted="#333333",
                  accent="#000000", green="#1e7d32", green_fill="#cfe9d2", amber="#b7790b",
                  amber_fill="#f5e6c4", out="#c4480c", stop="#b3261e", trace="#000000",
                  border="#888888")
    for i, (h, (tt, ff)) in enumerate(zip(d.holds, d.traces, strict=True)):
        plot = ForceTrace(unit="kg", compact=True)
        plot.set_palette(ink)
        plot.setFixedHeight(150)
        title = f"Hold {hold_label(h)} \u00b7 {Hand(h.hand).label if h.hand else ''}"
        if not h.completed:
            title += f" \u00b7 {hold_outcome(h, d.holds)}"
        plot.getPlotItem().setTitle(title, color="#000000", size="9pt")
        if h.band_low_n is not None and h.band_high_n is not None and h.target_n is not None:
            top = max(h.band_high_n * 1.6, float(np.nanmax(ff)) * 1.05 if len(ff) else 0.0)
            plot.set_band(h.target_n / KGF_N, (h.band_low_n / KGF_N, h.band_high_n / KGF_N),
                          None, top / KGF_N)
        plot.show_whole(tt, ff / Unit.KGF.newtons)
        grid.addWidget(plot, i // 2, i % 2)
    lay.addWidget(grid_box)

    notes = []
    gap_total = sum(h.gap_s or 0.0 for h in d.holds)
    if gap_total >= 0.5:
        notes.append(f"Signal gaps in holds: {gap_total:.1f} s in all (not scored).")
    for ev in store.load_events(session_id):
        if ev.kind in ("warning", "device_disconnected", "device_reconnected"):
            t_rel = (ev.t_s or 0.0) - info.t0_s
            notes.append(f"{_dt.timedelta(seconds=round(t_rel))}  {ev.kind}: "
                         f"{ev.detail.get('message', '')}")
    if info.note:
        notes.append(info.note)
    if d.starter_advice:
        notes.insert(0, d.starter_advice)
    lay.addWidget(label("Notes", "heading"))
    lay.addWidget(label("\n".join(notes[:12]) or "No gaps, warnings or disconnections.",
                        wrap=True))
    lay.addStretch(1)
    lay.addWidget(label("isogrip \u00b7 training software, not a medical device", "muted"))
    return _render(page, out)


def participant_report(store: Store, participant: str, out: Path | str,
                       weeks: int = 12) -> Path:
    """Write a participant's progress page: adherence, MVC, time in band, blood pressure.

    Raises:
        ReportError: Unknown output type, or the participant has no sessions.
    """
    import pyqtgraph as pg

    from isogrip.storage.history import mvc_trend, weekly_adherence
    from isogrip.types import Hand
    from isogrip.ui.common import label
    from isogrip.ui.history_screen import _plot, _stamp, set_date_range

    out = _output(out)
    sessions = store.list_sessions(participant)
    if not sessions:
        raise ReportError(f"participant {participant!r} has no sessions to report")
    page, lay = _page(f"isogrip progress {participant}")
    lay.addWidget(label(f"Progress report \u00b7 participant {participant}", "title"))
    done = [s for s in sessions if s.status == "complete"]
    lay.addWidget(label(f"Sessions: {len(sessions)} ({len(done)} complete), "
                        f"{local_time(sessions[0].started_at, DATE)} to "
                        f"{local_time(sessions[-1].started_at, DATE)} ({LOCAL_TIME})",
                        "muted"))
    ink = "#000000"

    weeks_data = weekly_adherence(sessions, weeks=weeks)
    p1 = _plot("Sessions per week (goal: 3)", "sessions", dates=False)
    x = np.arange(len(weeks_data), dtype=float)
    counts = np.array([w.sessions for w in weeks_data], float)
    p1.getPlotItem().addItem(pg.BarGraphItem(
        x=x, height=counts, width=0.7,
        brushes=["#1e7d32" if c >= 3 else "#bbbbbb" for c in counts]))
    p1.getPlotItem().addItem(pg.InfiniteLine(pos=3, angle=0, pen=pg.mkPen(ink, width=1,
                                             style=pg.QtCore.Qt.PenStyle.DashLine)))
    p1.getPlotItem().getAxis("bottom").setTicks(
        [[(float(i), w.week_start.strftime("%d %b")) for i, w in enumerate(weeks_data)]])
    met = sum(1 for w in weeks_data if w.met)
    lay.addWidget(p1)
    lay.addWidget(label(f"Goal of 3 sessions reached in {met} of the last {weeks} weeks.",
                        wrap=True))

    p2 = _plot("MVC (kg)", "kg")
    item = p2.getPlotItem()
    item.addLegend(offset=(10, 10))
    trend = mvc_trend(store, participant)
    for hand, symbol in ((Hand.LEFT, "o"), (Hand.RIGHT, "s")):
        pts = trend.get(hand, [])
        if pts:
            item.plot([_stamp(w) for w, _ in pts], [v / KGF_N for _, v in pts],
                      pen=pg.mkPen(ink, width=1), symbol=symbol, symbolBrush=ink,
                      name=f"{hand.label} hand")
    set_date_range(item, [_stamp(w) for pts in trend.values() for w, _ in pts])
    lay.addWidget(p2)

    p3 = _plot("Time in band per session (mean of completed holds, %)", "%")
    tib_x, tib_y = [], []
    for s in sessions:
        vals = [h.time_in_band_pct for h in store.load_holds(s.id)
                if h.completed and h.time_in_band_pct is not None]
        if vals:
            tib_x.append(_stamp(s.started_at))
            tib_y.append(float(np.mean(vals)))
    p3.getPlotItem().plot(tib_x, tib_y, pen=pg.mkPen(ink, width=1), symbol="o",
                          symbolBrush=ink)
    p3.getPlotItem().setYRange(0, 100)
    set_date_range(p3.getPlotItem(), tib_x)
    lay.addWidget(p3)

    readings = store.list_bp_readings(participant)
    p4 = _plot("Blood pressure (mmHg)", "mmHg")
    if readings:
        bx = [_stamp(r.taken_at) for r in readings]
        p4.getPlotItem().addLegend(offset=(10, 10))
        p4.getPlotItem().plot(bx, [r.sbp for r in readings], pen=pg.mkPen(ink, width=1),
                              symbol="t", symbolBrush=ink, name="systolic")
        p4.getPlotItem().plot(bx, [r.dbp for r in readings], pen=pg.mkPen("#555555", width=1),
                              symbol="t1", symbolBrush="#555555", name="diastolic")
        set_date_range(p4.getPlotItem(), bx)
        first, last = readings[0], readings[-1]
        bp_text = (f"{len(readings)} readings; first {first.sbp}/{first.dbp}, latest "
                   f"{last.sbp}/{last.dbp} mmHg.")
    else:
        bp_text = "No blood-pressure readings."
    lay.addWidget(p4)
    lay.addWidget(label(bp_text))
    for p in (p1, p2, p3, p4):
        p.setFixedHeight(190)
        p.getPlotItem().titleLabel.setText(p.getPlotItem().titleLabel.text, color=ink)
        for ax in ("left", "bottom"):
            p.getPlotItem().getAxis(ax).setTextPen(pg.mkPen(ink))
            p.getPlotItem().getAxis(ax).setPen(pg.mkPen(ink))
    lay.addStretch(1)
    lay.addWidget(label("isogrip \u00b7 training software, not a medical device", "muted"))
    return _render(page, out)
