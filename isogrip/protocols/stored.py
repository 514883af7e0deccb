"""Protocols as JSON-ready data and back: sessions store the exact protocol they ran.

The keys are the :class:`~isogrip.protocols.model.Protocol` attribute names (not the
TOML keys), with the MVC settings as a nested ``"mvc"`` dict. Reading checks the same
rules as a protocol file: the model's own (:mod:`isogrip.protocols.validation`).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Mapping
from typing import Any

from isogrip.protocols.fields import Slot
from isogrip.protocols.model import MvcSpec, Protocol, protocol_slots
from isogrip.protocols.sources import Source, coerce
from isogrip.protocols.validation import Naming, value_text

__all__ = ["STORED", "protocol_from_dict", "protocol_to_dict"]

#: Where errors about a stored protocol say they come from.
STORED = "<stored protocol>"


@functools.cache
def _in_dict_order() -> tuple[Slot, ...]:
    """The fields in the order :func:`protocol_to_dict` writes them (the dataclasses')."""
    order = [f.name for f in dataclasses.fields(Protocol)]
    order += [f"mvc.{f.name}" for f in dataclasses.fields(MvcSpec)]
    return tuple(sorted(protocol_slots(), key=lambda s: order.index(s.path)))


@functools.cache
def _source() -> Source:
    """Stored protocols name fields by attribute path (``hold_s``, ``mvc.rest_s``)."""
    return Source(STORED, Naming({s.spec: s.path for s in protocol_slots()}))


def protocol_to_dict(p: Protocol) -> dict[str, Any]:
    """A JSON-ready dict of every protocol field.

    Keys are the :class:`~isogrip.protocols.model.Protocol` attribute names (not the
    TOML keys): enums become their string values, forces stay in newtons and the MVC
    settings are a nested ``"mvc"`` dict. :func:`protocol_from_dict` reverses it
    exactly.

    Args:
        p: The protocol.

    Returns:
        A dict of str, int, float, bool, ``None`` and one nested dict.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = {g.name: getattr(value, g.name) for g in dataclasses.fields(value)}
        elif isinstance(value, enum.Enum):
            value = value.value
        out[f.name] = value
    return out


def protocol_from_dict(d: Mapping[str, Any]) -> Protocol:
    """Rebuild a protocol from :func:`protocol_to_dict` output (e.g. read from JSON).

    Missing keys take the model defaults and unknown keys are ignored, so protocols
    stored by other versions of isogrip still load. Values are checked with the same
    rules as protocol files.

    Args:
        d: The dict, with ``"mvc"`` as a nested dict.

    Returns:
        The validated protocol.

    Raises:
        ProtocolFileError: A value has the wrong type or is out of range (``path`` is
            ``"<stored protocol>"`` and ``field`` the attribute, e.g. ``"hold_s"``).
    """
    source = _source()
    if not isinstance(d, Mapping):
        source.fail(None, f"must be a mapping of protocol fields, got {value_text(d)}")
    mvc_raw = d.get("mvc", {})
    if not isinstance(mvc_raw, Mapping):
        source.fail("mvc", f"must be a mapping of MVC settings, got {value_text(mvc_raw)}")
    values: dict[Slot, Any] = {}
    for slot in _in_dict_order():
        given = mvc_raw if slot.parent == "mvc" else d
        if slot.attr in given:
            values[slot] = coerce(given[slot.attr], slot, source)
    name = next(s for s in protocol_slots() if s.path == "name")
    if name not in values:
        source.fail_on(name, "is required")
    path = d.get("path")
    if path is not None and not isinstance(path, str):
        source.fail("path", f"must be text or null, got {value_text(path)}")
    return source.build(values, path)
