"""Small value types shared by every layer (no I/O, no dependencies)."""

from __future__ import annotations

import enum


class Hand(enum.StrEnum):
    """A hand. The string value is what files and exports use."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Hand:
        """The opposite hand."""
        return Hand.RIGHT if self is Hand.LEFT else Hand.LEFT

    @property
    def label(self) -> str:
        """Upper-case label for displays (``"LEFT"``)."""
        return self.value.upper()
