"""The rules of protocol fields that a range alone cannot say.

Each rule belongs to one field (its :class:`~isogrip.protocols.fields.FieldSpec`
lists it in ``rules``) and is reported on that field: a name's spelling, and every
relation between two fields (the amber band surrounds the green one, the ramp is
shorter than the hold, ...). A rule gets the dataclass that holds its field and
returns a :class:`~isogrip.protocols.fields.Problem`, or ``None``. The other field a
relation mentions is named in the message as the reader names it (a TOML key in a
file, an attribute in a stored protocol).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Final

from isogrip.protocols.fields import Problem, spec_of
from isogrip.protocols.validation import number_text, value_text

if TYPE_CHECKING:  # the model imports this module to declare its fields
    from isogrip.protocols.model import MvcSpec, Protocol

__all__ = [
    "NAME_MAX_LEN",
    "amber_surrounds_green",
    "max_covers_planned_trials",
    "ramp_inside_hold",
    "valid_name",
    "warning_above_band",
    "window_inside_effort",
]

#: A protocol name: lower-case letters, digits, ``.``, ``_`` and ``-``.
_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
#: Longest protocol name.
NAME_MAX_LEN: Final = 64


def valid_name(p: Protocol) -> Problem | None:
    """The name is a short identifier (it names files, settings and sessions)."""
    me = spec_of(type(p), "name")
    if not p.name:
        return Problem(me, ('must not be empty, e.g. name = "my-protocol"',))
    if len(p.name) > NAME_MAX_LEN or not _NAME_RE.fullmatch(p.name):
        return Problem(me, (
            "must start with a lower-case letter or digit and use only a-z, 0-9, "
            f"'.', '_' and '-' (at most {NAME_MAX_LEN} characters), got {value_text(p.name)}",
        ))
    return None


def amber_surrounds_green(p: Protocol) -> Problem | None:
    """The amber ("near") band is at least as wide as the green one."""
    if p.amber_pct >= p.green_pct:
        return None
    green = spec_of(type(p), "green_pct")
    return Problem(spec_of(type(p), "amber_pct"), (
        "must be at least ", green, f" ({number_text(p.green_pct)}), since the amber band "
        f"surrounds the green one; got {number_text(p.amber_pct)}",
    ), relation=True)


def warning_above_band(p: Protocol) -> Problem | None:
    """The "ease off" warning is above the green band: holding on target never warns."""
    lowest = p.target_pct + p.green_pct
    if math.isfinite(p.warn_above_pct) and p.warn_above_pct >= lowest:
        return None
    return Problem(spec_of(type(p), "warn_above_pct"), (
        f"must be at least target + green = {number_text(lowest)} % MVC, otherwise "
        f"holding on target would warn; got {number_text(p.warn_above_pct)}",
    ), relation=True)


def ramp_inside_hold(p: Protocol) -> Problem | None:
    """The ramp left out of a hold's figures is shorter than the hold."""
    if p.ramp_s < p.hold_s:
        return None
    hold = spec_of(type(p), "hold_s")
    return Problem(spec_of(type(p), "ramp_s"), (
        "must be shorter than the hold (", hold,
        f" = {number_text(p.hold_s)} s), got {number_text(p.ramp_s)}",
    ), relation=True)


def max_covers_planned_trials(m: MvcSpec) -> Problem | None:
    """The limit of MVC efforts per hand is at least the planned number."""
    if m.max_trials_per_hand >= m.trials_per_hand:
        return None
    planned = spec_of(type(m), "trials_per_hand")
    return Problem(spec_of(type(m), "max_trials_per_hand"), (
        "must be at least ", planned,
        f" ({number_text(m.trials_per_hand)}), got {number_text(m.max_trials_per_hand)}",
    ), relation=True)


def window_inside_effort(m: MvcSpec) -> Problem | None:
    """The scoring window fits inside one maximal effort."""
    if m.window_s < m.effort_s:
        return None
    effort = spec_of(type(m), "effort_s")
    return Problem(spec_of(type(m), "window_s"), (
        "must be shorter than the effort (", effort,
        f" = {number_text(m.effort_s)} s), got {number_text(m.window_s)}",
    ), relation=True)
