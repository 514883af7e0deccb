"""JSON and time text as the store writes them (and as the exports and LSL reuse them).

Stored JSON is compact and strict: NaN and infinities become ``null``, so every file
isogrip writes is valid JSON for any reader. Times are ISO 8601 with a UTC offset.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_jsonable(obj: Any) -> Any:
    """Turn a value into plain JSON types: NaN and infinities become ``None``.

    Handles dicts (keys become strings), lists, tuples, sets, numpy scalars and
    arrays, enums (their value), datetimes (ISO 8601) and paths; anything else becomes
    its ``str()``.
    """
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def dumps(obj: Any) -> str:
    """Compact JSON (no spaces, UTF-8 kept, NaN written as ``null``)."""
    return json.dumps(to_jsonable(obj), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def iso_time(when: _dt.datetime) -> str:
    """ISO 8601 text with a UTC offset; a naive datetime is taken as local time."""
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat(timespec="milliseconds")


def json_object(text: str | None) -> dict[str, Any]:
    """A stored JSON object read back; anything else is wrapped as ``{"value": ...}``.

    A column edited by hand (or by another tool) must not stop a session from being
    shown or exported, so text that is not an object is kept rather than refused.
    """
    if not text:
        return {}
    try:
        v = json.loads(text)
    except ValueError:
        return {"value": text}
    return v if isinstance(v, dict) else {"value": v}


def json_strings(text: str | None) -> list[str]:
    """A stored JSON list read back as strings; ``[]`` if the text is not a list."""
    try:
        v = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(x) for x in v] if isinstance(v, list) else []
