"""Checking protocol values against their field specs, and the error that says why.

:func:`check_fields` is what :class:`~isogrip.protocols.model.Protocol` and
:class:`~isogrip.protocols.model.MvcSpec` run when they are built, whether in code,
from a file or from a stored protocol: every field's type, its own range
(:class:`~isogrip.protocols.fields.Range`) and its rules involving other fields, in
file order, stopping at the first problem. A problem is raised as a
:class:`ProtocolValueError` whose message is one line; a protocol built in code names
fields by their TOML keys, like a file does::

    <protocol built in code>: holds.duration_s: must be a positive number of seconds, got -5

The loaders re-raise the same problem with their own label (:meth:`ProtocolValueError.at`):
the file path and TOML keys for files, ``<stored protocol>`` and attribute names for
stored protocols.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from isogrip.errors import ProtocolFileError
from isogrip.protocols.fields import FieldSpec, Problem, Range, Slot, Unit, slots

__all__ = [
    "BUILT_IN_CODE",
    "FILE_NAMING",
    "Naming",
    "ProtocolValueError",
    "check_fields",
    "number_text",
    "out_of_range",
    "range_problem",
    "value_text",
]

#: Where the error of a protocol built in code says it comes from.
BUILT_IN_CODE: Final = "<protocol built in code>"


@dataclass(frozen=True, eq=False)
class Naming:
    """How a message names fields.

    Attributes:
        paths: Field -> attribute path (``mvc.rest_s``) to name fields as the model
            does; ``None`` names them by their dotted TOML key (``holds.rest_s``).
    """

    paths: Mapping[FieldSpec, str] | None = None

    def label(self, spec: FieldSpec) -> str:
        """The name of the field at fault (``ProtocolFileError.field``)."""
        return spec.label if self.paths is None else self.paths[spec]

    def key(self, spec: FieldSpec) -> str:
        """The short name of another field mentioned in a message (``green_pct_mvc``)."""
        return spec.key if self.paths is None else self.paths[spec].rsplit(".", 1)[-1]


#: Fields named by their TOML keys: files, and protocols built in code.
FILE_NAMING: Final = Naming()


class ProtocolValueError(ProtocolFileError):
    """A protocol value breaks a rule of its field.

    The same error, with the same message after its label, whether the protocol was
    built in code, read from a file or from a stored protocol. It is a
    :class:`~isogrip.errors.ProtocolFileError` (so a ``ValueError``) with ``path``
    the label and ``field`` the field at fault.

    Attributes:
        problem: What is wrong, before it was put into words.
    """

    def __init__(
        self,
        problem: Problem,
        where: str = BUILT_IN_CODE,
        naming: Naming = FILE_NAMING,
        defaults: Collection[FieldSpec] = (),
    ) -> None:
        """Put a problem into words.

        Args:
            problem: What is wrong.
            where: The label the message starts with (a file path, a built-in name).
            naming: How fields are named.
            defaults: Fields the source left out: a problem of the relation of such a
                field to another says that its value is the default.
        """
        self.problem = problem
        super().__init__(where, _words(problem, naming, defaults), naming.label(problem.spec))

    def at(
        self, where: str, naming: Naming = FILE_NAMING, defaults: Collection[FieldSpec] = ()
    ) -> ProtocolValueError:
        """The same problem, labelled for another source (see :meth:`__init__`)."""
        return ProtocolValueError(self.problem, where, naming, defaults)


def _words(problem: Problem, naming: Naming, defaults: Collection[FieldSpec]) -> str:
    text = "".join(p if isinstance(p, str) else naming.key(p) for p in problem.parts)
    spec = problem.spec
    if problem.relation and spec in defaults:
        text += f" (the default; set {naming.key(spec)} in [{spec.table.value}])"
    return text


# ----------------------------------------------------------------------------- checks


def check_fields(obj: object) -> None:
    """Check every specified field of a protocol dataclass, in file order.

    Args:
        obj: A :class:`~isogrip.protocols.model.Protocol` or
            :class:`~isogrip.protocols.model.MvcSpec` (its nested dataclasses check
            themselves when they are built).

    Raises:
        ProtocolValueError: The first field whose type, range or rule is broken.
    """
    cls: type = type(obj)
    for slot in slots(cls):
        value = getattr(obj, slot.attr)
        problem = _type_problem(slot, value) or range_problem(slot.spec, value)
        for rule in slot.spec.rules:
            problem = problem or rule(obj)
        if problem is not None:
            raise ProtocolValueError(problem)


def _type_problem(slot: Slot, value: object) -> Problem | None:
    """A value of the wrong type (code only: the loaders convert before building)."""
    want = slot.type
    if want is float:
        ok, what = isinstance(value, (int, float)), "a number"
    elif want is int:
        ok, what = isinstance(value, int), "a whole number"
    elif want is bool:
        ok, what = isinstance(value, bool), "true or false"
    elif want is str:
        ok, what = isinstance(value, str), "text"
    else:
        ok, what = isinstance(value, want), f"a {want.__name__}"
    if want is not bool and isinstance(value, bool):
        ok = False  # True is an int to Python, not a number of seconds
    # repr, not value_text: this is about Python values (4.0 is no whole number here)
    return None if ok else Problem(slot.spec, (f"must be {what}, got {value!r}",))


def range_problem(spec: FieldSpec, value: float, *, in_file: bool = False) -> Problem | None:
    """The problem of a value outside its field's own range, or ``None``.

    Args:
        spec: The field.
        value: Its value.
        in_file: ``value`` is in the file's unit (:attr:`FieldSpec.file_unit`).
    """
    allowed, unit = spec.range, spec.unit
    if allowed is None:
        return None
    if in_file and spec.file_unit is not None:
        allowed, unit = allowed.divided(spec.file_scale), spec.file_unit
    if allowed.allows(value):
        return None
    if unit is Unit.SECONDS:
        return Problem(spec, (_seconds_words(allowed, value),))
    units = spec.unit_words or unit.symbol
    words = _range_words(allowed) + (f" {units}" if units else "")
    what = f"{spec.what} " if spec.what else ""
    why = f" ({spec.why})" if spec.why else ""
    return Problem(spec, (f"must be {what}{words}{why}, got {number_text(value)}",))


def _seconds_words(r: Range, value: float) -> str:
    """Why a duration is refused: not a duration, too short, or minutes typed as seconds."""
    zero_ok = r.off or r.low == 0
    if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        what = "zero or a positive number" if zero_ok else "a positive number"
        return f"must be {what} of seconds, got {number_text(value)}"
    if r.low is not None and value < r.low:
        off = " (or 0 to turn it off)" if r.off else ""
        return f"must be at least {number_text(r.low)} s{off}, got {number_text(value)}"
    high = math.inf if r.high is None else r.high
    limit = f"{number_text(high / 60)} minutes" if high >= 60 * 5 else f"{number_text(high)} s"
    return (f"is longer than {limit} ({number_text(value)} s), which is likely a typo: "
            "durations are in seconds")


def _range_words(r: Range) -> str:
    """A range in words: ``between 1 and 20``, ``above 0 and at most 50``, ..."""
    low = None if r.low is None else number_text(r.low)
    high = None if r.high is None else number_text(r.high)
    if low is not None and high is not None and not (r.low_open or r.high_open):
        return f"between {low} and {high}"
    lower = upper = ""
    if low is not None and r.low_open:
        lower = f"above {low}"
    elif low is not None:
        lower = "zero or more" if r.low == 0 else f"at least {low}"
    if high is not None:
        upper = f"below {high}" if r.high_open else f"at most {high}"
    return " and ".join(w for w in (lower, upper) if w)


def out_of_range(protocol: object, prefix: str = "") -> list[str]:
    """The fields of a protocol outside their own ranges, as ``"name = value"``.

    A protocol checks this when it is built, so only one changed behind the model's
    back (``object.__setattr__``) has any; the engine checks again before it
    schedules anything, so that no protocol can make one tick emit an unbounded
    number of events.

    Args:
        protocol: A :class:`~isogrip.protocols.model.Protocol` (or a dataclass nested
            in one).
        prefix: Prepended to the names (``"mvc."`` for the nested MVC settings).
    """
    cls: type = type(protocol)
    bad = [
        f"{prefix}{slot.attr} = {value!r}"
        for slot in slots(cls)
        if slot.spec.range is not None
        and isinstance(value := getattr(protocol, slot.attr), (int, float))
        and not slot.spec.range.allows(value)
    ]
    for f in dataclasses.fields(protocol):  # type: ignore[arg-type]
        inner = getattr(protocol, f.name)
        if dataclasses.is_dataclass(inner) and not isinstance(inner, type):
            bad += out_of_range(inner, f"{prefix}{f.name}.")
    return bad


# ------------------------------------------------------------------------- formatting


def number_text(value: float) -> str:
    """A number for a message: ``-5``, ``2.5``, ``nan``, ``inf``."""
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else "a very large number"
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def value_text(value: object) -> str:
    """A raw value for a message, on one line, with its kind when that helps."""
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (true/false is not a number)"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # datetime, date, time
