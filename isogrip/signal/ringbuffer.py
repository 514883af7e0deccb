"""A fixed-memory, thread-safe ring of ``(t, force)`` samples for live display.

The session runtime appends every mapped batch from its asyncio thread while the GUI
reads the newest few seconds at display rate from the Qt thread. Both arrays are
allocated up front (and again only by an explicit :meth:`RingBuffer.resize`), so
memory stays flat however long a session runs, and every read
returns copies so the reader never sees a half-written batch.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["RingBuffer"]

_F64 = np.float64


class RingBuffer:
    """A ring of ``(t, force)`` float64 pairs with a fixed capacity.

    Appends and reads are guarded by one internal lock, so a producer thread and a
    display thread may use the same buffer. Samples are kept in arrival order; the
    oldest are overwritten once the ring is full.

    Args:
        capacity: Number of samples kept (at least 1).

    Raises:
        ValueError: ``capacity`` is less than 1.
    """

    __slots__ = ("_capacity", "_f", "_head", "_lock", "_size", "_t", "_total")

    def __init__(self, capacity: int) -> None:
        capacity = int(capacity)
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        # Preallocated: appends copy into these and never reallocate.
        self._t: NDArray[np.float64] = np.zeros(capacity, dtype=_F64)
        self._f: NDArray[np.float64] = np.zeros(capacity, dtype=_F64)
        self._head = 0  # index the next sample is written to
        self._size = 0
        self._total = 0
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """Maximum number of samples held."""
        return self._capacity

    @property
    def total_appended(self) -> int:
        """Number of samples ever appended (not reset by :meth:`clear`).

        Readers can compare it between frames to tell whether new data arrived.
        """
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return self._size

    def append(self, t: ArrayLike, force: ArrayLike) -> None:
        """Append a batch of samples (or one sample given as scalars).

        A batch longer than the capacity keeps only its newest ``capacity`` samples.

        Args:
            t: Sample times in seconds, oldest first.
            force: Forces in newtons, one per time.

        Raises:
            ValueError: ``t`` and ``force`` differ in length.
        """
        ta = np.asarray(t, dtype=_F64).reshape(-1)
        fa = np.asarray(force, dtype=_F64).reshape(-1)
        n = ta.shape[0]
        if fa.shape[0] != n:
            raise ValueError(f"t has {n} samples but force has {fa.shape[0]}")
        if n == 0:
            return
        cap = self._capacity
        with self._lock:
            self._total += n
            if n >= cap:
                # Only the newest `cap` samples can survive; lay them out from index 0.
                self._t[:] = ta[n - cap :]
                self._f[:] = fa[n - cap :]
                self._head = 0
                self._size = cap
                return
            head = self._head
            first = min(n, cap - head)
            self._t[head : head + first] = ta[:first]
            self._f[head : head + first] = fa[:first]
            rest = n - first
            if rest:
                self._t[:rest] = ta[first:]
                self._f[:rest] = fa[first:]
            self._head = (head + n) % cap
            self._size = min(self._size + n, cap)

    def resize(self, capacity: int) -> None:
        """Hold ``capacity`` samples from now on, keeping the newest ones held.

        The ring stays the same object, so a reader holding it (the display thread)
        goes on reading the same buffer; the change happens under the lock.

        Raises:
            ValueError: ``capacity`` is less than 1.
        """
        capacity = int(capacity)
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1, got {capacity}")
        with self._lock:
            t, f = self._ordered()
            keep = min(t.shape[0], capacity)
            self._t = np.zeros(capacity, dtype=_F64)
            self._f = np.zeros(capacity, dtype=_F64)
            self._t[:keep] = t[t.shape[0] - keep:]
            self._f[:keep] = f[f.shape[0] - keep:]
            self._capacity, self._size, self._head = capacity, keep, keep % capacity

    def _ordered(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Copies of the held samples, oldest first. Caller holds the lock."""
        size, cap = self._size, self._capacity
        start = (self._head - size) % cap
        if start + size <= cap:
            return self._t[start : start + size].copy(), self._f[start : start + size].copy()
        return (
            np.concatenate((self._t[start:], self._t[: self._head])),
            np.concatenate((self._f[start:], self._f[: self._head])),
        )

    def view(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return all held samples, oldest first.

        Returns:
            ``(t, force)`` as new arrays (copies, safe to keep and modify).
        """
        with self._lock:
            return self._ordered()

    def latest(self, seconds: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the samples with ``t >= newest_t - seconds``, oldest first.

        ``newest_t`` is the time of the most recently appended sample.

        Args:
            seconds: Length of the window, in seconds, ending at the newest sample.

        Returns:
            ``(t, force)`` as new arrays; empty when the buffer is empty.
        """
        with self._lock:
            t, f = self._ordered()
        if t.shape[0] == 0:
            return t, f
        # A mask rather than a binary search: exact even if times ever stepped back.
        keep = t >= t[-1] - float(seconds)
        if keep.all():
            return t, f
        return t[keep], f[keep]

    def clear(self) -> None:
        """Drop every held sample (the arrays stay allocated)."""
        with self._lock:
            self._head = 0
            self._size = 0
