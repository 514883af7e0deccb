"""``isogrip programme``: start, follow and end a training programme; its calendar.

``start`` and ``end`` write to the database; ``status`` and ``calendar`` only read
(the database is opened read-only, so the steps shown are derived from the sessions
and recorded by the next command that writes, such as ``run``). What a programme is
and how it decides: :mod:`isogrip.programme`; the numbers and their sources:
docs/science.md.

This module is imported to build the parser, so its functions import what they need.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isogrip.cli.common import Subparsers, open_store
from isogrip.errors import IsogripError

if TYPE_CHECKING:
    from rich.console import Console

    from isogrip.programme.outcome import WeekOutcome
    from isogrip.programme_status import ProgrammeView
    from isogrip.protocols.model import Protocol


def register(subparsers: Subparsers) -> None:
    """Add ``programme`` and its actions to the ``isogrip`` subcommands."""
    prog = subparsers.add_parser(
        "programme", help="a training programme: weeks of sessions and blood pressure")
    actions = prog.add_subparsers(dest="programme_command", metavar="ACTION",
                                  required=True)
    start = actions.add_parser("start", help="start a programme: a baseline blood-pressure "
                               "week, then training weeks, then maintenance")
    start.add_argument("--weeks", type=int, default=8, metavar="N",
                       help="training weeks (default: 8)")
    start.add_argument("--sessions-per-week", type=int, default=3, metavar="N",
                       help="sessions in a training week (default: 3)")
    start.add_argument("--protocol", default=None, metavar="NAME",
                       help="session protocol (default: the standard 4 x 2 min)")
    start.add_argument("--start", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="first day (default: today)")
    start.set_defaults(handler=start_programme)
    status = actions.add_parser("status", help="where your programme stands and what "
                                "is due")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=programme_status)
    cal = actions.add_parser("calendar", help="write the plan as a calendar file (.ics) "
                             "for any calendar app")
    cal.add_argument("--out", type=Path, required=True, metavar="FILE.ics")
    cal.add_argument("--time", type=_time, default=_dt.time(10, 0), metavar="HH:MM",
                     help="when sessions are suggested (default: 10:00)")
    cal.set_defaults(handler=programme_calendar)
    end = actions.add_parser("end", help="end the programme (everything stays recorded)")
    end.set_defaults(handler=end_programme)
    for action in (start, status, cal, end):
        action.add_argument("--participant", default=None, metavar="ID")


def _date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a date as YYYY-MM-DD, got {text!r}") from None


def _time(text: str) -> _dt.time:
    try:
        return _dt.time.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a time as HH:MM, got {text!r}") from None


def _today() -> _dt.date:
    return _dt.datetime.now().astimezone().date()


def start_programme(args: argparse.Namespace, console: Console) -> int:
    """``isogrip programme start``: store a new programme and say what comes first."""
    from isogrip.programme.plan import ProgrammePlan
    from isogrip.programme_status import load_view, programme_protocol
    from isogrip.protocols import sentences
    from isogrip.protocols.loader import DEFAULT_PROTOCOL, load_protocol

    protocol = load_protocol(args.protocol or DEFAULT_PROTOCOL)
    plan = ProgrammePlan(protocol_name=protocol.name, training_weeks=args.weeks,
                         sessions_per_week=args.sessions_per_week)
    programme_protocol(protocol, plan, plan.target_pct)  # refuses a sham
    today = _today()
    started_on = args.start or today
    if not today - _dt.timedelta(days=365) <= started_on <= today + _dt.timedelta(days=60):
        raise IsogripError(f"the first day must be within a year before and 60 days after "
                           f"today, got {started_on}")
    store = open_store(args, records=True)
    try:
        store.programmes.start(
            plan, participant=args.participant, started_on=started_on,
            now=_dt.datetime.now(_dt.UTC),
            reason=sentences.programme_started(plan.training_weeks,
                                               plan.sessions_per_week, protocol.name))
        view = load_view(store, args.participant, today)
    finally:
        store.close()
    assert view is not None  # just started
    console.print(f"Programme started on {started_on}.", highlight=False)
    _print_lines(console, view)
    return 0


def programme_status(args: argparse.Namespace, console: Console) -> int:
    """``isogrip programme status``: the week, adherence, what is due, what changed."""
    view = _read_view(args)
    if view is None:
        if args.json:
            print(json.dumps({"programme": None}))
        else:
            console.print("No programme yet. Start one with: isogrip programme start",
                          highlight=False)
        return 0
    if args.json:
        print(json.dumps(status_json(view), indent=2, ensure_ascii=False))
        return 0
    _print_lines(console, view)
    if view.steps:
        console.print("What changed, and why:", highlight=False)
        for step in view.steps:
            console.print(f"  {step.recorded_at[:10]}  {step.reason}", highlight=False)
    _print_outcome(console, view)
    return 0


def _outcome(view: ProgrammeView) -> list[WeekOutcome]:
    from isogrip.cli.bp_summary import settings_guideline
    from isogrip.programme_status import view_outcome

    return view_outcome(view, settings_guideline())


def _print_outcome(console: Console, view: ProgrammeView) -> None:
    """Home blood pressure per measurement week, beside the training done by then."""
    from rich.table import Table

    from isogrip.home_bp import EXPECTED_EFFECT, MIN_READINGS, NOT_A_DIAGNOSIS, bp_advice
    from isogrip.home_bp.sentences import baseline_too_few

    rows = _outcome(view)
    if not rows:
        return
    table = Table(title="Home blood pressure by measurement week")
    for col in ("Week", "Readings", "Average (mmHg)", "Change from baseline (95 % range)",
                "Sessions done", "Time in band"):
        table.add_column(col)
    for r in rows:
        tib = "-" if r.time_in_band_pct is None else f"{r.time_in_band_pct:.0f} %"
        table.add_row(f"{r.week.number} ({r.week.start:%d %b})", str(r.summary.n_readings),
                      r.summary.average_text(), r.change_text(), str(r.sessions_done), tib)
    console.print(table)
    baseline = rows[0].summary
    if rows[0].week.kind == "baseline" and not baseline.enough:
        console.print(baseline_too_few(baseline.n_readings, MIN_READINGS), highlight=False)
    for advice in bp_advice(rows[-1].summary):
        console.print(advice, style="bold", highlight=False)
    console.print(EXPECTED_EFFECT, highlight=False)
    console.print(NOT_A_DIAGNOSIS, highlight=False)


def programme_calendar(args: argparse.Namespace, console: Console) -> int:
    """``isogrip programme calendar --out plan.ics``: the plan for a calendar app."""
    from isogrip.files import write_atomic_bytes
    from isogrip.programme.calendar import programme_calendar as ics

    view = _read_view(args)
    if view is None:
        raise IsogripError("no programme to write; start one with: isogrip programme start")
    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".ics":
        raise IsogripError(f"the calendar file must end in .ics, got {out.name!r}")
    data = ics(view.status, programme_id=view.row.id, session_time=args.time,
               stamp=_dt.datetime.now(_dt.UTC))
    write_atomic_bytes(out, data)
    console.print(f"Wrote {out} ({data.count(b'BEGIN:VEVENT')} events). Open it with your "
                  "calendar app to add the sessions and blood-pressure days.",
                  highlight=False)
    return 0


def end_programme(args: argparse.Namespace, console: Console) -> int:
    """``isogrip programme end``: mark the programme ended; its record stays."""
    store = open_store(args, records=True)
    try:
        row = store.programmes.active(args.participant)
        if row is None:
            raise IsogripError("there is no programme to end")
        store.programmes.end(row.id, _dt.datetime.now(_dt.UTC))
    finally:
        store.close()
    console.print(f"The programme started on {row.started_on} is ended; everything "
                  "recorded stays.", highlight=False)
    return 0


def _read_view(args: argparse.Namespace) -> ProgrammeView | None:
    from isogrip.programme_status import load_view

    store = open_store(args, records=False)
    try:
        return load_view(store, args.participant, _today())
    finally:
        store.close()


def _print_lines(console: Console, view: ProgrammeView) -> None:
    from isogrip.programme.words import status_lines

    for line in status_lines(view.status):
        console.print(line, highlight=False)


def status_json(view: ProgrammeView) -> dict[str, Any]:
    """The status as one JSON-ready object (``programme status --json``)."""
    s = view.status
    w = s.current

    def day(d: _dt.date | None) -> str | None:
        return None if d is None else d.isoformat()

    return {
        "programme": {"id": view.row.id, "participant": view.row.participant,
                      "started_on": day(s.started_on), "plan": s.plan.to_json()},
        "today": day(s.today), "phase": s.phase,
        "programme_week": None if w is None else w.number,
        "training_week": s.training_week, "training_weeks": s.plan.training_weeks,
        "training_ends": day(s.training_ends), "missed_weeks": s.missed_weeks,
        "this_week": None if w is None else {"done": w.done, "planned": w.planned,
                                             "bp_week": w.bp_week},
        "overall": {"done": s.done_overall, "planned": s.planned_overall},
        "intensity_pct": s.intensity_pct,
        "next_session": day(s.next_session), "next_bp": day(s.next_bp),
        "steps": [{"recorded_at": st.recorded_at, "kind": st.kind,
                   "intensity_pct": st.intensity_pct, "session_id": st.session_id,
                   "reason": st.reason} for st in view.steps],
        "outcome": [o.to_json() for o in _outcome(view)],
        "weeks": [{"number": wk.number, "start": day(wk.start), "kind": wk.kind.value,
                   "counted": wk.counted, "bp_week": wk.bp_week, "planned": wk.planned,
                   "done": wk.done, "missed": wk.missed}
                  for wk in s.weeks if wk.start <= s.today or wk.kind != "maintenance"],
    }


def session_protocol(args: argparse.Namespace, console: Console
                     ) -> tuple[str | Protocol, ProgrammeView | None]:
    """The protocol for ``run``: ``--protocol`` if given, else the programme's step.

    Returns:
        The protocol (or its name) and the programme as it stood before the session
        (``None`` without one, or when ``--protocol`` was given).
    """
    from isogrip.programme_status import programme_protocol
    from isogrip.protocols.loader import DEFAULT_PROTOCOL, load_protocol

    if args.protocol is not None:
        return args.protocol, None
    view = _read_view(args)
    if view is None:
        return DEFAULT_PROTOCOL, None
    s = view.status
    protocol = programme_protocol(load_protocol(s.plan.protocol_name), s.plan,
                                  s.intensity_pct)
    where = f"training week {s.training_week}" if s.training_week else s.phase
    console.print(f"Your programme ({where}): today's target is {s.intensity_pct:g} % of "
                  "your maximum.", highlight=False)
    return protocol, view


def tell_new_steps(args: argparse.Namespace, console: Console,
                   before: ProgrammeView | None) -> None:
    """After a session: record the programme's new steps and say each in a sentence."""
    from isogrip.programme_status import load_view

    if before is None:
        return
    store = open_store(args, records=True)
    try:
        after = load_view(store, args.participant, _today(), record=True)
    finally:
        store.close()
    if after is None:
        return
    known = {(s.kind, s.session_id, s.reason) for s in before.steps}
    for step in after.steps:
        if (step.kind, step.session_id, step.reason) not in known:
            console.print(step.reason, highlight=False)
