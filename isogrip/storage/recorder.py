"""The crash-safe session recorder.

A :class:`Recorder` collects everything one session produces (samples, phase
changes, events, MVC trials and results, hold results) and writes it to the
:class:`~isogrip.storage.store.Store` in batches: one transaction per flush, at least
every ``flush_interval_s`` seconds of its clock while data keeps coming, and sooner
when ``max_buffer_samples`` samples are waiting. A crash therefore loses at most about
one second of data, and the database never holds half a batch.

Adding data is cheap: :meth:`Recorder.add_samples` only keeps references to the
arrays (they are concatenated at the flush), so the caller must not modify an array
after handing it over.

Errors: a flush that the ``add_*`` methods start never raises; on a storage failure the
data stays buffered in memory, :attr:`Recorder.error` holds the error, it is logged,
and the flush is retried one interval later. :meth:`Recorder.flush` and
:meth:`Recorder.close` raise :class:`~isogrip.errors.StorageError`, so the end of a
session always reports a failure that has not gone away.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import StorageError
from isogrip.protocols.records import Event, HoldFinished, PhaseChanged
from isogrip.storage.batches import Batch, BatchQueue, BatchWriter
from isogrip.storage.rows import FINAL_STATUSES
from isogrip.storage.session_records import Op, ReusedMvc, StoredRecord
from isogrip.storage.store import Store
from isogrip.types import Hand

log = logging.getLogger(__name__)

#: How long the end of a session waits for another process's write lock (s). Imports
#: commit in short transactions, so this is only reached if something holds it for good.
FINISH_WAIT_S = 60.0
#: What :meth:`Recorder.add_samples` accepts: a 1-D numpy array or a sequence of floats.
SampleArray = NDArray[Any] | Sequence[float]


class Recorder:
    """Buffers one session's data and writes it to the store in batches.

    Args:
        store: The open store (the session must exist in it).
        session_id: The session to record into (from :meth:`Store.create_session`).
        flush_interval_s: Write at least this often (in ``clock`` seconds) while data
            arrives.
        max_buffer_samples: Write as soon as this many samples are waiting.
        clock: Time source for the flush interval (seconds, monotonic).
        background: Write on a thread of the recorder's own, through its own database
            connection, so that the caller (the thread that owns the device) never
            waits for the disk or for another process's write lock.
    """

    def __init__(
        self,
        store: Store,
        session_id: int,
        *,
        flush_interval_s: float = 1.0,
        max_buffer_samples: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
        background: bool = False,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError("flush_interval_s must be positive")
        if max_buffer_samples < 1:
            raise ValueError("max_buffer_samples must be at least 1")
        self.store = store
        self.session_id = int(session_id)
        self.flush_interval_s = float(flush_interval_s)
        self.max_buffer_samples = int(max_buffer_samples)
        self._clock = clock
        # Continue numbering if the session already holds data (raises if it is absent).
        store.get_session(self.session_id)
        self._chunk, self._phase_seq, self._event_seq = store.next_indices(self.session_id)
        self._attempts: dict[int, int] = {}
        for h in store.load_holds(self.session_id):
            self._attempts[h.rep] = max(self._attempts.get(h.rep, 0), h.attempt)
        self._t: list[SampleArray] = []
        self._td: list[SampleArray | None] = []
        self._f: list[SampleArray] = []
        self._buffered = 0
        self._ops: list[Op] = []
        self._last_flush = clock()
        self._retry_at: float | None = None
        self._closed = False
        self._warned_closed = False
        self._error: StorageError | None = None
        self._queue = BatchQueue(self.session_id)
        self._writer = BatchWriter(self._queue, store.path) if background else None

    # ------------------------------------------------------------------ state
    @property
    def samples_written(self) -> int:
        """Samples committed to the database so far."""
        return self._queue.samples_written

    @property
    def flushes(self) -> int:
        """Successful flushes (transactions) so far."""
        return self._queue.flushes

    @property
    def error(self) -> StorageError | None:
        """The last storage failure of an automatic flush, or ``None`` once one succeeded.

        Waiting for another process's write lock is not a failure (see :attr:`waiting`).
        """
        return self._writer.error if self._writer is not None else self._error

    @property
    def waiting(self) -> bool:
        """Whether the background writer waits for another process's write lock."""
        return self._writer is not None and self._writer.busy_since is not None

    @property
    def queued_batches(self) -> int:
        """Sealed batches waiting for the writer (at most ``MAX_WAITING_BATCHES``)."""
        return len(self._queue)

    @property
    def buffered_samples(self) -> int:
        """Samples not yet written."""
        return self._buffered + self._queue.waiting_samples()

    @property
    def pending_records(self) -> int:
        """Non-sample records (phases, events, ...) not yet written."""
        return len(self._ops) + self._queue.waiting_ops()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has completed."""
        return self._closed

    def _accepting(self) -> bool:
        if not self._closed:
            return True
        if not self._warned_closed:
            self._warned_closed = True
            log.warning("session %d: data arrived after the recorder closed; ignored",
                        self.session_id)
        return False

    # ------------------------------------------------------------------ samples
    def add_samples(
        self, t: SampleArray, t_device: SampleArray | None, force: SampleArray
    ) -> None:
        """Buffer a batch of samples (cheap: keeps references, writes later).

        Args:
            t: Session clock times (s).
            t_device: Device clock times (s), or ``None`` if the device has no clock.
            force: Forces (N), recorded as received (NaN included).

        Raises:
            ValueError: The arrays differ in length.
        """
        if not self._accepting():
            return
        n = len(force)
        if len(t) != n or (t_device is not None and len(t_device) != n):
            raise ValueError("t, t_device and force must have the same length")
        if n == 0:
            return
        self._t.append(t)
        self._td.append(t_device)
        self._f.append(force)
        self._buffered += n
        self._maybe_flush()

    # ------------------------------------------------------------------ other records
    def add(self, record: Event) -> None:
        """Record what the session produced (written with the next batch).

        A hold result recorded again for the same repetition (a hold stopped by a pause
        and then repeated) is kept as a new attempt (1, 2, ...), so no result is lost.
        """
        if not self._accepting():
            return
        seq = self._event_seq
        self._event_seq += 1
        phase_seq = attempt = None
        if isinstance(record, PhaseChanged):
            phase_seq = self._phase_seq
            self._phase_seq += 1
        elif isinstance(record, HoldFinished):
            attempt = self._attempts.get(record.rep, 0) + 1
            self._attempts[record.rep] = attempt
        self._ops.append(StoredRecord(seq, record, phase_seq, attempt))
        self._maybe_flush()

    def reuse_mvc(self, hand: Hand, mvc_n: float) -> None:
        """Record an MVC carried over from an earlier session as this session's."""
        if not self._accepting():
            return
        self._ops.append(ReusedMvc(hand, float(mvc_n)))
        self._maybe_flush()

    # ------------------------------------------------------------------ flushing
    def _due(self, now: float) -> bool:
        if self._retry_at is not None:
            return now >= self._retry_at
        return (self._buffered >= self.max_buffer_samples
                or now - self._last_flush >= self.flush_interval_s)

    def _seal(self) -> None:
        """Move what is buffered into a batch queued for writing."""
        if not self._buffered and not self._ops:
            return
        batch = Batch(None, None, None, None, self._ops)
        if self._buffered:
            t = np.concatenate([np.asarray(a, np.float64).ravel() for a in self._t])
            f = np.concatenate([np.asarray(a, np.float64).ravel() for a in self._f])
            batch = Batch(self._chunk, t, self._device_times(), f, self._ops)
        if self._queue.put(batch) and self._buffered:
            self._chunk += 1
        self._t, self._td, self._f, self._ops = [], [], [], []
        self._buffered = 0

    def _maybe_flush(self) -> bool:
        now = self._clock()
        if not self._due(now):
            return False
        if self._writer is not None:  # the writer thread does the waiting
            self._seal()
            self._last_flush = now
            self._writer.wake()
            return True
        try:
            self._flush(now)
        except StorageError as exc:
            if self._error is None:
                log.error("session %d: could not save data (kept in memory, will retry): %s",
                          self.session_id, exc)
            self._error = exc
            self._retry_at = now + self.flush_interval_s
            return False
        return True

    def maybe_flush(self) -> bool:
        """Flush if the interval has passed (for callers that tick without data).

        Never raises a storage error (see the module notes).

        Returns:
            Whether a flush happened (in the background: was handed over) and succeeded.
        """
        if not (self._buffered or self._ops):
            return False
        return self._maybe_flush()

    def flush(self) -> int:
        """Write everything buffered now, one transaction per batch, on this thread.

        Returns:
            The number of samples written.

        Raises:
            StorageError: The database could not be written (the data stays queued).
        """
        return self._flush(self._clock())

    def _flush(self, now: float) -> int:
        self._seal()
        n = self._queue.write_all(self.store)
        self._last_flush = now
        self._retry_at = None
        self._error = None
        return n

    def _device_times(self) -> NDArray[np.float64] | None:
        if all(a is None for a in self._td):
            return None
        parts: list[NDArray[np.float64]] = []
        for tdev, force in zip(self._td, self._f, strict=True):
            if tdev is None:
                parts.append(np.full(len(force), np.nan))
            else:
                parts.append(np.asarray(tdev, np.float64).ravel())
        return np.concatenate(parts)

    def close(
        self, status: str, note: str | None = None, *, ended_at: _dt.datetime | None = None
    ) -> None:
        """Write what is left and record the end of the session.

        Safe to call twice (the second call does nothing). Data added afterwards is
        ignored with a warning.

        Args:
            status: ``complete``, ``aborted`` or ``interrupted``.
            note: Why the session stopped, or ``None``.
            ended_at: Wall-clock end (default: now).

        Raises:
            ValueError: ``status`` is not a final status.
            StorageError: The database could not be written; the recorder stays open
                so that ``close`` can be tried again.
        """
        if self._closed:
            return
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}; got {status!r}")
        end = ended_at or _dt.datetime.now(_dt.UTC)
        self._seal()
        if self._writer is not None:
            self._writer.finish(
                lambda st: st.finish_session(self.session_id, status, end, note),
                FINISH_WAIT_S)
        else:
            self.flush()
            self.store.finish_session(self.session_id, status, end, note)
        self._closed = True
