"""The ``isogrip`` command line.

User errors (unknown device or protocol, bad protocol file, unusable data folder)
print one clear line and exit with status 2; no traceback.

Much of what the CLI prints comes from files and devices (protocol titles, device
names, notes, paths), so its console prints text literally: rich markup and emoji
codes are off (see :func:`make_console`), and the few styled words are
:class:`~rich.text.Text` built here.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from isogrip import __version__
from isogrip.errors import IsogripError
from isogrip.protocols.events import Command, EventKind
from isogrip.protocols.loader import DEFAULT_PROTOCOL, builtin_protocols
from isogrip.signal.units import Unit, from_newtons
from isogrip.terminal_keys import HELP as KEY_HELP
from isogrip.terminal_keys import key_reader
from isogrip.timefmt import LOCAL_TIME, local_time
from isogrip.types import Hand

if TYPE_CHECKING:
    from isogrip.protocols.model import Protocol
    from isogrip.runtime import SessionRuntime
    from isogrip.storage.store import Store

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: How long Ctrl-C waits for the session to close cleanly, s.
SHUTDOWN_WAIT_S = 15.0


def _speed(text: str) -> float | None:
    if text.strip().lower() in ("max", "inf", "fastest"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"speed must be a number or 'max', got {text!r}"
        ) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be greater than 0, got {text!r}")
    return value


def _mvc_pair(text: str) -> dict[Hand, float]:
    from isogrip.signal.units import KGF_N

    try:
        left, right = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give the left and right maximum in kg, e.g. 30.5,32; got {text!r}") from None
    if not (0 < left < 200 and 0 < right < 200):
        raise argparse.ArgumentTypeError(f"maxima must be between 0 and 200 kg, got {text!r}")
    return {Hand.LEFT: left * KGF_N, Hand.RIGHT: right * KGF_N}


def _unit(text: str) -> Unit:
    try:
        return Unit.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="isogrip",
        description="Isometric handgrip training: measure your maximal grip, then hold "
        "30 % of it for 4 x 2 minutes with live feedback. Not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"isogrip {__version__}")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="data folder (default: $ISOGRIP_DATA_DIR or your user data folder)",
    )
    parser.add_argument(
        "--new-database", action="store_true",
        help="move a damaged database aside (it is kept) and start a new, empty one")
    parser.add_argument(
        "--yes", action="store_true",
        help="with --new-database: set the database aside even though it is not damaged")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_run_options(p: argparse.ArgumentParser, device: str, speed: str) -> None:
        p.add_argument("--device", default=device,
                       help="device spec: sim, sim:fatigue?seed=3 ... (default: %(default)s)")
        p.add_argument("--protocol", default=DEFAULT_PROTOCOL,
                       help="built-in protocol name or path to a .toml file "
                       "(default: %(default)s)")
        p.add_argument("--participant", default=None, metavar="ID",
                       help="participant ID stored with the session (an ID, not a name)")
        p.add_argument("--speed", type=_speed, default=_speed(speed),
                       help="1 = real time, N = N times faster, max = as fast as possible "
                       "(simulated device only; default: %(default)s)")
        p.add_argument("--headless", action="store_true",
                       help="no live view; print the summary at the end")
        p.add_argument("--reuse-mvc", type=_mvc_pair, default=None, metavar="LEFT,RIGHT",
                       help="maximal grip per hand in kg from a recent session: skip the "
                       "maximal squeezes (e.g. 30.5,32)")
        p.add_argument("--dominant", choices=[h.value for h in Hand], default="right",
                       help="your dominant hand (for single-hand protocols)")
        p.add_argument("--units", type=_unit, default=Unit.KGF,
                       help="units shown: kg, N or lb (default: kg)")
        p.add_argument("--lsl", action="store_true",
                       help="stream force and events live over Lab Streaming Layer "
                       "(needs the 'lsl' extra: pip install 'isogrip[lsl]')")
        p.add_argument("--no-tare", action="store_true",
                       help="do not zero the device before starting")
        p.add_argument("--bp", default=None, metavar="SBP/DBP",
                       help="blood pressure measured before the session, e.g. 128/82 "
                       "(asked for in the live view when not given)")
        p.add_argument("--pulse", type=int, default=None, help="pulse with --bp, per minute")
        p.add_argument("--train-anyway", action="store_true",
                       help="train although --bp is at or above the limits in the "
                       "settings (only if your doctor has told you this is safe)")

    run = sub.add_parser("run", help="run a training session")
    add_run_options(run, "sim", "1")
    demo = sub.add_parser("demo", help="a full session with the simulated device")
    add_run_options(demo, "sim:good", "1")
    demo.add_argument("--terminal", action="store_true",
                      help="use the terminal view even where a display exists")
    gui = sub.add_parser("gui", help="open the desktop app (the default command)")
    gui.add_argument("--device", default=None, help="device spec to preselect, e.g. sim")
    gui.add_argument("--speed", type=_speed, default=1.0,
                     help="clock speed of simulated sessions (default: real time)")
    sessions = sub.add_parser("sessions", help="list recorded sessions")
    sessions.add_argument("--participant", default=None, metavar="ID")
    export = sub.add_parser(
        "export", help="export a session (csv: samples.csv, events.csv, summary.json; "
        "parquet; edf; json) or a participant's holds as one table")
    export.add_argument("session", nargs="?", default=None,
                        help="session id, 'last', or the start of its uuid")
    export.add_argument("--participant", default=None, metavar="ID",
                        help="instead of one session: one row per hold across this "
                        "participant's sessions (parquet or csv)")
    export.add_argument("--format", default=None, choices=("csv", "parquet", "edf", "json"),
                        help="file format (default: csv for a session, parquet for a "
                        "participant)")
    export.add_argument("--out", type=Path, required=True, help="output folder")
    report = sub.add_parser("report", help="a printable report (.pdf or .png) of a "
                            "session or of a participant's progress")
    report.add_argument("session", nargs="?", default=None,
                        help="session id, 'last', or the start of its uuid")
    report.add_argument("--participant", default=None, metavar="ID",
                        help="instead of one session: progress over weeks")
    report.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.png")
    imp = sub.add_parser("import", help="read an exported session (csv set) into the "
                         "database")
    imp.add_argument("folder", type=Path, help="folder with samples.csv, events.csv, "
                     "summary.json")
    bp = sub.add_parser("bp", help="blood-pressure log")
    bp_sub = bp.add_subparsers(dest="bp_command", metavar="ACTION", required=True)
    bp_add = bp_sub.add_parser("add", help="add a reading, e.g. 'isogrip bp add 128/82 "
                               "--pulse 64'")
    bp_add.add_argument("reading", help="systolic/diastolic in mmHg, e.g. 128/82")
    bp_add.add_argument("--pulse", type=int, default=None, help="beats per minute")
    bp_add.add_argument("--participant", default=None, metavar="ID")
    bp_add.add_argument("--context", choices=("pre", "post", "rest"), default="rest",
                        help="before or after a session, or at rest (default: rest)")
    bp_read = bp_sub.add_parser("read", help="read a Bluetooth blood-pressure cuff "
                                "(standard 0x1810) and add its readings")
    bp_read.add_argument("--address", default=None, help="the cuff's address (default: "
                         "the first cuff found)")
    bp_read.add_argument("--timeout", type=float, default=15.0, metavar="S",
                         help="stop after this long without a new reading")
    bp_read.add_argument("--participant", default=None, metavar="ID")
    bp_read.add_argument("--context", choices=("pre", "post", "rest"), default="rest")
    bp_list = bp_sub.add_parser("list", help="list the readings")
    bp_list.add_argument("--participant", default=None, metavar="ID")
    bp_csv = bp_sub.add_parser("import", help="add readings from a CSV file with columns "
                               "taken_at,sbp,dbp[,pulse][,context]")
    bp_csv.add_argument("file", type=Path)
    bp_csv.add_argument("--participant", default=None, metavar="ID")
    sub.add_parser("protocols", help="list the built-in protocols and their parameters")
    scan = sub.add_parser("scan", help="list nearby force devices")
    scan.add_argument("--timeout", type=float, default=5.0, metavar="S",
                      help="seconds to listen (default: %(default)s)")
    scan.add_argument("--all", action="store_true", help="also list unknown devices")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``isogrip`` command.

    Returns:
        The process exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    console = make_console()
    try:
        if args.new_database:
            from isogrip.storage.paths import database_path, default_data_dir
            from isogrip.storage.recovery import start_new_database

            moved = start_new_database(database_path(args.data_dir or default_data_dir()),
                                       confirmed=args.yes)
            if moved is not None:
                print(f"isogrip: the old database was moved to {moved}; a new one is "
                      "started.", file=sys.stderr)
        if args.command in (None, "gui") or (args.command == "demo" and not args.terminal
                                             and not args.headless):
            from isogrip.ui.app import display_available

            if display_available():
                return _gui(args)
            if args.command != "demo":
                print("isogrip: no display found, so the desktop app cannot open here. "
                      "Use the commands below (e.g. 'isogrip run').", file=sys.stderr)
                parser.print_help()
                return 0 if args.command is None else 2
        if args.command in ("run", "demo"):
            return _run(args, console)
        if args.command == "sessions":
            return _sessions(args, console)
        if args.command == "export":
            return _export(args, console)
        if args.command == "report":
            return _report(args, console)
        if args.command == "import":
            return _import(args, console)
        if args.command == "bp":
            from isogrip.bp_cli import run_bp

            store = _open_store(args)
            try:
                return run_bp(args, store, console)
            finally:
                store.close()
        if args.command == "protocols":
            return _protocols(console)
        if args.command == "scan":
            return _scan(args, console)
        parser.print_help()
        return 0
    except IsogripError as exc:
        print(f"isogrip: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("isogrip: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def make_console() -> Console:
    """The CLI's console: every string is shown as it is, never read as markup.

    Without this a protocol titled ``Study A [/] week 2`` would stop a session with
    a markup error, ``[sham]`` in a title would vanish, and ``:fire:`` in a note
    would turn into an emoji. Styles are given with :class:`~rich.text.Text`.
    """
    console = Console(markup=False, emoji=False)
    if not console.is_terminal:
        # Piped output: do not wrap tables at 80 columns.
        console = Console(markup=False, emoji=False, width=160)
    return console


def _gui(args: argparse.Namespace) -> int:
    from isogrip.ui.app import run_app  # Qt is imported only for the desktop app

    device = getattr(args, "device", None)  # demo: "sim:good" unless given
    return run_app(data_dir=args.data_dir, device=device, speed=getattr(args, "speed", 1.0))


def _answer_or_empty(console: Console) -> Callable[[str], str]:
    """Ask at the terminal; the end of input (Ctrl-D) counts as pressing Enter.

    Enter means "skip" for the blood-pressure question and "stop" for the question
    after a high reading, so a closed input never starts training by itself.
    """
    def ask(prompt: str) -> str:
        try:
            return console.input(prompt)
        except EOFError:
            console.print()
            return ""

    return ask


def _run(args: argparse.Namespace, console: Console) -> int:
    from isogrip.bp_cli import pre_session_check, settings_limits
    from isogrip.runtime import SessionConfig, SessionRuntime  # heavy imports on demand

    interactive = not args.headless and console.is_terminal and sys.stdin.isatty()
    bp = pre_session_check(
        args.bp, args.pulse, limits=settings_limits(), train_anyway=args.train_anyway,
        ask=_answer_or_empty(console) if interactive else None,
        say=lambda text: console.print(text, highlight=False))
    config = SessionConfig(
        device=args.device,
        protocol=args.protocol,
        participant=args.participant,
        speed=args.speed,
        data_dir=args.data_dir,
        dominant=Hand(args.dominant),
        known_mvc=args.reuse_mvc,
        tare=not args.no_tare,
        # Nobody can answer "resume or stop?" without the live view (headless, or
        # output not to a terminal, so no keys are read).
        resume_after_reconnect=args.headless or not console.is_terminal,
        lsl=args.lsl,
        bp_check=bp,
    )
    runtime = SessionRuntime(config)
    tell_interrupted(runtime.interrupted_sessions)
    pre_bp_id = None
    if bp is not None:  # kept even if the session cannot start, as in the desktop app
        r = bp.reading
        pre_bp_id = runtime.store.add_bp_reading(
            sbp=r.sbp, dbp=r.dbp, pulse=r.pulse, participant=args.participant, context="pre")
    console.print(Text.assemble(
        # A sham is named as it looks: its own name and title say "sham".
        f"isogrip {__version__}: protocol ", (_shown_name(runtime.protocol), "bold"),
        ", device ", (args.device, "bold"), ". Not a medical device: stop if you feel unwell.",
    ))
    with _signals_stop_session():
        return _run_session(args, console, runtime, pre_bp_id)


def _run_session(args: argparse.Namespace, console: Console, runtime: SessionRuntime,
                 pre_bp_id: int | None = None) -> int:
    from isogrip.protocols.display import participant_title
    from isogrip.runtime import SessionCancelled
    from isogrip.settings import load_settings
    from isogrip.storage.export import session_summary
    from isogrip.storage.history import session_starter_advice
    from isogrip.terminal_view import holds_table, live_panel, mvc_table, participant_summary

    unit: Unit = args.units
    live = not args.headless and console.is_terminal
    t_start = runtime.clock.now()
    runtime.start()
    try:
        if live:
            header = f"isogrip · {participant_title(runtime.protocol)}"

            def on_key(action: str) -> None:
                if action == "stop":
                    runtime.command(Command.ABORT)
                elif action == "pause":
                    paused = runtime.snapshot().paused
                    runtime.command(Command.RESUME if paused else Command.PAUSE)
                else:
                    runtime.command(Command(action))

            with key_reader(on_key) as keys, Live(
                live_panel(runtime.snapshot(), unit, header), console=console,
                refresh_per_second=12, transient=False,
            ) as view:
                footer = KEY_HELP if keys else ""
                while not runtime.done:
                    time.sleep(1 / 12)
                    view.update(live_panel(runtime.snapshot(), unit, header, footer))
                    for ev in runtime.drain_events():
                        if ev.kind in _LOGGED_EVENTS and ev.message:
                            console.print(f"  {ev.message}", highlight=False)
        elif not args.headless:
            # Not a terminal (e.g. output to a file): a plain log of the session.
            last = ""
            while not runtime.done:
                time.sleep(0.2)
                for ev in runtime.drain_events():
                    if ev.message and ev.message != last and ev.kind is not EventKind.COUNTDOWN:
                        console.print(f"{ev.t - t_start:8.1f} s  {ev.message}",
                                      highlight=False)
                        last = ev.message
        result = runtime.wait()
    except KeyboardInterrupt:
        console.print("Stopping the session; everything recorded so far is kept...")
        runtime.stop()
        try:
            result = runtime.wait(SHUTDOWN_WAIT_S)
        except SessionCancelled as exc:
            console.print(f"Stopped: {exc}.", highlight=False)
            return EXIT_INTERRUPTED
        except TimeoutError:
            console.print("The device is slow to disconnect; what was recorded is saved.")
            return EXIT_INTERRUPTED
    if not live:
        for ev in runtime.drain_events():
            if ev.kind in (EventKind.WARNING, EventKind.DEVICE_DISCONNECTED,
                           EventKind.DEVICE_RECONNECTED, EventKind.DEVICE_STATUS):
                console.print(f"  {ev.message}", highlight=False)
    if pre_bp_id is not None:
        runtime.store.set_bp_session(pre_bp_id, result.session_id)
    summary = session_summary(runtime.store, result.session_id)
    if summary["protocol"].get("hide_intensity"):  # the participant reads these tables
        t, _, f = runtime.store.load_samples(result.session_id)
        # The summary's times are relative to the session start; the samples' are not.
        t0 = runtime.store.get_session_info(result.session_id).t0_s
        summary = participant_summary(summary, t - t0, f)
    console.print(mvc_table(summary, unit))
    console.print(holds_table(summary, unit))
    speed = "" if args.speed == 1 else f" in {result.wall_s:.2f} s wall time"
    status_style = "green" if result.status == "complete" else "red"
    console.print(Text.assemble(
        f"Session {result.session_id} ", (result.status, status_style),
        f"{speed}: {result.samples} samples, {result.session_s / 60:.1f} min."
        + (f" Reason: {result.reason}." if result.reason else ""),
    ))
    # A study that locked the protocol decides on intensity itself (and advice only
    # one arm could get would unblind it).
    locked = load_settings()[0].protocol_locked
    advice = "" if locked else session_starter_advice(runtime.store, result.session_id)
    if advice:
        console.print(advice, highlight=False)
    console.print(f"Export it with: isogrip export {result.session_id} --out <folder>",
                  highlight=False)
    runtime.close()
    return 0 if result.status == "complete" else 1


def _shown_name(protocol: Protocol) -> str:
    """The protocol's name, or for a blinded one the title it is shown under."""
    from isogrip.protocols.display import participant_title

    return participant_title(protocol) if protocol.hide_intensity else protocol.name


@contextlib.contextmanager
def _signals_stop_session() -> Iterator[None]:
    """Make SIGTERM and SIGHUP (terminal closed) stop a session as Ctrl-C does.

    The session is then closed cleanly instead of being left "interrupted". The
    previous handlers are restored afterwards.
    """

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None:
                saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


_LOGGED_EVENTS = {
    EventKind.MVC_TRIAL,
    EventKind.MVC_RESULT,
    EventKind.HOLD_RESULT,
    EventKind.WARNING,
    EventKind.DEVICE_DISCONNECTED,
    EventKind.DEVICE_RECONNECTED,
    EventKind.DEVICE_STATUS,
    EventKind.COMMAND_REJECTED,
    EventKind.PAUSED,
    EventKind.RESUMED,
}


def _open_store(args: argparse.Namespace) -> Store:
    from isogrip.storage.store import Store

    store = Store.open(args.data_dir)
    tell_interrupted(store.mark_interrupted())  # sessions whose program died
    return store


def tell_interrupted(ids: Sequence[int]) -> None:
    """Say which sessions were cut short by a crash and how to export them."""
    for sid in ids:
        print(f"isogrip: session {sid} was interrupted (isogrip stopped unexpectedly); "
              f"everything saved up to then is kept. Export it with: isogrip export {sid} "
              "--out FOLDER", file=sys.stderr)


def _sessions(args: argparse.Namespace, console: Console) -> int:
    store = _open_store(args)
    rows = store.list_sessions(participant=args.participant)
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
    store.close()
    return 0


def _export(args: argparse.Namespace, console: Console) -> int:
    from isogrip.storage.export_formats import export, export_participant

    if (args.session is None) == (args.participant is None):
        raise IsogripError("give either a session (e.g. 'last') or --participant ID")
    store = _open_store(args)
    try:
        if args.participant is not None:
            paths = export_participant(store, args.participant, args.out,
                                       args.format or "parquet")
        else:
            session_id = store.resolve_session(args.session)
            paths = export(store, session_id, args.out, args.format or "csv")
    finally:
        store.close()
    for p in paths:
        console.print(str(p), highlight=False)
    return 0


def _report(args: argparse.Namespace, console: Console) -> int:
    from isogrip.ui.report import participant_report, session_report  # Qt, on demand

    if (args.session is None) == (args.participant is None):
        raise IsogripError("give either a session (e.g. 'last') or --participant ID")
    store = _open_store(args)
    try:
        if args.participant is not None:
            path = participant_report(store, args.participant, args.out)
        else:
            path = session_report(store, store.resolve_session(args.session), args.out)
    finally:
        store.close()
    console.print(str(path), highlight=False)
    return 0


def _import(args: argparse.Namespace, console: Console) -> int:
    from isogrip.storage.importer import import_session

    store = _open_store(args)
    try:
        sid = import_session(store, args.folder)
    finally:
        store.close()
    console.print(f"Imported as session {sid}.", highlight=False)
    return 0


def _scan(args: argparse.Namespace, console: Console) -> int:
    import asyncio

    from isogrip.ble_device.scanner import scan

    if not args.timeout > 0:
        raise IsogripError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    console.print(f"Listening for {args.timeout:g} s...")
    found = asyncio.run(scan(args.timeout, include_unknown=args.all))
    if not found:
        console.print("No force devices found. Switch the device on (squeeze it once to "
                      "wake it), bring it close, and make sure no phone app is connected "
                      "to it." + ("" if args.all else " Use --all to list every device."))
        return 1
    table = Table(title="Nearby devices (nearest first)")
    for col in ("Name", "Kind", "Address", "Signal (dBm)", "Use with"):
        table.add_column(col)
    for d in found:
        table.add_row(d.name or "-", d.kind_label, d.address, str(d.rssi),
                      f"--device {d.spec}")
    console.print(table)
    return 0


def _protocols(console: Console) -> int:
    table = Table(title="Built-in protocols (or give --protocol path/to/file.toml)")
    for col in ("Name", "Holds", "Target", "Band", "Rest", "Hands", "Description"):
        table.add_column(col)
    for p in builtin_protocols():
        target = f"{p.target_pct:g} % MVC"
        if p.display_scale != 1:
            target += f" (shown x{p.display_scale:g})"
        table.add_row(
            p.name + (" (default)" if p.name == DEFAULT_PROTOCOL else ""),
            f"{p.reps} x {p.hold_s:g} s",
            target,
            f"±{p.green_pct:g} / ±{p.amber_pct:g} %",
            f"{p.rest_s:g} s",
            p.hands.value,
            p.title,
        )
    console.print(table)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
