"""isogrip.storage.csv_numbers (the numpy reader of samples.csv) against plain Python."""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from isogrip.storage.csv_numbers import leading_decimals, loose_numbers, split_lines

DECIMAL = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,12})?")
FIELDS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(lambda x: f"{x:.6f}"),
    st.integers(-10**13, 10**13).map(str),
    st.sampled_from(["", "-", ".", "1.", ".5", "-0", "1e5", "nan", " 1", '"2"', "1.2.3",
                     "123456789012.123456789012", "1234567890123", "0.1234567890123",
                     "--1", "1-", "\u00e9"]),
    st.text(alphabet="0123456789.-e ", max_size=30),
)
ROWS = st.one_of(
    st.lists(FIELDS, min_size=1, max_size=6).map(",".join),
    st.just(""), st.just("\r"),
)


def reference(text: str) -> tuple[list[int], list[list[float | None]]]:
    """Field counts, and the first three fields as decimals (None: empty or not one)."""
    lines = text.split("\n")[1:]
    if lines and lines[-1] == "":
        lines = lines[:-1]
    counts, cols = [], [[], [], []]
    for line in lines:
        line = line.removesuffix("\r")
        fields = line.split(",") if line else []
        counts.append(len(fields))
        for k in range(3):
            f = fields[k] if k < len(fields) else ""
            cols[k].append(float(f) if DECIMAL.fullmatch(f) else None)
    return counts, cols


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(ROWS, max_size=12), end=st.sampled_from(["", "\n", "\r\n"]))
def test_fields_counts_and_decimals_match_python(rows: list[str], end: str) -> None:
    text = "a,b,c\n" + "\n".join(rows) + (end if rows else "")
    lines = split_lines(text.encode())
    counts, cols = reference(text)
    assert lines.field_counts().tolist() == counts
    for k, col in enumerate(leading_decimals(lines, 3, 12, 12)):
        got = [float(v) if ok else None for v, ok in zip(col.values, col.ok, strict=True)]
        assert got == cols[k]
        assert np.isnan(col.values[~col.ok]).all()


def test_a_field_longer_than_a_decimal_is_refused_with_its_whole_text() -> None:
    long = "1" * 40
    lines = split_lines(f"h\n1,{long},3\n2,2,2".encode())
    cols = leading_decimals(lines, 3, 12, 12)
    assert cols[1].ok.tolist() == [False, True]
    assert lines.text(cols[1].span, 0) == long
    assert cols[0].values.tolist() == [1.0, 2.0]


def test_loose_numbers_read_what_numpy_reads_and_empty_as_nan() -> None:
    lines = split_lines(b"t,f\n1.5,nan\n,1e3\n-2,\n")
    [t, f] = lines.leading_fields(2, 64)
    assert loose_numbers(lines, t)[[0, 2]].tolist() == [1.5, -2.0]
    assert math.isnan(loose_numbers(lines, t)[1])
    values = loose_numbers(lines, f)
    assert math.isnan(values[0]) and values[1] == 1000.0 and math.isnan(values[2])
