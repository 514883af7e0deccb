"""A session in the terminal: the banner, the live view or plain log, and the summary.

Imported by the ``run`` and ``demo`` handlers only, so it may import rich, numpy and
the runtime at module level.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from rich.live import Live
from rich.text import Text

from isogrip import __version__
from isogrip.cli.common import EXIT_INTERRUPTED
from isogrip.cli.terminal_keys import HELP as KEY_HELP
from isogrip.cli.terminal_keys import key_reader
from isogrip.cli.terminal_view import holds_table, live_panel, mvc_table, participant_summary
from isogrip.protocols.display import participant_title
from isogrip.protocols.events import Command, EventKind
from isogrip.runtime import SessionCancelled, SessionResult, SessionRuntime
from isogrip.settings import load_settings
from isogrip.storage.export import session_summary
from isogrip.storage.history import session_starter_advice

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from isogrip.signal.units import Unit

#: How long Ctrl-C waits for the session to close cleanly, s.
SHUTDOWN_WAIT_S = 15.0

#: Events the live view prints above the panel as they happen.
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
#: Events printed after a session without the live view (they were not seen live).
_DEVICE_EVENTS = (EventKind.WARNING, EventKind.DEVICE_DISCONNECTED,
                  EventKind.DEVICE_RECONNECTED, EventKind.DEVICE_STATUS)


def print_banner(console: Console, runtime: SessionRuntime, device: str) -> None:
    """The line before a session: version, protocol, device and the safety note."""
    protocol = runtime.protocol
    # A sham is named as it looks: its own name and title say "sham".
    shown = participant_title(protocol) if protocol.hide_intensity else protocol.name
    console.print(Text.assemble(
        f"isogrip {__version__}: protocol ", (shown, "bold"),
        ", device ", (device, "bold"), ". Not a medical device: stop if you feel unwell.",
    ))


def run_and_report(args: argparse.Namespace, console: Console, runtime: SessionRuntime,
                   pre_bp_id: int | None = None) -> int:
    """Run the session, showing it as it goes, then print its summary.

    Args:
        args: The ``run`` or ``demo`` options (``headless``, ``units``, ``speed``).
        console: Where to show it; the live view needs a terminal.
        runtime: The session, not yet started.
        pre_bp_id: The blood-pressure reading taken before it, to link to it.

    Returns:
        0 when the session is complete, 1 when it ended otherwise, and
        :data:`~isogrip.cli.common.EXIT_INTERRUPTED` when stopping it did not end
        cleanly.
    """
    live = not args.headless and console.is_terminal
    result = _follow(args, console, runtime, live=live)
    if result is None:
        return EXIT_INTERRUPTED
    if not live:
        for ev in runtime.drain_events():
            if ev.kind in _DEVICE_EVENTS:
                console.print(f"  {ev.message}", highlight=False)
    if pre_bp_id is not None:
        runtime.store.set_bp_session(pre_bp_id, result.session_id)
    _print_summary(args, console, runtime, result)
    runtime.close()
    return 0 if result.status == "complete" else 1


def _follow(args: argparse.Namespace, console: Console, runtime: SessionRuntime, *,
            live: bool) -> SessionResult | None:
    """Start the session and show it until it ends; ``None`` if stopping it failed."""
    t_start = runtime.clock.now()
    runtime.start()
    try:
        if live:
            _live_view(console, runtime, args.units)
        elif not args.headless:
            _plain_log(console, runtime, t_start)
        return runtime.wait()
    except KeyboardInterrupt:
        console.print("Stopping the session; everything recorded so far is kept...")
        runtime.stop()
        try:
            return runtime.wait(SHUTDOWN_WAIT_S)
        except SessionCancelled as exc:
            console.print(f"Stopped: {exc}.", highlight=False)
        except TimeoutError:
            console.print("The device is slow to disconnect; what was recorded is saved.")
        return None


def _key_commands(runtime: SessionRuntime) -> Callable[[str], None]:
    """What a key of :mod:`~isogrip.cli.terminal_keys` does to the session."""

    def on_key(action: str) -> None:
        if action == "stop":
            runtime.command(Command.ABORT)
        elif action == "pause":
            paused = runtime.snapshot().paused
            runtime.command(Command.RESUME if paused else Command.PAUSE)
        else:
            runtime.command(Command(action))

    return on_key


def _live_view(console: Console, runtime: SessionRuntime, unit: Unit) -> None:
    """The live panel (and its keys) until the session ends, with events above it."""
    header = f"isogrip · {participant_title(runtime.protocol)}"
    with key_reader(_key_commands(runtime)) as keys, Live(
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


def _plain_log(console: Console, runtime: SessionRuntime, t_start: float) -> None:
    """Not a terminal (e.g. output to a file): one line per new message, with its time."""
    last = ""
    while not runtime.done:
        time.sleep(0.2)
        for ev in runtime.drain_events():
            if ev.message and ev.message != last and ev.kind is not EventKind.COUNTDOWN:
                console.print(f"{ev.t - t_start:8.1f} s  {ev.message}", highlight=False)
                last = ev.message


def _print_summary(args: argparse.Namespace, console: Console, runtime: SessionRuntime,
                   result: SessionResult) -> None:
    """The tables, the outcome, the starter's advice and how to export the session."""
    unit: Unit = args.units
    store = runtime.store
    summary = session_summary(store, result.session_id)
    if summary["protocol"].get("hide_intensity"):  # the participant reads these tables
        t, _, f = store.load_samples(result.session_id)
        # The summary's times are relative to the session start; the samples' are not.
        t0 = store.get_session_info(result.session_id).t0_s
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
    advice = "" if locked else session_starter_advice(store, result.session_id)
    if advice:
        console.print(advice, highlight=False)
    console.print(f"Export it with: isogrip export {result.session_id} --out <folder>",
                  highlight=False)
