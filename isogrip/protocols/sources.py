"""Raw values (from TOML or JSON) -> a protocol: type conversion and error labels.

A :class:`Source` is where raw values come from (a file, a stored protocol): the label
its errors start with and how they name fields. :func:`coerce` checks a raw value's
type and converts it to the field's type; :meth:`Source.build` builds the protocol,
whose own checks (:mod:`isogrip.protocols.validation`) then run, and relabels their
error for the source. Both are driven by the field specs alone
(:func:`~isogrip.protocols.model.protocol_slots`).
"""

from __future__ import annotations

import difflib
import enum
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from isogrip.errors import ProtocolFileError
from isogrip.protocols.fields import FieldSpec, Slot
from isogrip.protocols.model import MvcSpec, Protocol, protocol_slots
from isogrip.protocols.validation import FILE_NAMING, Naming, ProtocolValueError, value_text

__all__ = ["Source", "closest", "coerce", "quoted"]

#: Every field, in the order of the file format.
_FILE_ORDER: Final = [s.spec for s in protocol_slots()]


@dataclass(frozen=True)
class Source:
    """Where raw protocol values come from, for error messages.

    Attributes:
        label: What every message starts with (a file path, ``<stored protocol>``).
        naming: How fields are named (TOML keys, or attribute paths).
    """

    label: str
    naming: Naming = FILE_NAMING

    def fail(self, field: str | None, message: str) -> NoReturn:
        """Raise a ProtocolFileError about ``field`` (a name as is, or the whole source)."""
        raise ProtocolFileError(self.label, message, field)

    def fail_on(self, slot: Slot, message: str) -> NoReturn:
        """Raise a ProtocolFileError about one field, named as this source names it."""
        self.fail(self.naming.label(slot.spec), message)

    def build(
        self, values: Mapping[Slot, Any], path: str | None, defaults: Collection[FieldSpec] = ()
    ) -> Protocol:
        """Build the protocol from converted values (missing ones keep their defaults).

        Args:
            values: Converted value of every field the source gave.
            path: The protocol's ``path``.
            defaults: Fields the source left out (for :class:`ProtocolValueError`).

        Raises:
            ProtocolValueError: A value breaks a rule of its field, labelled for this
                source.
        """
        inner = {s.attr: v for s, v in values.items() if s.parent}
        top = {s.attr: v for s, v in values.items() if not s.parent}
        found: list[ProtocolValueError] = []
        try:
            mvc = MvcSpec(**inner)
        except ProtocolValueError as exc:
            found.append(exc)
            mvc = MvcSpec()  # no rule links the two: the protocol's fields check alone
        try:
            protocol = Protocol(**top, mvc=mvc, path=path)
        except ProtocolValueError as exc:
            found.append(exc)
        if not found:
            return protocol
        # The MVC settings are built first, but [mvc] is not the first table: report
        # the problem a reader meets first in the file's order.
        first = min(found, key=lambda e: _FILE_ORDER.index(e.problem.spec))
        raise first.at(self.label, self.naming, defaults) from None


def quoted(value: object, *, boolean: bool = False) -> str:
    """:func:`value_text`, plus a hint when a number or true/false was written in quotes."""
    if isinstance(value, str):
        text = value.strip()
        if boolean:
            fits = text in ("true", "false")
        else:
            try:
                fits = math.isfinite(float(text))
            except ValueError:
                fits = False
        if fits:
            return f"{value_text(value)} (text; remove the quotes)"
    return value_text(value)


def coerce(value: object, slot: Slot, source: Source) -> Any:
    """Check a raw value's type and convert it to the field's type.

    Whole numbers are accepted for numbers (and become floats), numbers with no
    fraction for whole numbers, and the text of a choice for an enum field.

    Raises:
        ProtocolFileError: The value has the wrong type.
    """
    want = slot.type
    if want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            source.fail_on(slot, f"must be a number, got {quoted(value)}")
        if isinstance(value, int):
            try:
                return float(value)
            except OverflowError:
                source.fail_on(slot, f"must be a number of sensible size, got {value_text(value)}")
        return value
    if want is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            source.fail_on(slot, f"must be a whole number, got {quoted(value)}")
        return value
    if want is bool:
        if not isinstance(value, bool):
            source.fail_on(slot, f"must be true or false, got {quoted(value, boolean=True)}")
        return value
    if not isinstance(value, str):
        source.fail_on(slot, f"must be text in quotes, got {value_text(value)}")
    if not issubclass(want, enum.Enum):
        return value
    choices = [str(m.value) for m in want]
    if value not in choices:
        near = closest(value.strip().lower(), choices)
        hint = f' (did you mean "{near}"?)' if near else ""
        allowed = ", ".join(f'"{c}"' for c in choices)
        source.fail_on(slot, f"must be one of {allowed}; got {value_text(value)}{hint}")
    return want(value)


def closest(word: str, choices: list[str]) -> str | None:
    """The choice nearest to a misspelt ``word``, if one is near enough."""
    found = difflib.get_close_matches(word, choices, n=1)
    return found[0] if found else None
