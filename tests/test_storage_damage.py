"""Copying a damaged database is a step of finding the damage, not of making the error.

The copy (``<database>.damaged-<time>``) is made where the store decides the file is
damaged: opening it, or an SQLite "malformed" answer later. Building or raising the
error alone touches no file, so a caller that only describes damage never adds a
full copy of a database beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from isogrip.errors import DatabaseBusyError, DatabaseDamagedError
from isogrip.storage import recovery
from isogrip.storage.connection import Database
from isogrip.storage.paths import DB_FILENAME
from isogrip.storage.store import Store

JUNK = b"SQLite format 3\x00" + b"\x13" * 5000


def _copies(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{DB_FILENAME}.damaged-*"))


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    db = tmp_path / DB_FILENAME
    db.write_bytes(JUNK)
    return db


def test_building_and_raising_the_error_makes_no_copy(damaged: Path) -> None:
    with pytest.raises(DatabaseDamagedError) as info:
        raise recovery.damaged_error(damaged, "file is not a database", None)
    assert _copies(damaged.parent) == []
    assert info.value.path == str(damaged) and info.value.backup is None
    assert "A copy is kept" not in str(info.value) and "--new-database" in str(info.value)
    kept = damaged.with_name("kept")
    err = recovery.damaged_error(damaged, "x", kept)
    assert err.backup == str(kept) and f"A copy is kept at {kept}. " in str(err)
    assert _copies(damaged.parent) == []


def test_opening_a_damaged_file_makes_exactly_one_copy(damaged: Path) -> None:
    for _ in range(2):  # the second open finds the same damage and reuses the copy
        with pytest.raises(DatabaseDamagedError) as info:
            Store(damaged)
        (copy,) = _copies(damaged.parent)
        assert info.value.backup == str(copy) and copy.read_bytes() == JUNK
        assert f"A copy is kept at {copy}" in str(info.value)
    assert damaged.read_bytes() == JUNK  # the damaged file itself is left as it was


def test_a_cut_off_file_is_copied_once_when_opened(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        for _ in range(50):
            store.add_bp_reading(sbp=120, dbp=80, note="x" * 500)
    db = tmp_path / DB_FILENAME
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    with pytest.raises(DatabaseDamagedError) as info:
        Store(db)
    (copy,) = _copies(tmp_path)
    assert info.value.backup == str(copy)


def test_damage_found_in_use_is_copied_once_and_nothing_else_is(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        pass
    db = Database(store.path, sqlite3.connect(store.path))
    try:
        busy = sqlite3.OperationalError("database is locked")
        busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
        assert isinstance(db.fail("save", busy), DatabaseBusyError)
        assert _copies(tmp_path) == []
        err = db.fail("read", sqlite3.DatabaseError("database disk image is malformed"))
        assert isinstance(err, DatabaseDamagedError) and "could not read" in str(err)
        (copy,) = _copies(tmp_path)
        assert err.backup == str(copy)
    finally:
        db.close()
