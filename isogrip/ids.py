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
