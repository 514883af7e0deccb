"""Reading what a user typed to name a session (``isogrip export last``, say).

The store only answers typed questions (is there a session 12? which is the latest?
which uuids start with ``3f2a9c``?); turning the text into one of them, and the
messages that point at ``isogrip sessions`` and ``isogrip run``, belong to the
command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from isogrip.errors import SessionNotFoundError

if TYPE_CHECKING:
    from isogrip.storage.store import Store

#: Words that name the most recent session.
LATEST_WORDS: Final = ("last", "latest")
#: Fewest uuid characters accepted: fewer would match several sessions too often.
MIN_UUID_PREFIX: Final = 6

_UUID_CHARS: Final = frozenset("0123456789abcdef-")


def resolve_session(store: Store, ref: str | int) -> int:
    """Find a session from what a user typed.

    Args:
        store: The open store.
        ref: A session id (``"12"``), ``"last"``/``"latest"`` (the most recent
            session), or the first 6 or more characters of its uuid.

    Returns:
        The session id.

    Raises:
        SessionNotFoundError: Nothing (or more than one session) matches.
    """
    text = str(ref).strip()
    if text.lower() in LATEST_WORDS:
        latest = store.latest_session_id()
        if latest is None:
            raise SessionNotFoundError("no sessions recorded yet; start one with `isogrip run`")
        return latest
    if text.isdigit():
        if store.has_session(int(text)):
            return int(text)
        if len(text) < MIN_UUID_PREFIX:
            raise _no_such_id(text)
        # Six digits or more may also be the start of a uuid: try that next.
    prefix = text.lower()
    if len(prefix) >= MIN_UUID_PREFIX and set(prefix) <= _UUID_CHARS:
        return _by_uuid_prefix(store, text, prefix)
    raise SessionNotFoundError(
        f"{text!r} is not a session: give a session id, 'last', or at least 6 "
        "characters of a uuid (see `isogrip sessions`)"
    )


def _by_uuid_prefix(store: Store, text: str, prefix: str) -> int:
    ids = store.session_ids_by_uuid_prefix(prefix, limit=2)
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise SessionNotFoundError(
            f"{text!r} matches more than one session; give more characters of the "
            "uuid, or the session id from `isogrip sessions`"
        )
    raise SessionNotFoundError(
        f"no session's uuid starts with {text!r}; list the sessions with `isogrip sessions`"
    )


def _no_such_id(text: str) -> SessionNotFoundError:
    # Worded as the store words an unknown id, so both read the same to the user.
    return SessionNotFoundError(f"no session {text}; list the sessions with `isogrip sessions`")
