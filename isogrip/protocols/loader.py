"""Read, validate and serialise training protocols.

A protocol is a small TOML file with one table per concern (``[protocol]``,
``[holds]``, ``[band]``, ``[timing]``, ``[mvc]``, ``[display]``); the format, every
key, its unit, default and allowed range are documented in ``docs/protocols.md``.
Only ``[protocol] name`` is required: every other key falls back to the defaults of
:class:`~isogrip.protocols.model.Protocol` and :class:`~isogrip.protocols.model.MvcSpec`.

Every problem with a file is reported as a
:class:`~isogrip.errors.ProtocolFileError` whose message is one line a user can act
on, and whose ``field`` is the dotted TOML key at fault, e.g.::

    my.toml: holds.duration_s: must be a positive number of seconds, got -5

Built-in protocols live next to this module in ``builtin/<name>.toml`` and are read
with :mod:`importlib.resources`. :func:`protocol_to_dict` and
:func:`protocol_from_dict` turn a protocol into JSON-ready data and back (sessions
store the exact protocol they ran).

This module reads files only when asked to (:func:`load_protocol`,
:func:`builtin_protocols`); parsing and validation are pure.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import os
import pathlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal, NoReturn

from isogrip.errors import InputFileError, ProtocolFileError, UnknownProtocolError
from isogrip.files import SMALL_FILE_LIMIT, read_limited_bytes
from isogrip.protocols.bounds import RANGES
from isogrip.protocols.model import HandPattern, MvcSpec, Protocol
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

__all__ = [
    "DEFAULT_PROTOCOL",
    "builtin_names",
    "builtin_protocols",
    "load_protocol",
    "parse_protocol",
    "protocol_from_dict",
    "protocol_to_dict",
    "protocol_to_toml",
]

#: Name of the protocol used when none is chosen.
DEFAULT_PROTOCOL: Final = "ihg-4x2-30-alternating"

#: A protocol name: lower-case letters, digits, ``.``, ``_`` and ``-``.
_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_NAME_MAX_LEN: Final = 64

# Durations, intervals and counts have their ranges in isogrip.protocols.bounds.
_MAX_FLOOR_KGF: Final = 100.0
_MAX_SCALE: Final = 50.0

_Kind = Literal["int", "float", "bool", "str", "hands", "hand"]


@dataclass(frozen=True)
class _Key:
    """One TOML key: the model attribute it sets and the type it must have."""

    attr: str  # Protocol attribute, or "mvc.<MvcSpec attribute>"
    kind: _Kind


#: The file format: table -> key -> model attribute. Order is documentation order.
_SCHEMA: Final[dict[str, dict[str, _Key]]] = {
    "protocol": {
        "name": _Key("name", "str"),
        "title": _Key("title", "str"),
        "description": _Key("description", "str"),
        "source": _Key("source", "str"),
    },
    "holds": {
        "reps": _Key("reps", "int"),
        "hands": _Key("hands", "hands"),
        "first_hand": _Key("first_hand", "hand"),
        "duration_s": _Key("hold_s", "float"),
        "rest_s": _Key("rest_s", "float"),
        "target_pct_mvc": _Key("target_pct", "float"),
    },
    "band": {
        "green_pct_mvc": _Key("green_pct", "float"),
        "amber_pct_mvc": _Key("amber_pct", "float"),
        "warn_above_pct_mvc": _Key("warn_above_pct", "float"),
    },
    "timing": {
        "prepare_s": _Key("prepare_s", "float"),
        "countdown_s": _Key("countdown_s", "float"),
        "ramp_s": _Key("ramp_s", "float"),
        "rest_after_mvc_s": _Key("rest_after_mvc_s", "float"),
        "breathing_reminder_s": _Key("breathing_reminder_s", "float"),
    },
    "mvc": {
        "trials_per_hand": _Key("mvc.trials_per_hand", "int"),
        "max_trials_per_hand": _Key("mvc.max_trials_per_hand", "int"),
        "effort_s": _Key("mvc.effort_s", "float"),
        "rest_s": _Key("mvc.rest_s", "float"),
        "window_s": _Key("mvc.window_s", "float"),
        "disagreement_pct": _Key("mvc.disagreement_pct", "float"),
        "improvement_pct": _Key("mvc.improvement_pct", "float"),
        "floor_kgf": _Key("mvc.floor_n", "float"),  # converted kgf -> N
        "extra_trials": _Key("mvc.extra_trials", "bool"),
    },
    "display": {
        "scale": _Key("display_scale", "float"),
        "slope": _Key("display_slope", "float"),
        "hide_intensity": _Key("hide_intensity", "bool"),
    },
}

#: Model attribute -> dotted TOML key, for error messages about files.
_TOML_LABELS: Final[dict[str, str]] = {
    key.attr: f"{table}.{name}" for table, keys in _SCHEMA.items() for name, key in keys.items()
}


_KIND_OF_TYPE: Final[dict[str, _Kind]] = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "HandPattern": "hands",
    "Hand": "hand",
}

#: Model attribute -> kind, for :func:`protocol_from_dict` (``mvc`` and ``path`` are
#: handled apart; a field of any other type keeps its default).
_DICT_KINDS: Final[dict[str, _Kind]] = {
    **{
        f.name: _KIND_OF_TYPE[str(f.type)]
        for f in dataclasses.fields(Protocol)
        if str(f.type) in _KIND_OF_TYPE
    },
    **{
        f"mvc.{f.name}": _KIND_OF_TYPE[str(f.type)]
        for f in dataclasses.fields(MvcSpec)
        if str(f.type) in _KIND_OF_TYPE
    },
}


#: Built-in names that were renamed: the old name still loads the protocol (settings
#: files and scripts keep working). The HoldAge adaptation alternates hands, so it is
#: no longer called "bilateral".
RENAMED_BUILTINS: Final[dict[str, str]] = {
    "ihg-4x45-50-bilateral": "ihg-4x45-50-alternating",
}

# --------------------------------------------------------------------------- public API


def load_protocol(name_or_path: str | os.PathLike[str]) -> Protocol:
    """Load a built-in protocol by name, or a protocol file by path.

    A value is taken as a path when it is an :class:`os.PathLike`, contains a path
    separator, or ends in ``.toml``; otherwise it must be a built-in name.

    Args:
        name_or_path: A built-in name (see :func:`builtin_names`) or a path to a
            ``.toml`` protocol file.

    Returns:
        The validated protocol. For a file, ``path`` is the path as given; for a
        built-in, ``path`` is ``None``.

    Raises:
        UnknownProtocolError: The value is not a path and names no built-in protocol.
        ProtocolFileError: The file is missing, unreadable or invalid.
    """
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(name_or_path):
        return _load_file(os.fspath(name_or_path))
    name = RENAMED_BUILTINS.get(name_or_path, name_or_path)
    names = builtin_names()
    if name not in names:
        raise UnknownProtocolError(
            f"unknown protocol {name!r}; built-in protocols: {', '.join(names)} "
            "(or give a path to a .toml file)"
        )
    return _load_builtin(name)


def parse_protocol(text: str, path: str = "<string>") -> Protocol:
    """Parse and validate the text of a protocol file.

    Args:
        text: The TOML text.
        path: Where the text came from; it starts every error message. A label in
            angle brackets (the default ``"<string>"``) is not a file, and the
            returned protocol's ``path`` is then ``None``; otherwise it is ``path``.

    Returns:
        The validated protocol.

    Raises:
        ProtocolFileError: The text is not valid TOML or not a valid protocol.
    """
    stored = None if path.startswith("<") and path.endswith(">") else path
    return _parse(text, label=path, stored_path=stored)


def builtin_names() -> list[str]:
    """Names of the built-in protocols: the default first, then the rest sorted."""
    return list(_builtin_names())


def builtin_protocols() -> list[Protocol]:
    """All built-in protocols, in :func:`builtin_names` order.

    Raises:
        ProtocolFileError: A built-in file is invalid (a packaging bug).
    """
    return [_load_builtin(name) for name in _builtin_names()]


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
        if isinstance(value, MvcSpec):
            value = {g.name: getattr(value, g.name) for g in dataclasses.fields(value)}
        elif isinstance(value, (HandPattern, Hand)):
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
    ctx = _Ctx("<stored protocol>", labels={})
    if not isinstance(d, Mapping):
        ctx.fail(None, f"must be a mapping of protocol fields, got {_show(d)}")
    mvc_raw = d.get("mvc", {})
    if not isinstance(mvc_raw, Mapping):
        ctx.fail("mvc", f"must be a mapping of MVC settings, got {_show(mvc_raw)}")
    attrs: dict[str, Any] = {}
    for attr, kind in _DICT_KINDS.items():
        source: Mapping[str, Any] = mvc_raw if attr.startswith("mvc.") else d
        key = attr.removeprefix("mvc.")
        if key in source:
            attrs[attr] = _coerce(source[key], kind, ctx, attr)
    if "name" not in attrs:
        ctx.fail("name", "is required")
    path = d.get("path")
    if path is not None and not isinstance(path, str):
        ctx.fail("path", f"must be text or null, got {_show(path)}")
    protocol = _build(attrs, path)
    _validate(protocol, ctx, given=set(_DICT_KINDS), floor_unit="N")
    return protocol


def protocol_to_toml(p: Protocol) -> str:
    """Write a protocol as the text of a protocol file (every key spelled out).

    :func:`parse_protocol` of the result gives back an equal protocol (apart from
    ``path``, which is not part of the file; ``floor_kgf`` is written in kilograms
    and may differ from the original in the last binary digit).

    Args:
        p: The protocol.

    Returns:
        TOML text.
    """
    lines: list[str] = []
    for table, keys in _SCHEMA.items():
        if lines:
            lines.append("")
        lines.append(f"[{table}]")
        for name, key in keys.items():
            value = _get_attr(p, key.attr)
            if key.attr == "mvc.floor_n":
                value = value / KGF_N
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- loading


def _looks_like_path(value: str) -> bool:
    """Whether a ``--protocol`` value is a file path rather than a built-in name."""
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(s in value for s in seps) or value.lower().endswith(".toml")


def _load_file(path: str) -> Protocol:
    """Read, decode and parse a protocol file; every failure is a ProtocolFileError."""
    real = os.path.expanduser(path)
    if os.path.isdir(real):  # stat only: cannot block, and says it more plainly
        raise ProtocolFileError(path, "is a folder, not a protocol file")
    try:
        # Non-blocking and regular files only: a FIFO would wait for a writer for
        # ever, a device (/dev/zero) would never end.
        data = read_limited_bytes(real, SMALL_FILE_LIMIT, "protocol file")
    except FileNotFoundError:
        raise ProtocolFileError(path, "file not found") from None
    except InputFileError as exc:
        raise ProtocolFileError(path, _file_problem(exc, real)) from None
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ProtocolFileError(
            path,
            f"is not UTF-8 text (byte 0x{bad:02x} at offset {exc.start}); "
            "save the file with UTF-8 encoding",
        ) from None
    return _parse(text, label=path, stored_path=path)


def _file_problem(exc: InputFileError, real: str) -> str:
    """The reason in ``exc`` without the file name (ProtocolFileError puts it first)."""
    named = f"the protocol file {pathlib.Path(real)}"
    message = str(exc)
    if message.startswith(named + " "):
        return message[len(named) + 1:]  # "is not a regular file; ..."
    return message.replace(f" {named}", " the file")  # "cannot read the file: ..."


@functools.cache
def _builtin_names() -> tuple[str, ...]:
    """Built-in names, cached: the default first, then the rest sorted."""
    folder = resources.files("isogrip.protocols").joinpath("builtin")
    names = sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )
    if DEFAULT_PROTOCOL in names:
        names.remove(DEFAULT_PROTOCOL)
        names.insert(0, DEFAULT_PROTOCOL)
    return tuple(names)


@functools.cache
def _load_builtin(name: str) -> Protocol:
    """Parse one built-in file (cached; protocols are immutable)."""
    text = (
        resources.files("isogrip.protocols")
        .joinpath("builtin")
        .joinpath(f"{name}.toml")
        .read_text(encoding="utf-8")
    )
    protocol = _parse(text, label=name, stored_path=None)
    if protocol.name != name:
        raise ProtocolFileError(
            name, f"built-in file declares name {protocol.name!r}", "protocol.name"
        )
    return protocol


# ---------------------------------------------------------------------------- parsing


class _Ctx:
    """Where errors go: the file label and how attributes are named in messages."""

    def __init__(self, path: str, labels: Mapping[str, str]) -> None:
        self.path = path
        self.labels = labels

    def label(self, attr: str) -> str:
        """The field name users see for a model attribute."""
        return self.labels.get(attr, attr)

    def key(self, attr: str) -> str:
        """The last part of :meth:`label` (``green_pct_mvc``), for cross-references."""
        return self.label(attr).rsplit(".", 1)[-1]

    def fail(self, attr: str | None, message: str, *, raw: bool = False) -> NoReturn:
        """Raise a ProtocolFileError; ``raw`` uses ``attr`` as the field name as is."""
        field = None if attr is None else attr if raw else self.label(attr)
        raise ProtocolFileError(self.path, message, field)


def _parse(text: str, *, label: str, stored_path: str | None) -> Protocol:
    """Parse TOML text into a validated Protocol; errors name ``label``."""
    ctx = _Ctx(label, _TOML_LABELS)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        ctx.fail(None, f"not valid TOML: {_toml_error(exc)}")
    except ValueError as exc:  # e.g. an integer with thousands of digits
        ctx.fail(None, f"not valid TOML: {exc}")
    except RecursionError:
        ctx.fail(None, "not valid TOML: values are nested too deeply")

    attrs: dict[str, Any] = {}
    for table, body in doc.items():
        keys = _SCHEMA.get(table)
        if keys is None:
            _unknown_top_level(table, body, ctx)
        if isinstance(body, list) and all(isinstance(item, dict) for item in body):
            ctx.fail(table, f"write [{table}] once, not [[{table}]]", raw=True)
        if not isinstance(body, dict):
            ctx.fail(
                table,
                f"must be a table ([{table}] on a line of its own), got {_show(body)}",
                raw=True,
            )
        for name, value in body.items():
            key = keys.get(name)
            if key is None:
                _unknown_key(table, name, ctx)
            attrs[key.attr] = _coerce(value, key.kind, ctx, key.attr)
            if key.attr == "mvc.floor_n":
                floor = attrs[key.attr]
                _check_floor(floor, ctx, "mvc.floor_n", unit="kgf")
                attrs[key.attr] = floor * KGF_N

    if "name" not in attrs:
        if "protocol" not in doc:
            ctx.fail("name", 'is missing: add a [protocol] table with name = "my-protocol"')
        ctx.fail("name", 'is missing: every protocol needs a name, e.g. name = "my-protocol"')
    protocol = _build(attrs, stored_path)
    _validate(protocol, ctx, given=set(attrs), floor_unit=None)
    return protocol


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """The message of tomllib with its position put first: ``line 3, column 7: ...``."""
    message = str(exc)
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, flags=re.DOTALL)
    if m:
        what = m.group(1)
        return f"line {m.group(2)}, column {m.group(3)}: {what[:1].lower()}{what[1:]}"
    m = re.fullmatch(r"(.*) \(at end of document\)", message, flags=re.DOTALL)
    if m:
        what = m.group(1)
        return f"at the end of the file: {what[:1].lower()}{what[1:]}"
    return message.replace("\n", " ")


def _key_label(name: str) -> str:
    """A key as written in TOML: bare if it can be, else quoted (keeps messages one line)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _unknown_top_level(name: str, value: object, ctx: _Ctx) -> NoReturn:
    """Report a top-level entry that is not one of the known tables."""
    tables = list(_SCHEMA)
    name = _key_label(name)
    if not isinstance(value, (dict, list)):
        owners = [t for t, keys in _SCHEMA.items() if name in keys]
        if owners:
            ctx.fail(name, f"must be inside a table: put it under [{owners[0]}]", raw=True)
        ctx.fail(
            name,
            f"unknown key outside any table; keys go inside the tables {_list_tables(tables)}",
            raw=True,
        )
    close = difflib.get_close_matches(name, tables, n=1)
    hint = f"did you mean [{close[0]}]?" if close else f"the tables are {_list_tables(tables)}"
    ctx.fail(name, f"unknown table; {hint}", raw=True)


def _unknown_key(table: str, name: str, ctx: _Ctx) -> NoReturn:
    """Report a key that its table does not have, suggesting the nearest valid one."""
    field = f"{table}.{_key_label(name)}"
    valid = list(_SCHEMA[table])
    owners = [t for t, keys in _SCHEMA.items() if name in keys]
    if owners:
        ctx.fail(field, f"unknown key in [{table}]; it belongs in [{owners[0]}]", raw=True)
    close = difflib.get_close_matches(name, valid, n=1)
    if close:
        ctx.fail(field, f"unknown key; did you mean {close[0]}?", raw=True)
    ctx.fail(field, f"unknown key; [{table}] has: {', '.join(valid)}", raw=True)


def _list_tables(tables: list[str]) -> str:
    return ", ".join(f"[{t}]" for t in tables)


def _quoted(value: object, kind: _Kind) -> str:
    """:func:`_show`, plus a hint when a number or true/false was written in quotes."""
    if isinstance(value, str):
        text = value.strip()
        if kind == "bool":
            fits = text in ("true", "false")
        else:
            try:
                fits = math.isfinite(float(text))
            except ValueError:
                fits = False
        if fits:
            return f"{_show(value)} (text; remove the quotes)"
    return _show(value)


def _coerce(value: object, kind: _Kind, ctx: _Ctx, attr: str) -> Any:
    """Check a raw value's type and convert it to the model's type."""
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            ctx.fail(attr, f"must be a number, got {_quoted(value, kind)}")
        if isinstance(value, int):
            try:
                return float(value)
            except OverflowError:
                ctx.fail(attr, f"must be a number of sensible size, got {_show(value)}")
        return value
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(attr, f"must be a whole number, got {_quoted(value, kind)}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            ctx.fail(attr, f"must be true or false, got {_quoted(value, kind)}")
        return value
    if not isinstance(value, str):
        ctx.fail(attr, f"must be text in quotes, got {_show(value)}")
    if kind == "str":
        return value
    choices: list[str] = [m.value for m in (HandPattern if kind == "hands" else Hand)]
    if value not in choices:
        close = difflib.get_close_matches(value.strip().lower(), choices, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        allowed = ", ".join(f'"{c}"' for c in choices)
        ctx.fail(attr, f"must be one of {allowed}; got {_show(value)}{hint}")
    return HandPattern(value) if kind == "hands" else Hand(value)


def _build(attrs: Mapping[str, Any], path: str | None) -> Protocol:
    """Create the dataclasses from checked attributes (missing ones keep defaults)."""
    mvc = MvcSpec(**{k[4:]: v for k, v in attrs.items() if k.startswith("mvc.")})
    top = {k: v for k, v in attrs.items() if not k.startswith("mvc.")}
    return Protocol(**top, mvc=mvc, path=path)


# ------------------------------------------------------------------------- validation


def _validate(p: Protocol, ctx: _Ctx, *, given: set[str], floor_unit: str | None) -> None:
    """Check values and their relations; raise on the first problem found.

    Args:
        p: The protocol built from the checked types.
        ctx: Error context.
        given: Attributes set by the source (others are defaults; named as such).
        floor_unit: Unit in which to check ``mvc.floor_n`` (``"N"``), or ``None`` when
            the caller already checked it.
    """

    def default_note(attr: str) -> str:
        if attr in given:
            return ""
        table = ctx.label(attr).split(".")[0]
        return f" (the default; set {ctx.key(attr)} in [{table}])"

    # [protocol]
    name = p.name
    if not name:
        ctx.fail("name", 'must not be empty, e.g. name = "my-protocol"')
    if len(name) > _NAME_MAX_LEN or not _NAME_RE.fullmatch(name):
        ctx.fail(
            "name",
            "must start with a lower-case letter or digit and use only a-z, 0-9, "
            f"'.', '_' and '-' (at most {_NAME_MAX_LEN} characters), got {_show(name)}",
        )

    # [holds]
    _count(p.reps, ctx, "reps")
    _seconds(p.hold_s, ctx, "hold_s")
    _seconds(p.rest_s, ctx, "rest_s")
    if not (math.isfinite(p.target_pct) and 1.0 <= p.target_pct <= 100.0):
        ctx.fail("target_pct", f"must be between 1 and 100 % MVC, got {_num(p.target_pct)}")

    # [band]
    for attr, value in (("green_pct", p.green_pct), ("amber_pct", p.amber_pct)):
        if not (math.isfinite(value) and value > 0):
            ctx.fail(attr, f"must be a band half-width above 0 % MVC, got {_num(value)}")
    if p.amber_pct < p.green_pct:
        ctx.fail(
            "amber_pct",
            f"must be at least {ctx.key('green_pct')} ({_num(p.green_pct)}), since the "
            f"amber band surrounds the green one; got {_num(p.amber_pct)}"
            + default_note("amber_pct"),
        )
    lowest_warn = p.target_pct + p.green_pct
    if not (math.isfinite(p.warn_above_pct) and p.warn_above_pct >= lowest_warn):
        ctx.fail(
            "warn_above_pct",
            f"must be at least target + green = {_num(lowest_warn)} % MVC, otherwise "
            f"holding on target would warn; got {_num(p.warn_above_pct)}"
            + default_note("warn_above_pct"),
        )

    # [timing]
    # zero turns the step off (no "get ready", no countdown, no reminders, ...)
    for attr in ("prepare_s", "countdown_s", "ramp_s", "rest_after_mvc_s", "breathing_reminder_s"):
        _seconds(getattr(p, attr), ctx, attr)
    if p.ramp_s >= p.hold_s:
        ctx.fail(
            "ramp_s",
            f"must be shorter than the hold ({ctx.key('hold_s')} = {_num(p.hold_s)} s), "
            f"got {_num(p.ramp_s)}" + default_note("ramp_s"),
        )

    # [mvc]
    m = p.mvc
    _count(m.trials_per_hand, ctx, "mvc.trials_per_hand")
    if m.max_trials_per_hand < m.trials_per_hand:
        ctx.fail(
            "mvc.max_trials_per_hand",
            f"must be at least {ctx.key('mvc.trials_per_hand')} "
            f"({_num(m.trials_per_hand)}), got {_num(m.max_trials_per_hand)}"
            + default_note("mvc.max_trials_per_hand"),
        )
    most = RANGES["mvc.max_trials_per_hand"].high
    if m.max_trials_per_hand > most:
        ctx.fail(
            "mvc.max_trials_per_hand",
            f"must be at most {_num(most)} maximal efforts per hand, "
            f"got {_num(m.max_trials_per_hand)}",
        )
    _seconds(m.effort_s, ctx, "mvc.effort_s")
    _seconds(m.rest_s, ctx, "mvc.rest_s")
    _seconds(m.window_s, ctx, "mvc.window_s")
    if m.window_s >= m.effort_s:
        ctx.fail(
            "mvc.window_s",
            f"must be shorter than the effort ({ctx.key('mvc.effort_s')} = "
            f"{_num(m.effort_s)} s), got {_num(m.window_s)}" + default_note("mvc.window_s"),
        )
    if not (math.isfinite(m.disagreement_pct) and 0 < m.disagreement_pct <= 100):
        ctx.fail(
            "mvc.disagreement_pct",
            f"must be above 0 and at most 100 %, got {_num(m.disagreement_pct)}",
        )
    if not (math.isfinite(m.improvement_pct) and 0 <= m.improvement_pct <= 50):
        ctx.fail(
            "mvc.improvement_pct",
            f"must be between 0 and 50 %, got {_num(m.improvement_pct)}",
        )
    if floor_unit is not None:
        _check_floor(m.floor_n, ctx, "mvc.floor_n", unit=floor_unit)

    # [display]
    if not (math.isfinite(p.display_scale) and 0 < p.display_scale <= _MAX_SCALE):
        ctx.fail(
            "display_scale",
            f"must be a factor above 0 and at most {_num(_MAX_SCALE)} (1 shows true "
            f"force), got {_num(p.display_scale)}",
        )
    if not (math.isfinite(p.display_slope) and 0 < p.display_slope <= _MAX_SCALE):
        ctx.fail(
            "display_slope",
            f"must be above 0 and at most {_num(_MAX_SCALE)} (shown newtons per true "
            f"newton around the target), got {_num(p.display_slope)}",
        )


def _seconds(value: float, ctx: _Ctx, attr: str) -> None:
    """Check a duration against its range in :data:`~isogrip.protocols.bounds.RANGES`.

    It must be finite and positive (zero too where zero turns the step off), at
    least the range's low end (a tiny interval would schedule without end) and at
    most its high end (longer is minutes typed as seconds).
    """
    r = RANGES[attr]
    zero_ok = r.off or r.low == 0
    if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        what = "zero or a positive number" if zero_ok else "a positive number"
        ctx.fail(attr, f"must be {what} of seconds, got {_num(value)}")
    if value < r.low and not (r.off and value == 0):
        off = " (or 0 to turn it off)" if r.off else ""
        ctx.fail(attr, f"must be at least {_num(r.low)} s{off}, got {_num(value)}")
    if value > r.high:
        limit = f"{_num(r.high / 60)} minutes" if r.high >= 60 * 5 else f"{_num(r.high)} s"
        ctx.fail(
            attr,
            f"is longer than {limit} ({_num(value)} s), which is likely a typo: "
            "durations are in seconds",
        )


def _count(value: int, ctx: _Ctx, attr: str) -> None:
    """Check a count (holds, efforts) against its range in ``RANGES``."""
    r = RANGES[attr]
    if not r.low <= value <= r.high:
        ctx.fail(
            attr,
            f"must be between {_num(r.low)} and {_num(r.high)} {r.unit}, got {_num(value)}",
        )


def _check_floor(value: float, ctx: _Ctx, attr: str, *, unit: str) -> None:
    """Check the MVC floor, given in kgf (files) or N (stored dicts)."""
    limit = _MAX_FLOOR_KGF if unit == "kgf" else _MAX_FLOOR_KGF * KGF_N
    if not (math.isfinite(value) and 0 <= value < limit):
        ctx.fail(
            attr,
            f"must be zero or more and below {_num(limit)} {unit}, got {_num(value)}",
        )


# -------------------------------------------------------------------------- formatting


def _num(value: float) -> str:
    """A number for a message: ``-5``, ``2.5``, ``nan``, ``inf``."""
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else "a very large number"
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _show(value: object) -> str:
    """A raw value for a message, on one line, with its kind when that helps."""
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (true/false is not a number)"
    if isinstance(value, (int, float)):
        return _num(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # datetime, date, time


def _get_attr(p: Protocol, attr: str) -> Any:
    """Read ``attr`` (``"mvc.<name>"`` reads the nested MvcSpec)."""
    if attr.startswith("mvc."):
        return getattr(p.mvc, attr[4:])
    return getattr(p, attr)


def _toml_value(value: object) -> str:
    """Format a scalar as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (HandPattern, Hand)):
        return _toml_string(value.value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, float):
        return repr(value)  # 'inf', 'nan', '1e-05' are all valid TOML
    return str(value)


def _toml_string(text: str) -> str:
    """A TOML basic string with every character that needs it escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
