"""\u201cRead from cuff\u201d: a Bluetooth blood-pressure cuff read from the desktop app.

Wherever the app asks for a reading (before a session, after it on the Summary page,
and in the History page's log, which the measurement weeks fill) a button finds a
standard cuff (SIG service 0x1810), reads what it sends, stores it in the log once
(:meth:`~isogrip.storage.store.Store.add_cuff_readings`: a resent memory adds nothing
twice) and says in plain words what came. Before a session the newest reading fills
the page's fields, when it was taken just now; after a session it is saved as the
session's ``post`` reading.

The cuff is read on the program's one device thread (:class:`~isogrip.device_host.DeviceHost`),
and the readings are stored on a worker thread: the device thread never touches the
disk, and the window never waits.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QLabel, QWidget

from isogrip.ble_device.bp_monitor import CuffRead, read_cuff
from isogrip.device_host import DeviceHost
from isogrip.errors import DeviceError, DeviceErrorReason, IsogripError, StorageError
from isogrip.storage.bp_cuff import CuffImport, JustTaken
from isogrip.storage.rows import BpReading
from isogrip.storage.store import Store
from isogrip.timefmt import SHORT, local_time
from isogrip.ui.common import button, label, run_task, set_text
from isogrip.ui.device_words import friendly_error

if TYPE_CHECKING:  # the window imports this module: only the type, for mypy
    from isogrip.ui.main_window import MainWindow

#: How long to look for the cuff, s (time to switch it on and press its button).
SCAN_S = 30.0
#: Stop after this long without a new reading, s (most cuffs hang up sooner).
QUIET_S = 8.0
#: A session's summary saves a cuff reading as its ``post`` reading this long after it.
POST_WINDOW = _dt.timedelta(hours=1)

BUTTON = "Read from cuff"
LOOKING = "Looking for your blood-pressure cuff\u2026"
NOT_FOUND = ("No cuff found. Switch it on and press its Bluetooth button, or type the "
             "numbers.")
NOTHING_SENT = ("The cuff sent no readings. Take a measurement, then press \u201cRead "
                "from cuff\u201d again, or type the numbers.")
NOT_JUST_NOW = ("{found}, but the newest ({reading}, {when}) was not taken just now. "
                "Measure now and press \u201cRead from cuff\u201d again, or type the "
                "numbers.")


@dataclasses.dataclass(frozen=True, slots=True)
class CuffJob:
    """Where the readings of one read go.

    Attributes:
        participant: Participant ID, or ``None``.
        context: Context of the readings from the cuff's memory.
        just_taken: What the newest reading is when it was taken just now.
    """

    participant: str | None
    context: str | None = "rest"
    just_taken: JustTaken | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CuffOutcome:
    """What one read brought, in words.

    Attributes:
        text: What to tell the user.
        imported: What was stored (``None``: nothing came).
        reading: The reading just taken, to show (``None``: there is none).
    """

    text: str
    imported: CuffImport | None = None
    reading: BpReading | None = None


def reading_words(r: BpReading) -> str:
    """``128/82, pulse 64``."""
    return f"{r.sbp}/{r.dbp}" + (f", pulse {r.pulse}" if r.pulse is not None else "")


def outcome_text(done: CuffImport, job: CuffJob, received: int) -> str:
    """The sentence for a read that received ``received`` readings."""
    if not received:
        return NOTHING_SENT
    newest = done.newest
    if newest is None:
        why = done.refused[0] if done.refused else "they could not be read"
        return f"The cuff's readings could not be used ({why})."
    n = done.added
    found = f"Found {n} new reading{'' if n == 1 else 's'}" if n else "No new readings"
    if done.already:
        found += f" ({done.already} already saved)"
    refused = f" {len(done.refused)} could not be used." if done.refused else ""
    words = reading_words(newest)
    wanted = job.just_taken
    if wanted is not None and done.just_taken is None:
        return NOT_JUST_NOW.format(found=found, reading=words,
                                   when=local_time(newest.taken_at, SHORT)) + refused
    if wanted is not None and wanted.context == "post":
        return f"{found}. Saved the newest, {words}, as your reading after training.{refused}"
    return f"{found}; the newest is {words}.{refused}"


def store_read(got: CuffRead, store: Store, job: CuffJob,
               now: _dt.datetime | None = None) -> CuffOutcome:
    """Store what a read brought and say so (runs on a worker thread).

    Raises:
        StorageError: The readings could not be stored.
    """
    done = store.add_cuff_readings(got.readings, device=got.address,
                                   participant=job.participant, context=job.context,
                                   now=now, just_taken=job.just_taken)
    return CuffOutcome(outcome_text(done, job, len(got.readings)), done, done.just_taken)


def failure_text(exc: BaseException) -> str:
    """The sentence for a read that failed."""
    if isinstance(exc, DeviceError) and exc.reason is DeviceErrorReason.NOT_FOUND:
        return NOT_FOUND
    if isinstance(exc, StorageError):
        return f"The readings could not be saved: {exc}"
    if isinstance(exc, IsogripError | OSError | TimeoutError):
        return friendly_error(exc) + " You can type the numbers instead."
    return f"The cuff could not be read ({type(exc).__name__}: {exc})."


#: What a screen gives for a read: the store and where the readings go (``None``: no read).
JobSource = Callable[[], tuple[Store, CuffJob] | None]


class CuffControl(QObject):
    """The \u201cRead from cuff\u201d button and its status line, for one screen.

    The screen places :attr:`button` and :attr:`status` (or gives a label of its own for
    the status); the window attaches the device thread and says where readings go
    (:meth:`attach`). Until then the button is hidden.

    Args:
        parent: The screen.
        status: A label of the screen to say what happens in (default: a new one,
            shown only while it has something to say).

    Signals:
        got(object): The :class:`~isogrip.storage.rows.BpReading` just taken.
        finished(object): The :class:`CuffOutcome` of a read.
    """

    got = pyqtSignal(object)
    finished = pyqtSignal(object)

    def __init__(self, parent: QWidget, status: QLabel | None = None) -> None:
        super().__init__(parent)
        self.button = button(BUTTON, slot=self.read)
        self.button.hide()
        self._own_status = status is None
        self.status = label("", wrap=True) if status is None else status
        if self._own_status:
            self.status.hide()
        self.host: DeviceHost | None = None
        self.job_for: JobSource | None = None
        self.backends: dict[str, Any] = {}
        self.scan_s, self.quiet_s = SCAN_S, QUIET_S
        self._future: concurrent.futures.Future[CuffRead] | None = None

    def attach(self, host: DeviceHost, job_for: JobSource, **backends: Any) -> None:
        """Read cuffs on ``host``; ``job_for`` says, at each press, where readings go.

        Args:
            host: The program's device thread.
            job_for: The store and the job for a read.
            **backends: bleak backends (``backend``, ``scanner_backend``; tests).
        """
        self.host, self.job_for, self.backends = host, job_for, backends
        self.button.show()

    @property
    def busy(self) -> bool:
        """Whether a read is under way."""
        return self._future is not None

    def read(self) -> None:
        """Look for the cuff, read and store its readings (in the background)."""
        job = self.job_for() if self.job_for is not None else None
        if self.host is None or job is None or self.busy:
            return
        store, what = job
        self._say(LOOKING)
        self.button.setEnabled(False)
        fut = self.host.submit(read_cuff(timeout_s=self.quiet_s, scan_timeout_s=self.scan_s,
                                         **self.backends))
        self._future = fut
        run_task(self, lambda: store_read(fut.result(), store, what),
                 lambda outcome: self._done(fut, outcome),
                 lambda exc: self._done(fut, CuffOutcome(failure_text(exc))))

    def reset(self) -> None:
        """Stop a read under way (nothing it brought is stored) and clear the status."""
        if self._future is not None:
            self._future.cancel()
        self._future = None
        self.button.setEnabled(True)
        self._say("")

    def _done(self, fut: concurrent.futures.Future[CuffRead], outcome: CuffOutcome) -> None:
        if fut is not self._future:
            return  # reset meanwhile: the screen has moved on
        self._future = None
        self.button.setEnabled(True)
        self._say(outcome.text)
        if outcome.reading is not None:
            self.got.emit(outcome.reading)
        self.finished.emit(outcome)

    def _say(self, text: str) -> None:
        set_text(self.status, text)
        if self._own_status:
            self.status.setVisible(bool(text))


def attach_cuff(window: MainWindow, **backends: Any) -> None:
    """Give the window's blood-pressure entries their \u201cRead from cuff\u201d.

    Before a session the newest reading is the ``pre`` one (linked to the session when
    it starts with it); on the Summary of a session that ended within
    :data:`POST_WINDOW` it is the session's ``post`` reading; in History and in the
    programme card's guide every reading is one at rest.
    """
    host = window.host

    def before() -> tuple[Store, CuffJob]:
        return window.store, CuffJob(window.settings.participant or None,
                                     just_taken=JustTaken("pre"))

    def after() -> tuple[Store, CuffJob] | None:
        s = window.summary
        if s.store is None or s.session_id is None or s.data is None:
            return None
        info = s.data.info
        ago = None if info.ended_at is None else \
            _dt.datetime.now(_dt.UTC) - _dt.datetime.fromisoformat(info.ended_at)
        recent = ago is not None and ago <= POST_WINDOW
        return s.store, CuffJob(info.participant, just_taken=JustTaken(
            "post", s.session_id) if recent else None)

    def at_rest() -> tuple[Store, CuffJob] | None:
        h = window.history
        return None if h.store is None else (h.store, CuffJob(h.participant))

    window.before.cuff.attach(host, before, **backends)
    window.summary.cuff.attach(host, after, **backends)
    window.history.cuff.attach(host, at_rest, **backends)
    window.device.programme.attach_cuff(host, **backends)  # its guide's readings
