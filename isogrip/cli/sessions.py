"""``isogrip sessions``, ``export``, ``report`` and ``import``: the recorded sessions.

``sessions``, ``export`` and ``report`` only read: they open the database read-only
and leave it exactly as it was, a session left "running" by a crash included (the
next command that records marks it interrupted). ``import`` records.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from isogrip.cli.common import Subparsers, open_store
from isogrip.cli.session_ref import resolve_session
from isogrip.errors import IsogripError

if TYPE_CHECKING:
    from rich.console import Console

_SESSION_HELP = "session id, 'last', or the start of its uuid"


def register(subparsers: Subparsers) -> None:
    """Add ``sessions``, ``export``, ``report`` and ``import`` to the subcommands."""
    sessions = subparsers.add_parser("sessions", help="list recorded sessions")
    sessions.add_argument("--participant", default=None, metavar="ID")
    sessions.set_defaults(handler=list_sessions)

    export = subparsers.add_parser(
        "export", help="export a session (csv: samples.csv, events.csv, summary.json; "
        "parquet; edf; json), a participant's holds as one table, or a participant's "
        "blood pressure and grip strength as HL7 FHIR (--format fhir)")
    export.add_argument("session", nargs="?", default=None, help=_SESSION_HELP)
    export.add_argument("--participant", default=None, metavar="ID",
                        help="instead of one session: one row per hold across this "
                        "participant's sessions (parquet or csv); with --format fhir: "
                        "their blood pressure and grip strength")
    export.add_argument("--format", default=None,
                        choices=("csv", "parquet", "edf", "json", "fhir"),
                        help="file format (default: csv for a session, parquet for a "
                        "participant; fhir: a participant's blood-pressure readings and "
                        "grip MVCs as one FHIR R4 Bundle, participant-ID.fhir.json)")
    export.add_argument("--out", type=Path, required=True, help="output folder")
    export.set_defaults(handler=export_session)

    report = subparsers.add_parser("report", help="a printable report (.pdf or .png) of a "
                                   "session or of a participant's progress")
    report.add_argument("session", nargs="?", default=None, help=_SESSION_HELP)
    report.add_argument("--participant", default=None, metavar="ID",
                        help="instead of one session: progress over weeks")
    report.add_argument("--clinician", action="store_true",
                        help="with --participant: one A4 summary page for a doctor")
    report.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.png")
    report.set_defaults(handler=print_report)

    imp = subparsers.add_parser("import", help="read an exported session (csv set) into "
                                "the database")
    imp.add_argument("folder", type=Path, help="folder with samples.csv, events.csv, "
                     "summary.json")
    imp.set_defaults(handler=import_session)


def list_sessions(args: argparse.Namespace, console: Console) -> int:
    """``isogrip sessions``: a table of the recorded sessions (read-only)."""
    from rich.table import Table

    from isogrip.signal.units import Unit, from_newtons
    from isogrip.timefmt import LOCAL_TIME, local_time

    store = open_store(args, records=False)
    try:
        rows = store.list_sessions(participant=args.participant)
    finally:
        store.close()
    if not rows:
        console.print("No sessions recorded yet. Start one with: isogrip run")
        return 0
    table = Table(title=f"Sessions ({len(rows)})")
    for col in ("Id", f"Started ({LOCAL_TIME})", "Status", "Protocol", "Device",
                "Participant", "Holds", "MVC R (kg)", "MVC L (kg)", "Note"):
        table.add_column(col)

    def kg(v: float | None) -> str:
        return "-" if v is None else f"{from_newtons(v, Unit.KGF):.1f}"

    for r in rows:
        table.add_row(str(r.id), local_time(r.started_at), r.status,
                      r.protocol_name, r.device, r.participant or "-", str(r.n_holds_done),
                      kg(r.mvc_right_n), kg(r.mvc_left_n), r.note or "")
    console.print(table)
    return 0


def _one_of_session_or_participant(args: argparse.Namespace) -> None:
    if (args.session is None) == (args.participant is None):
        raise IsogripError("give either a session (e.g. 'last') or --participant ID")


def export_session(args: argparse.Namespace, console: Console) -> int:
    """``isogrip export``: a session's files, a participant's holds or FHIR (read-only)."""
    from isogrip.storage.export_formats import export, export_participant

    if args.format == "fhir":
        return _export_fhir(args, console)
    _one_of_session_or_participant(args)
    store = open_store(args, records=False)
    try:
        if args.participant is not None:
            paths = export_participant(store, args.participant, args.out,
                                       args.format or "parquet")
        else:
            session_id = resolve_session(store, args.session)
            paths = export(store, session_id, args.out, args.format or "csv")
    finally:
        store.close()
    for p in paths:
        console.print(str(p), highlight=False)
    return 0


def _export_fhir(args: argparse.Namespace, console: Console) -> int:
    """``isogrip export --participant ID --format fhir``: one FHIR Bundle (read-only)."""
    from isogrip.storage.fhir_export import write_fhir

    if args.participant is None or args.session is not None:
        raise IsogripError("--format fhir exports one participant's data: give "
                           "--participant ID and no session")
    store = open_store(args, records=False)
    try:
        result = write_fhir(store, args.participant, args.out)
    finally:
        store.close()
    console.print(str(result.path), highlight=False)
    if result.skipped:
        console.print(f"{result.skipped} stored row(s) with an unreadable time or value "
                      "were left out (the database keeps them).", highlight=False)
    return 0


def print_report(args: argparse.Namespace, console: Console) -> int:
    """``isogrip report``: a PDF or PNG of a session or of progress (read-only)."""
    from isogrip.ui.report import participant_report, session_report  # Qt, on demand

    if args.clinician and args.participant is None:
        raise IsogripError("--clinician needs --participant ID (it summarises a participant)")
    _one_of_session_or_participant(args)
    store = open_store(args, records=False)
    try:
        if args.clinician:
            from isogrip.ui.clinician_report import clinician_report

            path = clinician_report(store, args.participant, args.out)
        elif args.participant is not None:
            path = participant_report(store, args.participant, args.out)
        else:
            path = session_report(store, resolve_session(store, args.session), args.out)
    finally:
        store.close()
    console.print(str(path), highlight=False)
    return 0


def import_session(args: argparse.Namespace, console: Console) -> int:
    """``isogrip import``: an exported csv set becomes a new session."""
    from isogrip.storage.importer import import_session as import_folder

    store = open_store(args, records=True)
    try:
        sid = import_folder(store, args.folder)
    finally:
        store.close()
    console.print(f"Imported as session {sid}.", highlight=False)
    return 0
