"""``isogrip bp summary``: the home blood pressure average of a period, as guidelines ask.

The rule (first local day left out, every other reading averaged, at least 12
readings for a decision) and the categories are :mod:`isogrip.home_bp`; this module
only reads the log (read-only), picks the period and prints. Dates are local
calendar dates, both ends included; the default period is the last 7 days ending
today. The guideline comes from ``--guideline`` or the settings file
(``bp_guideline``, default ``esh-2023``).

``--json`` prints exactly one JSON object: the summary's
:meth:`~isogrip.home_bp.PeriodSummary.to_json` plus ``participant`` and ``advice``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from typing import TYPE_CHECKING

from isogrip.cli.common import Subparsers
from isogrip.errors import IsogripError
from isogrip.timefmt import SystemLocalTime

if TYPE_CHECKING:
    from rich.console import Console

    from isogrip.home_bp import PeriodSummary
    from isogrip.home_bp.categories import Guideline
    from isogrip.storage.rows import BpReading

#: The default period: this many local days, ending today.
DEFAULT_DAYS = 7
#: How a date is typed (``date.fromisoformat`` alone would also take 20260105 and
#: week dates such as 2026-W02-1).
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BpSummaryError(IsogripError, ValueError):
    """The period or participant asked for cannot be summarised (the message says why)."""


def add_summary_parser(actions: Subparsers) -> None:
    """Add ``summary`` to the ``bp`` actions (its options when it is used)."""
    actions.add_parser(
        "summary", help="your home average for a period, as the guidelines ask "
        "(the first day left out; at least 12 readings)", add_options=_add_summary_options)


def _add_summary_options(p: argparse.ArgumentParser) -> None:
    """The options of ``bp summary``: ``--guideline`` lists :mod:`isogrip.home_bp`'s."""
    from isogrip.home_bp.categories import Guideline

    p.add_argument("--from", dest="start", default=None, metavar="DATE",
                   help=f"first day, YYYY-MM-DD (default: {DEFAULT_DAYS - 1} days before "
                   "--to)")
    p.add_argument("--to", dest="end", default=None, metavar="DATE",
                   help="last day, YYYY-MM-DD, included (default: today)")
    p.add_argument("--participant", default=None, metavar="ID")
    p.add_argument("--guideline", default=None, choices=[g.value for g in Guideline],
                   help="whose categories (default: the settings file's bp_guideline, "
                   "esh-2023 unless changed)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def parse_day(text: str, option: str) -> _dt.date:
    """A local date typed as ``YYYY-MM-DD``.

    Raises:
        BpSummaryError: Anything else (one line saying what was typed).
    """
    from isogrip.bp_check import shown

    try:
        if not _DATE_RE.fullmatch(text.strip()):
            raise ValueError(text)
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BpSummaryError(f"{option} must be a date written YYYY-MM-DD, such as "
                             f"2026-01-05; got {shown(text)}") from None


def period(start: str | None, end: str | None, today: _dt.date) -> tuple[_dt.date, _dt.date]:
    """The first and last local day asked for (the defaults filled in).

    Raises:
        BpSummaryError: A date is not ``YYYY-MM-DD``, or ``--from`` is after ``--to``.
    """
    last = today if end is None else parse_day(end, "--to")
    first = last - _dt.timedelta(days=DEFAULT_DAYS - 1) if start is None else (
        parse_day(start, "--from"))
    if first > last:
        raise BpSummaryError(f"--from ({first.isoformat()}) is after --to "
                             f"({last.isoformat()}); give the earlier date first")
    return first, last


def settings_guideline() -> Guideline:
    """The guideline in the settings file (its default when the file is missing)."""
    from isogrip.home_bp.categories import Guideline
    from isogrip.settings import load_settings

    settings, _ = load_settings()
    return Guideline(settings.bp_guideline)


def one_participant(readings: list[BpReading], tz: _dt.tzinfo, first: _dt.date,
                    last: _dt.date) -> None:
    """Refuse to average readings of several people together.

    Raises:
        BpSummaryError: The readings of the period belong to more than one participant.
    """
    from isogrip.home_bp import HomeReading

    ids = sorted({r.participant or "(none)" for r in readings
                  if first <= HomeReading.from_row(r).taken_at.astimezone(tz).date() <= last})
    if len(ids) > 1:
        raise BpSummaryError(f"these readings belong to {len(ids)} participants "
                             f"({', '.join(ids[:5])}); choose one with --participant")


def run_summary(args: argparse.Namespace, console: Console) -> int:
    """Run ``isogrip bp summary`` (read-only)."""
    from isogrip.cli.common import open_store
    from isogrip.home_bp import bp_advice, summarise_period
    from isogrip.home_bp.categories import Guideline
    from isogrip.ids import participant_or_none

    participant = participant_or_none(args.participant)  # an ID, never a name
    tz = SystemLocalTime()
    first, last = period(args.start, args.end, _dt.datetime.now(tz).date())
    guideline = Guideline(args.guideline) if args.guideline else settings_guideline()
    # A day of margin on the lower bound: the local day is decided by home_bp.
    since = _dt.datetime.combine(first - _dt.timedelta(days=1), _dt.time(), tzinfo=tz)
    store = open_store(args, records=False)
    try:
        readings = store.list_bp_readings(participant, since=since)
    finally:
        store.close()
    if participant is None:
        one_participant(readings, tz, first, last)
    summary = summarise_period(readings, tz, start=first, end=last, guideline=guideline)
    advice = bp_advice(summary)
    if args.json:
        out = {**summary.to_json(), "participant": participant, "advice": advice}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, allow_nan=False) + "\n")
        return 0
    show_summary(console, summary, advice)
    return 0


def show_summary(console: Console, s: PeriodSummary, advice: list[str]) -> None:
    """The summary as a short table and plain sentences."""
    from rich.table import Table
    from rich.text import Text

    from isogrip.home_bp import EXPECTED_EFFECT, NOT_A_DIAGNOSIS

    console.print(Text(f"Home blood pressure, {s.start} to {s.end}", style="bold"))
    if s.sbp_mean is not None and s.dbp_mean is not None:
        table = Table(show_header=False, box=None, padding=(0, 2))
        # One decimal: 134.6 shown as 135 would contradict "below 135/85".
        table.add_row("Average", Text(f"{s.sbp_mean:.1f}/{s.dbp_mean:.1f} mmHg",
                                      style="bold"))
        if s.pulse_mean is not None:
            table.add_row("Pulse", f"{s.pulse_mean:.0f} per minute")
        table.add_row("Readings", f"{s.n_readings} on {s.n_days} "
                      f"day{'' if s.n_days == 1 else 's'}")
        if s.category is not None:
            table.add_row(f"Category ({s.guideline.label}, home)", s.category.label)
        console.print(table)
    console.print(s.message, highlight=False)
    if s.category is not None:
        console.print(NOT_A_DIAGNOSIS, highlight=False)
    for sentence in advice:
        console.print(Text(sentence, style="bold"))
    if s.enough:
        console.print(EXPECTED_EFFECT, highlight=False)
