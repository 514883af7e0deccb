"""Participant IDs: the one rule every way of entering one goes through.

A participant is recorded by a short code (``P017``), never by a name: health data
exported for a study must not identify the person. The rule is checked here, and the
store calls it for every session and blood-pressure reading it writes, so the settings,
``run``, ``bp add``, ``bp import`` and ``import`` cannot differ.
"""

from __future__ import annotations

import re

from isogrip.errors import IsogripError

#: Participant IDs: short codes, never names (letters, digits, ``-``, ``_``, ``.``).
PARTICIPANT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class ParticipantIdError(IsogripError, ValueError):
    """A participant ID is not a short code (the message says what is allowed)."""


def check_participant_id(text: str) -> str:
    """The participant ID if it follows the rule (``""`` means none).

    Raises:
        ParticipantIdError: It has spaces or other characters a name would have, or is
            longer than 32 characters.
    """
    if text and not PARTICIPANT_ID_RE.match(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ParticipantIdError(
            "participant ID must be a short code (up to 32 letters, digits, '-', '_' or "
            f"'.'), not a name; got {shown!r}")
    return text


def participant_or_none(value: object) -> str | None:
    """The participant ID to record: stripped and checked; ``None`` when there is none.

    The store calls this in every method that writes a participant, so no way in
    (``run``, the desktop app, ``bp add``, ``bp import``, ``import``) can record a name.

    Raises:
        ParticipantIdError: Not text, or not a short code (:func:`check_participant_id`).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParticipantIdError("participant ID must be text (a short code such as "
                                 f"P017), got a value of type {type(value).__name__}")
    return check_participant_id(value.strip()) or None
