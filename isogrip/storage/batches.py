"""The recorder's sealed batches and the thread that writes them.

A batch is everything one flush writes in one transaction: a block of samples (with
its chunk number) and the other records (phases, events, results) that came with
them. Batches are written strictly in the order they were sealed; a batch that fails
stays first in line and is tried again, so nothing is lost or reordered.

:class:`BatchWriter` writes them on its own thread through its own database
connection. The thread that owns the device (the session runtime's event loop) only
seals batches and hands them over, so it never waits for the disk or for another
process: while another isogrip holds the database's write lock (a long
``isogrip import``, say), samples keep arriving and queue up in memory, and are written
as soon as the lock is free.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import DatabaseBusyError, StorageError
from isogrip.storage.session_records import Op
from isogrip.storage.store import Store

log = logging.getLogger(__name__)



@dataclass
class Batch:
    """One transaction's worth of a session's data."""

    chunk: int | None  # the samples' chunk number, None when there are no samples
    t: NDArray[np.float64] | None
    t_device: NDArray[np.float64] | None
    force: NDArray[np.float64] | None
    ops: list[Op] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        """The number of samples in the batch."""
        return 0 if self.force is None else len(self.force)

    def merged(self, later: Batch) -> Batch:
        """This batch followed by ``later``, as one (samples, then records, in order).

        The merged batch keeps this batch's chunk number, or takes ``later``'s when
        this one has no samples.
        """
        if later.force is None:
            return Batch(self.chunk, self.t, self.t_device, self.force, self.ops + later.ops)
        if self.force is None:
            return Batch(later.chunk, later.t, later.t_device, later.force,
                         self.ops + later.ops)
        assert self.t is not None and later.t is not None
        t_device = None
        if self.t_device is not None or later.t_device is not None:
            t_device = np.concatenate([_or_nan(self.t_device, self.n_samples),
                                       _or_nan(later.t_device, later.n_samples)])
        return Batch(self.chunk, np.concatenate([self.t, later.t]), t_device,
                     np.concatenate([self.force, later.force]), self.ops + later.ops)

    def write(self, store: Store, session_id: int) -> None:
        """Write the batch in one transaction of ``store``.

        Raises:
            StorageError: It could not be written (nothing of it was).
        """
        with store.transaction():
            if self.chunk is not None:
                assert self.t is not None and self.force is not None
                store.write_samples(session_id, self.chunk, self.t, self.t_device,
                                    self.force)
            for op in self.ops:
                op.write(store, session_id)


def _or_nan(values: NDArray[np.float64] | None, n: int) -> NDArray[np.float64]:
    return np.full(n, np.nan) if values is None else values


#: Most sealed batches that wait to be written. Beyond it (another process has held the
#: write lock for a while) a new batch is merged into the last waiting one: nothing is
#: dropped, and the queue stays short however long the wait.
MAX_WAITING_BATCHES = 16


class BatchQueue:
    """Sealed batches waiting to be written, in order (thread-safe, bounded).

    At most :data:`MAX_WAITING_BATCHES` batches wait; the data they hold is never
    dropped (see :meth:`put`).
    """

    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self._lock = threading.Lock()
        self._batches: collections.deque[Batch] = collections.deque()
        self._writing = threading.Lock()  # one writer at a time, so no batch twice
        self.samples_written = 0
        self.flushes = 0

    def put(self, batch: Batch) -> bool:
        """Queue a batch after the others.

        When :data:`MAX_WAITING_BATCHES` wait already, the batch is merged into the
        last of them instead (never into the first, which the writer may be writing).

        Returns:
            Whether the batch's chunk number was used: ``False`` when its samples went
            into a batch that has a chunk number of its own, so the number is free for
            the next batch (chunk numbers stay consecutive).
        """
        with self._lock:
            if len(self._batches) >= max(2, MAX_WAITING_BATCHES):
                last = self._batches[-1]
                self._batches[-1] = last.merged(batch)
                return last.chunk is None
            self._batches.append(batch)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._batches)

    def waiting_samples(self) -> int:
        """Samples sealed but not yet written."""
        with self._lock:
            return sum(b.n_samples for b in self._batches)

    def waiting_ops(self) -> int:
        """Other records sealed but not yet written."""
        with self._lock:
            return sum(len(b.ops) for b in self._batches)

    def write_all(self, store: Store) -> int:
        """Write the queued batches in order, each in its own transaction.

        Returns:
            The number of samples written.

        Raises:
            StorageError: A batch could not be written; it and those after it stay
                queued.
        """
        written = 0
        with self._writing:
            while True:
                with self._lock:
                    if not self._batches:
                        return written
                    batch = self._batches[0]
                batch.write(store, self.session_id)
                with self._lock:
                    self._batches.popleft()
                    self.samples_written += batch.n_samples
                    self.flushes += 1
                written += batch.n_samples


class BatchWriter:
    """Writes a :class:`BatchQueue` on its own thread and connection.

    Args:
        queue: The batches to write.
        path: The database file (the writer opens its own connection to it).
        retry_s: How long to wait before trying again after a failure.

    Attributes:
        error: The last failure that is not just waiting for the write lock (a full
            disk, say), or ``None`` once a later write succeeded.
        busy_since: When (``time.monotonic``) the writer began waiting for another
            process's write lock, or ``None``.
    """

    def __init__(self, queue: BatchQueue, path: Any, retry_s: float = 0.5) -> None:
        self.queue = queue
        self.path = path
        self.retry_s = retry_s
        self.error: StorageError | None = None
        self.busy_since: float | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._store: Store | None = None
        self._thread = threading.Thread(target=self._main, name="isogrip-writer",
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A batch was queued: write it soon."""
        self._wake.set()

    def _main(self) -> None:
        while True:
            self._wake.wait(self.retry_s)
            self._wake.clear()
            self._write_once()
            if self._stop.is_set():
                return

    def _write_once(self) -> bool:
        try:
            if self._store is None:
                self._store = Store(self.path)
            self.queue.write_all(self._store)
        except DatabaseBusyError:
            if self.busy_since is None:
                self.busy_since = time.monotonic()
                log.warning("session %d: another program is writing to the database; "
                            "the data waits in memory", self.queue.session_id)
            return False
        except StorageError as exc:
            if self.error is None:
                log.error("session %d: could not save data (kept in memory, will retry): %s",
                          self.queue.session_id, exc)
            self.error = exc
            return False
        self.error, self.busy_since = None, None
        return True

    def finish(self, last: Callable[[Store], None], timeout_s: float) -> None:
        """Write everything queued, then ``last`` (the session's end), then stop.

        Waiting for another process's write lock goes on for up to ``timeout_s``;
        other failures are raised at once.

        Raises:
            StorageError: Something could not be written; the writer then keeps its
                batches so that ``finish`` can be called again.
        """
        self._stop.set()
        self._wake.set()
        self._thread.join()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._store is None:
                    self._store = Store(self.path)
                self.queue.write_all(self._store)
                last(self._store)
                break
            except DatabaseBusyError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(self.retry_s)
        self._store.close()
        self._store = None

    def abandon(self) -> None:
        """Close the writer's connection without writing (the data stays queued)."""
        if self._store is not None:
            self._store.close()
            self._store = None
