"""Tests for isogrip.signal.ringbuffer."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isogrip.signal.ringbuffer import RingBuffer


@pytest.mark.parametrize("capacity", [0, -1, -100])
def test_capacity_must_be_positive(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(capacity)


def test_empty_buffer() -> None:
    rb = RingBuffer(4)
    t, f = rb.view()
    assert t.shape == (0,) and f.shape == (0,)
    assert t.dtype == np.float64
    t, f = rb.latest(10.0)
    assert t.shape == (0,) and f.shape == (0,)
    assert len(rb) == 0
    assert rb.capacity == 4
    assert rb.total_appended == 0


def test_append_and_wrap_keeps_newest_in_order() -> None:
    rb = RingBuffer(5)
    rb.append([0.0, 1.0, 2.0], [10.0, 11.0, 12.0])
    t, f = rb.view()
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert f.tolist() == [10.0, 11.0, 12.0]
    rb.append([3.0, 4.0, 5.0, 6.0], [13.0, 14.0, 15.0, 16.0])
    t, f = rb.view()
    assert t.tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert f.tolist() == [12.0, 13.0, 14.0, 15.0, 16.0]
    assert len(rb) == 5
    assert rb.total_appended == 7


def test_batch_larger_than_capacity_keeps_newest() -> None:
    rb = RingBuffer(3)
    rb.append([100.0], [0.0])
    rb.append(np.arange(10.0), np.arange(10.0) * 2)
    t, f = rb.view()
    assert t.tolist() == [7.0, 8.0, 9.0]
    assert f.tolist() == [14.0, 16.0, 18.0]
    assert rb.total_appended == 11
    # And appending after that continues the ring correctly.
    rb.append([10.0], [20.0])
    assert rb.view()[0].tolist() == [8.0, 9.0, 10.0]


def test_batch_exactly_capacity() -> None:
    rb = RingBuffer(3)
    rb.append([0.0, 1.0], [0.0, 1.0])
    rb.append([2.0, 3.0, 4.0], [2.0, 3.0, 4.0])
    assert rb.view()[0].tolist() == [2.0, 3.0, 4.0]


def test_scalars_and_mismatched_lengths() -> None:
    rb = RingBuffer(3)
    rb.append(1.5, 20.0)
    assert rb.view()[0].tolist() == [1.5]
    assert rb.view()[1].tolist() == [20.0]
    with pytest.raises(ValueError, match="samples"):
        rb.append([1.0, 2.0], [1.0])
    rb.append([], [])
    assert len(rb) == 1


def test_view_returns_copies() -> None:
    rb = RingBuffer(4)
    rb.append([1.0, 2.0], [3.0, 4.0])
    t, f = rb.view()
    t[:] = -1
    f[:] = -1
    t2, f2 = rb.view()
    assert t2.tolist() == [1.0, 2.0]
    assert f2.tolist() == [3.0, 4.0]
    lt, _ = rb.latest(100.0)
    lt[:] = -5
    assert rb.view()[0].tolist() == [1.0, 2.0]


def test_latest_window() -> None:
    rb = RingBuffer(8)
    rb.append(np.arange(12.0), np.arange(12.0) + 100)  # keeps 4..11
    t, f = rb.latest(3.0)  # t >= 11 - 3 = 8
    assert t.tolist() == [8.0, 9.0, 10.0, 11.0]
    assert f.tolist() == [108.0, 109.0, 110.0, 111.0]
    t, _ = rb.latest(0.0)
    assert t.tolist() == [11.0]
    t, _ = rb.latest(1e9)
    assert t.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]


def test_clear_keeps_capacity_and_total() -> None:
    rb = RingBuffer(4)
    rb.append([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    rb.clear()
    assert len(rb) == 0
    assert rb.view()[0].shape == (0,)
    assert rb.total_appended == 3
    rb.append([5.0], [6.0])
    assert rb.view()[0].tolist() == [5.0]
    assert rb.total_appended == 4


def test_memory_does_not_grow() -> None:
    rb = RingBuffer(1000)
    t_arr, f_arr = rb._t, rb._f
    batch = np.arange(7.0)
    rb.append(batch, batch)  # warm up
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(5000):
            rb.append(batch + 7 * i, batch)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 35,000 samples passed through; 1,000 float pairs is 16 kB. Nothing may pile up.
    assert after - before < 4096
    assert rb._t is t_arr and rb._f is f_arr
    assert rb.total_appended == 7 + 35000
    assert len(rb) == 1000


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 20),
    sizes=st.lists(st.integers(0, 30), max_size=15),
)
def test_matches_reference_model(capacity: int, sizes: list[int]) -> None:
    rb = RingBuffer(capacity)
    everything: list[float] = []
    counter = 0
    for n in sizes:
        t = np.arange(counter, counter + n, dtype=float)
        counter += n
        rb.append(t, -t)
        everything.extend(t.tolist())
        expected = everything[-capacity:]
        got_t, got_f = rb.view()
        assert got_t.tolist() == expected
        assert got_f.tolist() == [-x for x in expected]
        assert len(rb) == len(expected)
        assert rb.total_appended == len(everything)


def test_concurrent_writer_and_reader_see_consistent_pairs() -> None:
    rb = RingBuffer(257)
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        k = 0
        while not stop.is_set() and k < 400_000:
            t = np.arange(k, k + 13, dtype=float)
            rb.append(t, 2 * t)
            k += 13

    def reader() -> None:
        for _ in range(2000):
            t, f = rb.view()
            if not np.array_equal(f, 2 * t):
                errors.append("force does not belong to its time")
            if t.size > 1 and not np.all(np.diff(t) == 1.0):
                errors.append("torn or unordered view")

    w = threading.Thread(target=writer)
    w.start()
    try:
        reader()
    finally:
        stop.set()
        w.join(timeout=10)
    assert not errors


@pytest.mark.parametrize("new_capacity", [3, 10, 64])
def test_resize_keeps_the_newest_samples_in_order_and_appends_go_on(new_capacity: int) -> None:
    rb = RingBuffer(10)
    rb.append(np.arange(25.0), np.arange(25.0) * 2)  # wrapped: holds 15..24
    rb.resize(new_capacity)
    t, f = rb.view()
    keep = min(10, new_capacity)
    assert t.tolist() == list(np.arange(25.0 - keep, 25.0))
    assert f.tolist() == (2 * t).tolist()
    assert rb.capacity == new_capacity
    rb.append(np.arange(25.0, 32.0), np.arange(25.0, 32.0) * 2)
    t, f = rb.view()
    expect = np.arange(25.0 - keep, 32.0)[-new_capacity:]
    assert t.tolist() == expect.tolist() and f.tolist() == (2 * expect).tolist()
    assert rb.total_appended == 32


def test_resize_refuses_a_capacity_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RingBuffer(5).resize(0)
