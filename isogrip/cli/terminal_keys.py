"""Single-key commands for the terminal view (POSIX terminals; elsewhere a no-op).

Keys: ``p`` pause / resume, ``s`` skip the rest, ``r`` redo the last MVC trial,
``q`` stop the session. Ctrl-C also stops.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator

#: key -> action name understood by the CLI
KEYS = {"p": "pause", "s": "skip_rest", "r": "redo_trial", "q": "stop"}
HELP = "Keys: P pause/resume · S skip rest · R redo last squeeze · Q stop"


@contextlib.contextmanager
def key_reader(on_key: Callable[[str], None]) -> Iterator[bool]:
    """Read single keys from the terminal on a background thread.

    Args:
        on_key: Called with the action name (a value of :data:`KEYS`) for each key.

    Yields:
        Whether keys are being read (False when stdin is not a POSIX terminal).
    """
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    if not sys.stdin.isatty():
        yield False
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            ch = os.read(fd, 1).decode(errors="ignore").lower()
            if ch in KEYS:
                on_key(KEYS[ch])

    tty.setcbreak(fd)
    thread = threading.Thread(target=run, name="isogrip-keys", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(1.0)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
