"""The store's typed session lookups, which the command line reads session names with.

What a user types ("last", an id, a uuid prefix) is read by
:func:`isogrip.cli.session_ref.resolve_session` (tested in ``test_storage.py``); the
store only answers the typed questions below.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from isogrip.cli.session_ref import resolve_session
from isogrip.errors import SessionNotFoundError
from isogrip.storage.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path)
    yield s
    s.close()


def _new(store: Store) -> int:
    return store.create_session(
        started_at=dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC), protocol_name="p",
        protocol={}, device="sim", participant=None, app_version="0", t0_s=0.0)


def test_typed_lookups(store: Store) -> None:
    assert store.latest_session_id() is None and not store.has_session(1)
    a, b, c = _new(store), _new(store), _new(store)
    assert store.has_session(a) and not store.has_session(c + 1)
    assert [store.latest_session_id(n) for n in (1, 2, 3, 4)] == [c, b, a, None]
    with pytest.raises(ValueError, match="counts from 1"):
        store.latest_session_id(0)
    uuid = store.get_session(b).uuid
    assert store.session_ids_by_uuid_prefix(uuid[:8]) == [b]
    assert store.session_ids_by_uuid_prefix("") == [a, b]  # every uuid; at most `limit`
    assert store.session_ids_by_uuid_prefix("", limit=5) == [a, b, c]
    assert store.session_ids_by_uuid_prefix("zzzzzz") == []


def test_the_cli_reads_names_through_them(store: Store) -> None:
    with pytest.raises(SessionNotFoundError, match="start one with `isogrip run`"):
        resolve_session(store, "last")
    a = _new(store)
    assert resolve_session(store, "latest") == resolve_session(store, str(a)) == a
    assert resolve_session(store, store.get_session(a).uuid[:6].upper()) == a
