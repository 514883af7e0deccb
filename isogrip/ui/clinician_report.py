"""The clinician page: one A4 sheet a doctor reads in a minute, printable in black and white.

Everything on it comes from the existing pure code: the programme's status
(:func:`isogrip.programme_status.load_view`), the home blood pressure per measurement
week (:func:`isogrip.programme.outcome.outcomes`), the advice sentences
(:func:`isogrip.home_bp.bp_advice`) and the stored sessions and MVCs. The words are
gathered first (:func:`clinician_content`, no Qt), then laid out (:func:`clinician_report`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isogrip.home_bp import EXPECTED_EFFECT, NOT_A_DIAGNOSIS, PeriodSummary, bp_advice
from isogrip.protocols.records import BpChecked
from isogrip.signal.units import KGF_N
from isogrip.storage.rows import BpReading, SessionRow
from isogrip.storage.session_records import load_records
from isogrip.storage.store import Store
from isogrip.timefmt import DATE, local_datetime, local_time
from isogrip.ui.report_page import FOOTER, INK, ReportError, checked_output, new_page, render

__all__ = ["BP_COLUMNS", "ClinicianContent", "clinician_content", "clinician_report"]

#: The columns of the blood-pressure table.
BP_COLUMNS = ("Week", "Dates", "Readings", "Average (mmHg)", "Category",
              "Change from baseline (95 % CI)", "Sessions done", "Time in band")
_MAX_STEPS = 8
_MAX_EVENTS = 8


@dataclass
class ClinicianContent:
    """The words and numbers of the clinician page.

    Attributes:
        participant: Participant ID (nothing else identifies the person).
        programme: Lines on the programme and adherence.
        bp_rows: Rows of the blood-pressure table (:data:`BP_COLUMNS`).
        weekly: (label, systolic, diastolic) averages for the plot.
        intensity: One line per intensity step.
        mvc: One line per hand: first and latest MVC.
        events: Notable events: stopped sessions, advice, trained despite high BP.
        notes: The closing notes (not a diagnosis, expected effect).
    """

    participant: str
    programme: list[str] = field(default_factory=list)
    bp_rows: list[tuple[str, ...]] = field(default_factory=list)
    weekly: list[tuple[str, float, float]] = field(default_factory=list)
    intensity: list[str] = field(default_factory=list)
    mvc: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Every text on the page, in order (table cells joined by `` | ``)."""
        out = [f"Participant {self.participant}", *self.programme]
        out += [" | ".join(BP_COLUMNS)] + [" | ".join(r) for r in self.bp_rows]
        return out + self.intensity + self.mvc + self.events + self.notes + [FOOTER]


def _bp_row(label: str, start: _dt.date, end: _dt.date, s: PeriodSummary, change: str,
            done: str, tib: str) -> tuple[str, ...]:
    """One row of the blood-pressure table."""
    category = s.category.label if s.category is not None else "-"
    return (label, f"{start:%d %b}\u2013{end:%d %b %Y}", str(s.n_readings), s.average_text(),
            category, change, done, tib)


def _programme_part(c: ClinicianContent, view: Any, tz: _dt.tzinfo, guideline: Any,
                    ) -> PeriodSummary | None:
    """Fill the programme, blood-pressure and intensity parts; the latest week's summary."""
    from isogrip.programme.outcome import outcomes

    st = view.status
    plan = st.plan
    training = st.training_week
    week = (f"training week {training} of {plan.training_weeks}" if training is not None
            else f"phase: {st.phase}")
    c.programme += [
        f"Programme started {st.started_on:%Y-%m-%d}: {plan.baseline_weeks} baseline "
        f"week(s), {plan.training_weeks} training weeks of {plan.sessions_per_week} "
        f"sessions; now {week}; training ends {st.training_ends:%Y-%m-%d}.",
        f"Adherence: {st.done_overall} of {st.planned_overall} planned sessions done; "
        f"missed weeks: {st.missed_weeks}. Current intensity {st.intensity_pct:g} % MVC "
        f"(aim {plan.target_pct:g} %)."]
    rows = outcomes(st, view.bp_readings, tz, guideline)
    for r in rows:
        tib = "-" if r.time_in_band_pct is None else f"{r.time_in_band_pct:.0f} %"
        c.bp_rows.append(_bp_row(str(r.week.number), r.week.start, r.week.end, r.summary,
                                 r.change_text(), str(r.sessions_done), tib))
        _add_weekly(c, f"wk {r.week.number}", r.summary)
    for step in view.steps[-_MAX_STEPS:]:
        pct = "" if step.intensity_pct is None else f"{step.intensity_pct:g} % MVC: "
        c.intensity.append(f"{local_time(step.recorded_at, DATE)}  {pct}{step.reason}")
    return rows[-1].summary if rows else None


def _add_weekly(c: ClinicianContent, label: str, s: PeriodSummary) -> None:
    """Add a week's averages to the plot's points when it has enough readings."""
    if s.enough and s.sbp_mean is not None and s.dbp_mean is not None:
        c.weekly.append((label, s.sbp_mean, s.dbp_mean))


def _calendar_part(c: ClinicianContent, readings: list[BpReading],
                   sessions: list[SessionRow], tz: _dt.tzinfo,
                   guideline: Any) -> PeriodSummary | None:
    """Without a programme: blood pressure per calendar week (Monday on)."""
    from isogrip.home_bp import summarise_period

    done = [s for s in sessions if s.status == "complete"]
    c.programme.append(f"No programme recorded. Sessions: {len(sessions)} "
                       f"({len(done)} complete).")
    days = sorted({local_datetime(r.taken_at).date() for r in readings})
    mondays = sorted({d - _dt.timedelta(days=d.weekday()) for d in days})
    last = None
    for start in mondays:
        end = start + _dt.timedelta(days=6)
        last = summarise_period(readings, tz, start=start, end=end, guideline=guideline)
        n = sum(1 for s in done if start <= local_datetime(s.started_at).date() <= end)
        c.bp_rows.append(_bp_row(f"{start:%d %b}", start, end, last, "-", str(n), "-"))
        _add_weekly(c, f"{start:%d %b}", last)
    return last


def _mvc_part(c: ClinicianContent, store: Store, participant: str) -> None:
    """First and latest MVC of each hand, kg."""
    rows = [m for m in store.list_mvc(participant) if not m.reused]
    for hand in sorted({m.hand for m in rows}):
        mine = [m for m in rows if m.hand == hand]
        first, last = mine[0], mine[-1]
        c.mvc.append(f"{hand.capitalize()} hand: first {first.mvc_n / KGF_N:.1f} kg "
                     f"({local_time(first.started_at, DATE)}), latest "
                     f"{last.mvc_n / KGF_N:.1f} kg ({local_time(last.started_at, DATE)}), "
                     f"{len(mine)} measured.")
    if not c.mvc:
        c.mvc.append("No MVC measured.")


def _events_part(c: ClinicianContent, store: Store, sessions: list[SessionRow],
                 latest: PeriodSummary | None) -> None:
    """Stopped sessions, training despite a high reading, and the advice shown."""
    for s in sessions:
        when = local_time(s.started_at, DATE)
        if s.status not in ("complete", "running"):
            c.events.append(f"{when}: session {s.id} {s.status}"
                            + (f" \u2013 {s.note}" if s.note else "."))
        for chk in load_records(store, s.id, BpChecked):
            if chk.trained_anyway:
                c.events.append(f"{when}: trained despite {chk.sbp}/{chk.dbp} mmHg "
                                f"(limits {chk.sbp_limit}/{chk.dbp_limit}).")
    c.events = c.events[-_MAX_EVENTS:]
    if latest is not None:
        c.events += [f"Advice shown for the latest week: {a}" for a in bp_advice(latest)]
    if not c.events:
        c.events.append("None.")


def clinician_content(store: Store, participant: str,
                      today: _dt.date | None = None) -> ClinicianContent:
    """Gather the clinician page's words for ``participant`` (read only, no Qt).

    Args:
        store: The database.
        participant: Participant ID.
        today: The local day to review for (default: today).

    Raises:
        ReportError: The participant has neither sessions nor blood-pressure readings.
    """
    from isogrip.cli.bp_summary import settings_guideline
    from isogrip.programme_status import load_view, participant_readings
    from isogrip.timefmt import SystemLocalTime

    today = today or _dt.date.today()
    sessions = [s for s in store.list_sessions(participant) if s.participant == participant]
    readings = participant_readings(store, participant)
    view = load_view(store, participant, today)
    if view is None and not sessions and not readings:
        raise ReportError(f"participant {participant!r} has nothing to report")
    tz, guideline = SystemLocalTime(), settings_guideline()
    c = ClinicianContent(participant)
    if view is not None:
        latest = _programme_part(c, view, tz, guideline)
    else:
        latest = _calendar_part(c, readings, sessions, tz, guideline)
    if not c.intensity:
        c.intensity.append("No intensity steps recorded.")
    _mvc_part(c, store, participant)
    _events_part(c, store, sessions, latest)
    c.notes = [NOT_A_DIAGNOSIS, EXPECTED_EFFECT]
    return c


def _weekly_plot(c: ClinicianContent) -> Any:
    """Weekly home SBP and DBP averages: black, solid and dashed, distinct markers."""
    import pyqtgraph as pg

    w = pg.PlotWidget(background="w")
    item = w.getPlotItem()
    item.setTitle("Weekly home average (mmHg)", color=INK)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=False, y=True, alpha=0.3)
    item.addLegend(offset=(-10, 5), labelTextColor=INK)
    x = list(range(len(c.weekly)))
    dash = pg.QtCore.Qt.PenStyle.DashLine
    item.plot(x, [p[1] for p in c.weekly], pen=pg.mkPen(INK, width=2), symbol="o",
              symbolBrush=INK, symbolPen=INK, name="systolic")
    item.plot(x, [p[2] for p in c.weekly], pen=pg.mkPen(INK, width=2, style=dash),
              symbol="s", symbolBrush="w", symbolPen=INK, name="diastolic")
    item.getAxis("bottom").setTicks([[(float(i), p[0]) for i, p in enumerate(c.weekly)]])
    for ax in ("left", "bottom"):
        item.getAxis(ax).setTextPen(pg.mkPen(INK))
        item.getAxis(ax).setPen(pg.mkPen(INK))
    item.setXRange(-0.5, len(x) - 0.5)
    w.setFixedHeight(170)
    return w


def _html_table(rows: list[tuple[str, ...]]) -> str:
    """The blood-pressure table as HTML: its cells wrap, so it always fits the page."""
    from html import escape

    def cells(tag: str, texts: tuple[str, ...]) -> str:
        return "".join(f"<{tag}>{escape(t)}</{tag}>" for t in texts)

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return ('<table border="1" cellspacing="0" cellpadding="3" width="100%" '
            f'style="border-collapse: collapse;"><tr>{cells("th", BP_COLUMNS)}</tr>'
            f"{body}</table>")


def _add_lines(lay: Any, heading: str, lines: list[str], role: str | None = None) -> None:
    """A heading and one wrapped label per line."""
    from isogrip.ui.common import label

    lay.addWidget(label(heading, "heading"))
    for text in lines:
        lay.addWidget(label(text, role, wrap=True))


def clinician_report(store: Store, participant: str, out: Path | str,
                     today: _dt.date | None = None) -> Path:
    """Write the clinician page for ``participant`` (.pdf or .png).

    Raises:
        ReportError: Unknown output type, or nothing to report.
    """
    from isogrip.ui.common import label

    out = checked_output(out)
    c = clinician_content(store, participant, today)
    page, lay = new_page(f"isogrip clinician summary {participant}")
    lay.addWidget(label(f"Handgrip training summary \u00b7 participant {participant}",
                        "title"))
    lay.addWidget(label(f"Printed {(today or _dt.date.today()):%Y-%m-%d}; dates are "
                        "local days.", "muted"))
    _add_lines(lay, "Programme and adherence", c.programme)
    lay.addWidget(label("Home blood pressure by week", "heading"))
    if c.bp_rows:
        lay.addWidget(label(_html_table(c.bp_rows), wrap=True, rich=True))
    else:
        lay.addWidget(label("No blood-pressure readings."))
    if c.weekly:
        lay.addWidget(_weekly_plot(c))
    _add_lines(lay, "Intensity over the programme", c.intensity)
    _add_lines(lay, "MVC per hand", c.mvc)
    _add_lines(lay, "Notable events", c.events)
    lay.addStretch(1)
    for note in c.notes:
        lay.addWidget(label(note, "muted", wrap=True))
    lay.addWidget(label(FOOTER, "muted"))
    return render(page, out)
