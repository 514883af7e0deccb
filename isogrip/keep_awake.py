"""Keeping the screen on and the computer awake for the span of a session.

A session lasts about a quarter of an hour in which the participant squeezes a
dynamometer and watches the screen, hands busy, without touching the keyboard or the
mouse: a screen saver, a blanked screen or a computer gone to sleep would hide the
cues (and sleep would drop the device's link). :func:`keep_awake` holds wakepy's
``keep.presenting`` mode (screen on, no screen saver, no idle sleep) from the start of
a session to its end, however it ends: complete, stopped, aborted by the engine, the
device lost, an error, or the program closed (Ctrl-C cancels the session's task and
the block is left like any other). If the process dies outright, the desktop drops the
inhibit itself when isogrip's D-Bus connection closes (on Linux), or with the thread
that set it (Windows).

Holding the screen on is a comfort, never a condition: when it cannot be done (no
D-Bus session bus, no desktop service that answers, no method for this system) the
session runs anyway, and the session's records say so once, in one plain line.

Example::

    async with keep_awake(pipeline.emit, clock.now):
        ...  # the session
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from isogrip.protocols.records import Event, SessionWarning

if TYPE_CHECKING:
    from wakepy import Mode

log = logging.getLogger(__name__)

#: The application name desktops show for the inhibit (e.g. KDE's battery applet).
APP_NAME = "isogrip"
#: Why, in the words a desktop shows next to the name.
REASON = "A training session is running"
#: What the session's records say when the screen could not be kept on.
SCREEN_MAY_SLEEP = ("The screen saver and sleep could not be held off on this computer: "
                    "the screen may dim or go to sleep during the session.")

#: The machine-readable reason of that warning.
WARNING_REASON = "screen_may_sleep"


def _isogrip_methods() -> list[str]:
    """Define wakepy's Linux methods again, named after isogrip; their names.

    wakepy's own D-Bus methods tell the desktop that "wakepy" inhibits for "wakelock
    active", and a desktop shows that to the user. These subclasses change only those
    two strings of the ``Inhibit`` call (cookies, flags and ``UnInhibit`` stay
    wakepy's). They lean on wakepy's method classes, which are not its public API: if
    a wakepy release moves them, nothing is defined here, and wakepy's own methods
    (which the mode keeps as fallbacks anyway) do the same work under wakepy's name.
    """
    try:
        from wakepy.core import DBusMethodCall
        from wakepy.methods.freedesktop import FreedesktopScreenSaverInhibit
        from wakepy.methods.gnome import GnomeSessionManagerNoIdle
    except Exception:  # any wakepy that is not the one this was written against
        log.info("wakepy's D-Bus methods moved: the inhibit is named after wakepy",
                 exc_info=True)
        return []

    names = {"application_name": APP_NAME, "app_id": APP_NAME,
             "reason_for_inhibit": REASON, "reason": REASON}

    def as_isogrip(call: DBusMethodCall) -> DBusMethodCall:
        kwargs = call.get_kwargs()
        if call.method.name != "Inhibit" or kwargs is None:
            return call
        return DBusMethodCall(call.method, {k: names.get(k, v) for k, v in kwargs.items()})

    class ScreenSaver(FreedesktopScreenSaverInhibit):
        """org.freedesktop.ScreenSaver (KDE, Xfce, GNOME, ...), as isogrip."""

        name = "isogrip:org.freedesktop.ScreenSaver"

        def process_dbus_call(self, call: DBusMethodCall) -> Any:
            return super().process_dbus_call(as_isogrip(call))

    class GnomeNoIdle(GnomeSessionManagerNoIdle):
        """org.gnome.SessionManager, the session not marked idle, as isogrip."""

        name = "isogrip:org.gnome.SessionManager"

        def process_dbus_call(self, call: DBusMethodCall) -> Any:
            return super().process_dbus_call(as_isogrip(call))

    return [ScreenSaver.name, GnomeNoIdle.name]


# Defined once per process (two sessions may start at once: a lock): wakepy registers
# every method class by its name, and a second class of the same name is an error.
_OWN_METHODS: list[str] | None = None
_OWN_METHODS_LOCK = threading.Lock()


def _own_methods() -> list[str]:
    global _OWN_METHODS
    with _OWN_METHODS_LOCK:
        if _OWN_METHODS is None:
            _OWN_METHODS = _isogrip_methods()
        return _OWN_METHODS


class _Hold:
    """One ``keep.presenting`` mode, made, entered and left on one thread of its own.

    wakepy's modes must be created, entered and left on the same thread (it warns
    otherwise), and the runtime's loop may move on before the mode is left (a
    cancelled session). A worker thread of its own also keeps the D-Bus round trips
    (each up to 2 s when a bus hangs) off the loop that owns the device.
    """

    def __init__(self) -> None:
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="isogrip-keep-awake")
        self._mode: Mode | None = None

    def take(self) -> bool:
        """Enter the mode (worker thread); whether the screen is now kept on."""
        try:
            from wakepy import keep

            own = _own_methods()
            # Ours first; wakepy's own (and those of other systems) after them.
            priority: list[str | set[str]] | None = [set(own), "*"] if own else None
            mode = keep.presenting(methods_priority=priority, on_fail="pass")
            mode.__enter__()
        except Exception:  # a comfort, never a reason to stop a session
            log.info("could not keep the screen on", exc_info=True)
            return False
        self._mode = mode
        if not mode.active:  # wakepy has logged each method's reason
            log.info("could not keep the screen on for the session")
            return False
        log.info("screen kept on for the session with %s", mode.active_method)
        return True

    def release(self) -> None:
        """Leave the mode (worker thread); a failure is logged, never raised."""
        mode, self._mode = self._mode, None
        if mode is None:
            return
        try:
            mode.__exit__(None, None, None)
        except Exception:  # the desktop still drops it once our connection closes
            log.info("could not release the screen inhibit", exc_info=True)


@contextlib.asynccontextmanager
async def keep_awake(emit: Callable[[list[Event]], None],
                     now: Callable[[], float]) -> AsyncIterator[None]:
    """Keep the screen on and the computer awake for the span of the block.

    The inhibit is asked for as the block starts (on a worker thread, not awaited: a
    session bus answers in milliseconds, a hung one is given up on by wakepy after 2 s
    per call) and let go after the block has ended, even when it ends by an exception
    or by cancellation; the block waits for the release.

    Args:
        emit: Records the session's events (called on the caller's loop, only when
            the screen could not be kept on: a :class:`SessionWarning` saying so).
        now: The session clock, to stamp that warning.
    """
    hold = _Hold()
    inside = True

    def taken(fut: asyncio.Future[bool]) -> None:
        # On the caller's loop; said only while the block runs (its records are open).
        if inside and not fut.cancelled() and fut.exception() is None and not fut.result():
            emit([SessionWarning(t=now(), message=SCREEN_MAY_SLEEP, reason=WARNING_REASON)])

    # Not awaited: the block starts at once, so nothing but the session itself can be
    # interrupted (a stop pressed while the bus is asked must reach the session, which
    # records it; an await here would take the cancellation instead).
    asyncio.wrap_future(hold.worker.submit(hold.take)).add_done_callback(taken)
    try:
        yield
    finally:
        inside = False
        # Queued behind take(), so the inhibit is let go even if it was still being
        # taken when the block ended.
        released = hold.worker.submit(hold.release)
        hold.worker.shutdown(wait=False)
        # Shielded: a second cancellation must not cancel the release itself.
        await asyncio.shield(asyncio.wrap_future(released))
