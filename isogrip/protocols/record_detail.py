"""A stored events row back as its record: the inverse of :meth:`Record.detail`."""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from isogrip.protocols.events import EventKind
from isogrip.protocols.records import (
    CUE_KINDS,
    LINK_FIGURES,
    Cue,
    Event,
    LinkStatus,
    MvcTrialScored,
    Record,
)
from isogrip.signal.metrics import HoldMetrics


def _classes(kind: EventKind) -> tuple[type[Record], ...]:
    """The record classes stored under ``kind``."""
    if kind in CUE_KINDS:
        return (Cue,)
    return tuple(c for c in typing.get_args(Event) if c is not Cue and c.KIND is kind)


_NOT_STORED_AS_FIELDS = frozenset({"t", "message", "cue", "device_detail"})


_TYPES: dict[type[Record], dict[str, Any]] = {}


def _field_types(cls: type[Record]) -> dict[str, Any]:
    """The resolved field types of a record class (resolved once: a report reads many)."""
    if cls not in _TYPES:
        _TYPES[cls] = typing.get_type_hints(cls)
    return _TYPES[cls]


def record_from_detail(kind: str, t: float, detail: Mapping[str, Any]) -> Event | None:
    """The record behind a stored events row (``None`` for a kind it does not know).

    The inverse of :meth:`Record.detail`: enum values become enums again, lists become
    tuples, ``None`` in a number that cannot be missing is NaN (JSON has no NaN). A
    scored MVC trial's row keeps its scoring note under ``message`` (as ``events.csv``
    always has), so its record reads back with that note and an empty message.

    Raises:
        ValueError: A field the record needs is missing or of the wrong kind.
    """
    try:
        event_kind = EventKind(kind)
    except ValueError:
        return None
    classes = _classes(event_kind)
    if not classes:
        return None
    cls = classes[-1] if detail.get("redo") and len(classes) > 1 else classes[0]
    names = [f for f in dataclasses.fields(cls) if f.name not in _NOT_STORED_AS_FIELDS]
    if cls is LinkStatus:
        own = LINK_FIGURES.get(str(detail.get("status")), frozenset())
        names = [f for f in names if f.name == "status" or f.name in own]
    hints = _field_types(cls)
    args: dict[str, Any] = {"t": t}
    if cls is Cue:
        args["cue"] = event_kind
    if cls is not MvcTrialScored:
        args["message"] = str(detail.get("message") or "")
    used = {"message"}
    for f in names:
        key = f.metadata.get("key", f.name)
        if key not in detail:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"a stored {kind} record has no {key!r}")
            continue
        used.add(key)
        args[f.name] = _typed(hints[f.name], detail[key], f"{kind}.{key}")
    if cls is LinkStatus:
        args["device_detail"] = {k: v for k, v in detail.items() if k not in used}
    return typing.cast("Event", cls(**args))


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` (from JSON) as the field's type ``hint`` wants it."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        if float in options:
            return math.nan
        raise ValueError(f"{where} is missing")
    base = next(o for o in options if o is not type(None))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return base(value)
    if base is HoldMetrics:
        names = {f.name for f in dataclasses.fields(HoldMetrics)}
        missing = sorted(names - set(value))
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}")
        fields: dict[str, Any] = {k: (math.nan if v is None else v)
                                  for k, v in dict(value).items() if k in names}
        return HoldMetrics(**fields)
    if typing.get_origin(base) is tuple:
        return tuple(str(v) for v in value)
    if base is float:
        return float(value)
    if base is int and not isinstance(value, bool):
        return int(value)
    return value
