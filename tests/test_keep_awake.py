"""The screen is kept on for exactly the span of a session, however it ends (Linux, D-Bus).

Each test starts a private D-Bus session bus (``dbus-daemon``, from tools/system-deps)
and on it a fake desktop service: ``org.freedesktop.ScreenSaver`` (what wakepy tries
first for ``keep.presenting``) or ``org.gnome.SessionManager`` (what it tries next).
Sessions run flat out on the virtual clock; the clock parks at a moment of session
time (as the desktop app's tests step it), and what the fake service holds is read
there, while the session runs: no sleeps, the same on a fast or a slow machine.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if sys.platform != "linux":
    pytest.skip("the desktop inhibit services tested here are Linux's (D-Bus)",
                allow_module_level=True)

from dbus_fast.aio import MessageBus  # bleak's D-Bus library on Linux
from dbus_fast.annotations import DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

from isogrip import keep_awake
from isogrip.clock import VirtualClock
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Phase
from isogrip.protocols.records import Event, SessionWarning
from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

KNOWN = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}  # no calibration: hold 1 at 8 s
MID_SESSION_S = 60.0  # in hold 1

# Only what is needed: no service activation (a real desktop program must not start).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Inhibits:
    """The inhibits a fake service holds (its D-Bus thread writes, the test reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cookies = itertools.count(1)
        self._active: dict[int, tuple[Any, ...]] = {}
        self.unknown_cookies: list[int] = []

    def add(self, *what: Any) -> int:
        with self._lock:
            cookie = next(self._cookies)
            self._active[cookie] = what
            return cookie

    def remove(self, cookie: int) -> None:
        with self._lock:
            if self._active.pop(cookie, None) is None:
                self.unknown_cookies.append(cookie)

    def active(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._active.values())


class FakeScreenSaver(ServiceInterface):
    """org.freedesktop.ScreenSaver's inhibit methods (KDE's, Xfce's...)."""

    NAME = PATH = "org.freedesktop.ScreenSaver"

    def __init__(self, inhibits: Inhibits) -> None:
        super().__init__(self.NAME)
        self.inhibits = inhibits

    @dbus_method()
    def Inhibit(self, application_name: DBusStr, reason_for_inhibit: DBusStr) -> DBusUInt32:
        return self.inhibits.add(application_name, reason_for_inhibit)

    @dbus_method()
    def UnInhibit(self, cookie: DBusUInt32):  # no reply value (dbus-fast: no annotation)
        self.inhibits.remove(cookie)


class FakeGnomeSession(ServiceInterface):
    """org.gnome.SessionManager's inhibit methods."""

    NAME = "org.gnome.SessionManager"

    def __init__(self, inhibits: Inhibits) -> None:
        super().__init__(self.NAME)
        self.inhibits = inhibits

    @dbus_method()
    def Inhibit(self, app_id: DBusStr, toplevel_xid: DBusUInt32, reason: DBusStr,
                flags: DBusUInt32) -> DBusUInt32:
        return self.inhibits.add(app_id, reason, flags)

    @dbus_method()
    def Uninhibit(self, inhibit_cookie: DBusUInt32):  # no reply value
        self.inhibits.remove(inhibit_cookie)


@pytest.fixture
def bus_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session bus, for this test only, named in DBUS_SESSION_BUS_ADDRESS."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.fail("dbus-daemon is missing: install the 'dbus' package (tools/system-deps)")
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG)
    proc = subprocess.Popen([daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address, "dbus-daemon printed no address"
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def serve(bus_address: str) -> Iterator[Callable[[type[ServiceInterface]], Inhibits]]:
    """Start a fake service on the private bus, on a thread of its own; its inhibits."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-desktop", daemon=True)
    thread.start()
    buses: list[MessageBus] = []

    async def start(cls: Any, inhibits: Inhibits) -> None:
        bus = await MessageBus(bus_address=bus_address).connect()
        buses.append(bus)
        bus.export("/" + cls.NAME.replace(".", "/"), cls(inhibits))
        await bus.request_name(cls.NAME)

    def serve(cls: type[ServiceInterface]) -> Inhibits:
        inhibits = Inhibits()
        asyncio.run_coroutine_threadsafe(start(cls, inhibits), loop).result(10)
        return inhibits

    yield serve
    for bus in buses:
        loop.call_soon_threadsafe(bus.disconnect)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def run_session(tmp_path: Path, inhibits: Inhibits | None, device: str = "sim:good?seed=3",
                at_mid_session: Callable[[SessionRuntime], None] | None = None,
                ) -> tuple[SessionResult | BaseException, list[Event], list[Any]]:
    """Run a session flat out; what the service held in the middle of it, and after.

    The session's clock parks at :data:`MID_SESSION_S` (the device thread runs
    nothing further meanwhile); the inhibits are read there, ``at_mid_session`` is
    called there, and the session goes on to its end.
    """
    rt = SessionRuntime(SessionConfig(device=device, speed=None, data_dir=tmp_path,
                                      known_mvc=KNOWN))
    clock = rt.clock
    assert isinstance(clock, VirtualClock)
    seen: list[Any] = []

    def parked(_limit: float) -> None:
        seen.append((rt.snapshot().phase, inhibits.active() if inhibits else None))
        if at_mid_session is not None:
            at_mid_session(rt)
        clock.allow_until(float("inf"))

    clock.on_park = parked
    clock.allow_until(MID_SESSION_S)
    outcome: SessionResult | BaseException
    try:
        outcome = rt.run()
    except Exception as exc:
        outcome = exc
    events = rt.drain_events()
    rt.close()
    seen.append(inhibits.active() if inhibits else None)
    return outcome, events, seen


def screen_warnings(events: list[Event]) -> list[SessionWarning]:
    return [e for e in events
            if isinstance(e, SessionWarning) and e.reason == keep_awake.WARNING_REASON]


def held_by_isogrip(active: list[Any]) -> None:
    """Exactly one inhibit, isogrip's, with a reason in words."""
    assert len(active) == 1
    app, reason, *_ = active[0]
    assert app == "isogrip"
    assert reason == keep_awake.REASON and " " in reason


def test_a_complete_session_holds_the_screen_on_then_lets_go(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits]) -> None:
    inhibits = serve(FakeScreenSaver)
    result, events, ((phase, during), after) = run_session(tmp_path, inhibits)
    assert isinstance(result, SessionResult) and result.status == "complete"
    assert phase is Phase.HOLD  # mid-session indeed
    held_by_isogrip(during)
    assert after == [] and inhibits.unknown_cookies == []
    assert screen_warnings(events) == []


def test_an_aborted_session_lets_go(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits]) -> None:
    inhibits = serve(FakeScreenSaver)
    result, _, ((_, during), after) = run_session(
        tmp_path, inhibits, at_mid_session=lambda rt: rt.command(Command.ABORT))
    assert isinstance(result, SessionResult) and result.status == "aborted"
    held_by_isogrip(during)
    assert after == []


def test_a_session_whose_device_is_lost_lets_go(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits]) -> None:
    # The link drops 30 s in and the device never comes back: the session gives up.
    inhibits = serve(FakeScreenSaver)
    result, _, ((_, during), after) = run_session(
        tmp_path, inhibits, "sim:good?seed=3&disconnect_at=30&disconnect_s=100000")
    assert isinstance(result, SessionResult) and result.status == "aborted"
    assert "no force readings" in result.reason
    held_by_isogrip(during)  # still held while the session waits for the device
    assert after == []


def test_a_session_stopped_by_an_error_lets_go(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits],
        monkeypatch: pytest.MonkeyPatch) -> None:
    inhibits = serve(FakeScreenSaver)
    real_tick = Engine.tick

    def tick(self: Engine, t: float) -> Any:
        if t > MID_SESSION_S:
            raise RuntimeError("boom")
        return real_tick(self, t)

    monkeypatch.setattr(Engine, "tick", tick)
    error, _, ((_, during), after) = run_session(tmp_path, inhibits)
    assert isinstance(error, RuntimeError) and "boom" in str(error)
    held_by_isogrip(during)
    assert after == []


def test_a_session_cancelled_when_the_program_closes_lets_go(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits]) -> None:
    inhibits = serve(FakeScreenSaver)
    rt = SessionRuntime(SessionConfig(device="sim:good?seed=3", speed=None, data_dir=tmp_path,
                                      known_mvc=KNOWN))
    clock = rt.clock
    assert isinstance(clock, VirtualClock)
    seen: list[Any] = []

    async def main() -> None:
        session = asyncio.ensure_future(rt.run_here())

        def parked(_limit: float) -> None:
            if not seen:
                seen.append(inhibits.active())
                session.cancel()  # what closing the program does to the device thread

        clock.on_park = parked
        clock.allow_until(MID_SESSION_S)
        with pytest.raises(asyncio.CancelledError):
            await session

    asyncio.run(main())
    rt.close()
    held_by_isogrip(seen[0])
    assert inhibits.active() == []


def test_on_gnome_the_session_manager_is_asked_not_to_mark_the_session_idle(
        tmp_path: Path, serve: Callable[[type[ServiceInterface]], Inhibits]) -> None:
    # No org.freedesktop.ScreenSaver on this bus: wakepy's next method for the mode.
    inhibits = serve(FakeGnomeSession)
    result, events, ((_, during), after) = run_session(tmp_path, inhibits)
    assert isinstance(result, SessionResult) and result.status == "complete"
    held_by_isogrip(during)
    assert during[0][2] == 8  # GSM_INHIBITOR_FLAG_IDLE: no blanking, no idle suspend
    assert after == [] and inhibits.unknown_cookies == []
    assert screen_warnings(events) == []


def test_without_a_session_bus_the_session_runs_and_says_the_screen_may_sleep(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    result, events, _ = run_session(tmp_path, None)
    assert isinstance(result, SessionResult) and result.status == "complete"
    (warning,) = screen_warnings(events)
    assert warning.message == keep_awake.SCREEN_MAY_SLEEP
    assert "screen may" in warning.message


def test_the_session_does_not_wait_for_a_slow_bus(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bus that has not answered yet must not hold the session back, and a stop
    # pressed meanwhile reaches the session (it once took the stop itself, and the
    # desktop app never heard that the session had ended).
    answer = threading.Event()
    asked: list[bool] = []

    def slow_take(self: object) -> bool:
        asked.append(True)
        answer.wait(timeout=30)
        return False

    monkeypatch.setattr(keep_awake._Hold, "take", slow_take)

    def mid_session(rt: SessionRuntime) -> None:
        assert asked and not answer.is_set()  # still asking, and the session runs
        rt.command(Command.ABORT)
        answer.set()

    result, events, _ = run_session(tmp_path, None, at_mid_session=mid_session)
    assert isinstance(result, SessionResult) and result.status == "aborted"
    # Said once, when the answer came (mid-session), not at the start.
    assert [w.t >= 60.0 for w in screen_warnings(events)] == [True]
