"""``isogrip run`` and ``isogrip demo``: a training session in the terminal.

Their options are added when the subcommand is used (see
:class:`~isogrip.cli.common.CommandParser`): the default protocol and the units come
from modules that import numpy.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from isogrip.cli.common import Subparsers, speed, tell_interrupted
from isogrip.cli.gui import desktop_problem, display_available, open_app
from isogrip.types import Hand

if TYPE_CHECKING:
    from rich.console import Console

    from isogrip.signal.units import Unit


def register(subparsers: Subparsers) -> None:
    """Add ``run`` and ``demo`` to the ``isogrip`` subcommands."""
    run = subparsers.add_parser("run", help="run a training session",
                                add_options=lambda p: add_run_options(p, "sim", "1"))
    run.set_defaults(handler=run_session)
    demo = subparsers.add_parser("demo", help="a full session with the simulated device",
                                 add_options=_add_demo_options)
    demo.set_defaults(handler=run_demo)


def _add_demo_options(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, "sim:good", "1")
    parser.add_argument("--terminal", action="store_true",
                        help="use the terminal view even where a display exists")


def add_run_options(p: argparse.ArgumentParser, device: str, default_speed: str) -> None:
    """The options of a session (``run`` and ``demo``), with their defaults."""
    from isogrip.protocols.loader import DEFAULT_PROTOCOL
    from isogrip.signal.units import Unit

    p.add_argument("--device", default=device,
                   help="device spec: sim, sim:fatigue?seed=3 ... (default: %(default)s)")
    p.add_argument("--protocol", default=None,
                   help="built-in protocol name or path to a .toml file (default: your "
                   f"programme's, at its intensity; without one, {DEFAULT_PROTOCOL})")
    p.add_argument("--participant", default=None, metavar="ID",
                   help="participant ID stored with the session (an ID, not a name)")
    p.add_argument("--speed", type=speed, default=speed(default_speed),
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
    from isogrip.signal.units import Unit

    try:
        return Unit.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_demo(args: argparse.Namespace, console: Console) -> int:
    """``isogrip demo``: the desktop app where a display exists, else a terminal session.

    Also the terminal session where the desktop app cannot start (Qt's X11 libraries
    missing): after one line saying what to install.
    """
    if not args.terminal and not args.headless and display_available():
        problem = desktop_problem()
        if problem is None:
            return open_app(args)
        print(f"isogrip: {problem} The demo runs in the terminal instead.", file=sys.stderr)
    return run_session(args, console)


def run_session(args: argparse.Namespace, console: Console) -> int:
    """``isogrip run``: the blood-pressure check, then the session, then its summary.

    Returns:
        The exit status (see :func:`~isogrip.cli.session_view.run_and_report`).
    """
    from isogrip.cli.bp import pre_session_check, settings_limits
    from isogrip.cli.programme import session_protocol, tell_new_steps
    from isogrip.cli.session_view import print_banner, run_and_report
    from isogrip.runtime import SessionConfig, SessionRuntime  # heavy imports on demand

    interactive = not args.headless and console.is_terminal and sys.stdin.isatty()
    bp = pre_session_check(
        args.bp, args.pulse, limits=settings_limits(), train_anyway=args.train_anyway,
        ask=_answer_or_empty(console) if interactive else None,
        say=lambda text: console.print(text, highlight=False))
    protocol, programme = session_protocol(args, console)
    config = SessionConfig(
        device=args.device,
        protocol=protocol,
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
    print_banner(console, runtime, args.device)
    with _signals_stop_session():
        status = run_and_report(args, console, runtime, pre_bp_id)
    tell_new_steps(args, console, programme)
    return status


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
