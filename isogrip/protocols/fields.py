"""What each protocol field is: its TOML key, its unit and the values it may take.

Every field of :class:`~isogrip.protocols.model.Protocol` and
:class:`~isogrip.protocols.model.MvcSpec` is declared with :func:`spec`, which puts a
:class:`FieldSpec` in the dataclass field's metadata. That one declaration is all that
the rest of the package knows about a field: the model checks every value against it
when a protocol is built (:mod:`isogrip.protocols.validation`), the file format is
derived from it (:mod:`isogrip.protocols.fileformat`), and so are the names in error
messages. Nothing else lists the fields a second time.

This module is pure data: it reads no file and imports nothing else of isogrip's.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

__all__ = [
    "FieldSpec",
    "Problem",
    "Range",
    "Rule",
    "Slot",
    "Table",
    "Unit",
    "slots",
    "spec",
    "spec_metadata",
    "spec_of",
]

_T = TypeVar("_T")

#: Metadata key under which :func:`spec` stores a field's :class:`FieldSpec`.
_SPEC: Final = "isogrip.protocols.spec"


class Table(enum.Enum):
    """The tables of a protocol file, in the order files and docs list them."""

    PROTOCOL = "protocol"
    HOLDS = "holds"
    BAND = "band"
    TIMING = "timing"
    MVC = "mvc"
    DISPLAY = "display"


class Unit(enum.Enum):
    """What a field's number measures or counts."""

    NONE = "none"  # text, true/false, a choice
    FACTOR = "factor"  # a ratio with no unit
    SECONDS = "s"
    HOLDS = "holds"
    EFFORTS = "efforts"
    PCT_MVC = "% MVC"
    PCT = "%"
    NEWTONS = "N"
    KGF = "kgf"

    @property
    def symbol(self) -> str:
        """How the unit is written after a number (empty when it has none)."""
        return "" if self in (Unit.NONE, Unit.FACTOR) else self.value


@dataclass(frozen=True)
class Range:
    """The values one numeric field may take on its own.

    Attributes:
        low: Smallest value allowed, or ``None`` when another field bounds it.
        high: Largest value allowed, or ``None`` for no upper bound.
        low_open: ``low`` itself is not allowed.
        high_open: ``high`` itself is not allowed.
        off: 0 is allowed as well (below ``low``): it turns the step off.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    off: bool = False

    def allows(self, value: float) -> bool:
        """Whether ``value`` is in the range (NaN and infinities never are)."""
        if self.off and value == 0:
            return True
        # An int is finite (and may be too large for math.isfinite).
        if not (isinstance(value, int) or math.isfinite(value)):
            return False
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        high_ok = self.high is None or (
            value < self.high if self.high_open else value <= self.high
        )
        return low_ok and high_ok

    def divided(self, by: float) -> Range:
        """The same range in a unit ``by`` (> 0) times as large (N -> kgf: 9.80665)."""
        return dataclasses.replace(
            self,
            low=None if self.low is None else self.low / by,
            high=None if self.high is None else self.high / by,
        )


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field's value, before it is put into words.

    Attributes:
        spec: The field at fault.
        parts: The message: text, and other fields named as the reader names them
            (a TOML key in files and in code, an attribute in stored protocols).
        relation: The problem is the value's relation to another field; the value
            may then be a default the reader never wrote, and a file's message says so.
    """

    spec: FieldSpec
    parts: tuple[str | FieldSpec, ...]
    relation: bool = False


#: A rule of one field that involves others: given the dataclass that holds the
#: field, the problem, or ``None``.
Rule = Callable[[Any], Problem | None]


@dataclass(frozen=True)
class FieldSpec:
    """One protocol field as files, messages and checks know it.

    Attributes:
        table: The TOML table the field is written in.
        key: Its key inside that table.
        unit: What its number measures (:attr:`Unit.NONE` for text and choices).
        range: The values it may take on its own (``None``: no bound of its own).
        what: How a message names a value (``"a band half-width"``), if not plainly.
        unit_words: How a message writes the unit, if not by its symbol.
        why: A reminder after the range in messages (``"1 shows true force"``).
        file_unit: The unit a file writes the value in, if not :attr:`unit`.
        file_scale: Model value per file value (kgf -> N: 9.80665).
        after: Key this one follows in files and docs, if not its declaration order
            (a field added later keeps the dataclass's positional arguments).
        rules: Checks involving other fields, reported on this one.
    """

    table: Table
    key: str
    unit: Unit = Unit.NONE
    range: Range | None = None
    what: str = ""
    unit_words: str = ""
    why: str = ""
    file_unit: Unit | None = None
    file_scale: float = 1.0
    after: str = ""
    rules: tuple[Rule, ...] = ()

    @property
    def label(self) -> str:
        """The dotted TOML key (``holds.duration_s``)."""
        return f"{self.table.value}.{self.key}"


def spec(
    default: _T,
    table: Table,
    key: str,
    unit: Unit = Unit.NONE,
    range: Range | None = None,
    **more: Any,
) -> _T:
    """A dataclass field with ``default`` and its :class:`FieldSpec`.

    Args:
        default: The field's default value.
        table: The TOML table of the field.
        key: Its TOML key.
        unit: What its number measures.
        range: The values it may take on its own.
        **more: Further :class:`FieldSpec` attributes (``what``, ``rules``, ...).

    Returns:
        A :func:`dataclasses.field` (typed as its default, for the dataclass body).
    """
    about = FieldSpec(table, key, unit, range, **more)
    field: _T = dataclasses.field(default=default, metadata={_SPEC: about})
    return field


def spec_metadata(table: Table, key: str, **more: Any) -> dict[str, FieldSpec]:
    """The metadata of a field without a default (``field(metadata=...)``)."""
    return {_SPEC: FieldSpec(table, key, **more)}


@dataclass(frozen=True)
class Slot:
    """A specified field as found on its dataclass.

    Attributes:
        attr: The attribute name in its dataclass (``rest_s``).
        type: Its Python type (``float``, ``int``, ``bool``, ``str`` or an enum).
        spec: Its :class:`FieldSpec`.
        parent: The attribute holding its dataclass inside a protocol (``"mvc"``), or
            ``""`` for a field of the protocol itself.
    """

    attr: str
    type: type
    spec: FieldSpec
    parent: str = ""

    @property
    def path(self) -> str:
        """The attribute path from the protocol (``mvc.rest_s``, ``hold_s``)."""
        return f"{self.parent}.{self.attr}" if self.parent else self.attr

    def get(self, protocol: object) -> Any:
        """This field's value in a protocol."""
        owner = getattr(protocol, self.parent) if self.parent else protocol
        return getattr(owner, self.attr)


@functools.cache
def slots(cls: type, parent: str = "") -> tuple[Slot, ...]:
    """The specified fields of a dataclass, in file order (cached per class).

    Args:
        cls: A dataclass whose fields were declared with :func:`spec`.
        parent: The attribute holding ``cls`` inside a protocol (see :attr:`Slot.parent`).
    """
    hints = typing.get_type_hints(cls)
    found = [
        Slot(f.name, hints[f.name], f.metadata[_SPEC], parent)
        for f in dataclasses.fields(cls)
        if _SPEC in f.metadata
    ]
    for slot in [s for s in found if s.spec.after]:
        found.remove(slot)
        at = next(i for i, s in enumerate(found) if s.spec.key == slot.spec.after)
        found.insert(at + 1, slot)
    return tuple(found)


def spec_of(cls: type, attr: str) -> FieldSpec:
    """The :class:`FieldSpec` of the attribute ``attr`` of the dataclass ``cls``."""
    return next(s.spec for s in slots(cls) if s.attr == attr)
