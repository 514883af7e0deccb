"""The one thread that owns every device object: scanning, previews and sessions.

bleak objects must stay on the event loop that made them, and on Windows a Bluetooth
loop must not share the Qt thread. A :class:`DeviceHost` is a thread running one
asyncio loop; everything that talks to a device (a scan, the Device screen's live
preview, a session) runs on it, so a preview's connection can be handed to the
session as it is, without reconnecting.

Example::

    host = DeviceHost()
    found = host.submit(scan(5.0)).result()
    host.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bound on closing the host (cancel what runs, stop the loop, join the thread), s.
CLOSE_TIMEOUT_S = 5.0


class DeviceHost:
    """A thread with one asyncio loop for every device object of the program.

    Args:
        name: The thread's name (shows in debuggers and logs).
    """

    def __init__(self, name: str = "isogrip-devices") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._cancel_all()
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    @property
    def running(self) -> bool:
        """Whether the loop still takes work."""
        return self._thread.is_alive() and not self.loop.is_closed()

    @property
    def in_host(self) -> bool:
        """Whether the caller runs on the host's own thread."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coro`` on the host's loop (from any thread).

        Raises:
            RuntimeError: The host has been closed.
        """
        if not self.running:
            coro.close()
            raise RuntimeError("the device thread has been closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` on the host's loop (from any thread; dropped once closed)."""
        with contextlib.suppress(RuntimeError):  # closed between the check and the call
            if self.running:
                self.loop.call_soon_threadsafe(fn, *args)

    def stop_soon(self) -> None:
        """Let the thread end once what is running now has been cancelled."""
        self.call_soon(self.loop.stop)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Stop the loop and wait (bounded) for the thread; safe to call twice."""
        self.stop_soon()
        if not self.in_host:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the device thread did not end within %.0f s", timeout)

    def __enter__(self) -> DeviceHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
