"""The ``samples`` table: raw force samples, one row per recorder flush.

Each row holds a chunk of samples as little-endian float64 arrays (blobs), rather
than one row per sample: writing stays far faster than any force device and the file
stays compact. ``t_device_s`` is NULL for a device without a clock.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.storage.connection import Database
from isogrip.storage.sqlvalues import real

#: Byte layout of every array in the ``samples`` table.
SAMPLE_DTYPE: Final = np.dtype("<f8")

#: The three arrays of a session's samples: session clock times (s), device clock
#: times (s; NaN where the device gave none) and forces (N).
Samples = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def encode(a: ArrayLike) -> NDArray[np.float64]:
    """An array flattened to the stored byte layout (its ``tobytes()`` is the blob)."""
    return np.ascontiguousarray(a, dtype=SAMPLE_DTYPE).ravel()


def decode(blob: bytes, count: int = -1) -> NDArray[np.float64]:
    """A stored blob as a new native float64 array (the first ``count`` values)."""
    return np.frombuffer(blob, dtype=SAMPLE_DTYPE, count=count).astype(np.float64)


def write_samples(db: Database, session_id: int, chunk: int, t: ArrayLike,
                  t_device: ArrayLike | None, force: ArrayLike) -> int:
    """Store one chunk of samples (see :meth:`~isogrip.storage.store.Store.write_samples`).

    Returns:
        The number of samples written.

    Raises:
        ValueError: The arrays differ in length.
    """
    tt, ff = encode(t), encode(force)
    td = None if t_device is None else encode(t_device)
    n = tt.size
    if ff.size != n or (td is not None and td.size != n):
        raise ValueError("t, t_device and force must have the same length")
    db.execute(
        "save samples",
        "INSERT INTO samples (session_id, chunk, t_first_s, n, t_s, t_device_s, force_n)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            int(session_id), int(chunk), real(tt[0]) if n else None, n,
            tt.tobytes(), None if td is None else td.tobytes(), ff.tobytes(),
        ),
    )
    return n


def count_samples(db: Database, session_id: int) -> int:
    """Number of samples stored for a session (without loading them)."""
    (v,) = db.fetch_one("count samples",
                        "SELECT coalesce(sum(n), 0) FROM samples WHERE session_id = ?",
                        (int(session_id),))
    return int(v)


def load_samples(db: Database, session_id: int) -> Samples:
    """Every sample of a session, in recording order, as new float64 arrays."""
    rows = db.fetch_all(
        "read samples",
        "SELECT n, t_s, t_device_s, force_n FROM samples WHERE session_id = ?"
        " ORDER BY chunk",
        (int(session_id),),
    )
    total = sum(int(r[0]) for r in rows)
    t = np.empty(total, np.float64)
    td = np.full(total, np.nan, np.float64)
    f = np.empty(total, np.float64)
    i = 0
    for n, bt, btd, bf in rows:
        n = int(n)
        t[i:i + n] = np.frombuffer(bt, dtype=SAMPLE_DTYPE, count=n)
        if btd is not None:
            td[i:i + n] = np.frombuffer(btd, dtype=SAMPLE_DTYPE, count=n)
        f[i:i + n] = np.frombuffer(bf, dtype=SAMPLE_DTYPE, count=n)
        i += n
    return t, td, f


def last_sample_time(db: Database, session_id: int) -> float | None:
    """Latest finite session clock time in the session's last chunk, or ``None``."""
    row = db.fetch_one(
        "read samples",
        "SELECT t_s FROM samples WHERE session_id = ? ORDER BY chunk DESC LIMIT 1",
        (session_id,),
    )
    if row is None or len(row[0]) < SAMPLE_DTYPE.itemsize:
        return None
    t = decode(row[0])
    t = t[np.isfinite(t)]
    return float(t.max()) if t.size else None
