"""The protocol file format: TOML text <-> :class:`~isogrip.protocols.model.Protocol`.

A protocol file has one table per concern (``[protocol]``, ``[holds]``, ``[band]``,
``[timing]``, ``[mvc]``, ``[display]``); the tables, their keys and the units in the
file all come from the field specs (:func:`~isogrip.protocols.model.protocol_slots`),
and ``docs/protocols.md`` documents them. Only ``[protocol] name`` is required.

Every problem with the text is a :class:`~isogrip.errors.ProtocolFileError` whose
message is one line a user can act on, and whose ``field`` is the dotted TOML key at
fault, e.g.::

    my.toml: holds.duration_s: must be a positive number of seconds, got -5

Values are checked by the model itself when the protocol is built; this module checks
the shape of the text (tables, keys, types) and names the nearest valid key. It is
pure: it reads no file (:mod:`isogrip.protocols.loader` does).
"""

from __future__ import annotations

import enum
import functools
import json
import re
import tomllib
from typing import Any, NoReturn

from isogrip.protocols.fields import Slot, Table
from isogrip.protocols.model import Protocol, protocol_slots
from isogrip.protocols.sources import Source, closest, coerce
from isogrip.protocols.validation import ProtocolValueError, range_problem, value_text

__all__ = ["parse_protocol", "parse_text", "protocol_to_toml"]


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
        ProtocolFileError: The text is not valid TOML or not a valid protocol
            (a :class:`~isogrip.protocols.validation.ProtocolValueError` for a value
            that breaks a rule of its field).
    """
    stored = None if path.startswith("<") and path.endswith(">") else path
    return parse_text(text, label=path, stored_path=stored)


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
    for table in Table:
        lines += ["", f"[{table.value}]"] if lines else [f"[{table.value}]"]
        for slot in _in_table(table.value).values():
            value = slot.get(p)
            if slot.spec.file_scale != 1.0:
                value = value / slot.spec.file_scale
            lines.append(f"{slot.spec.key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- parsing


@functools.cache
def _layout() -> dict[str, dict[str, Slot]]:
    """Table name -> TOML key -> field: the file format, from the field specs."""
    return {t.value: {s.spec.key: s for s in protocol_slots() if s.spec.table is t}
            for t in Table}


def _in_table(table: str) -> dict[str, Slot]:
    """TOML key -> field, of one table (empty for a name that is no table)."""
    return _layout().get(table, {})


def _tables() -> list[str]:
    return [t.value for t in Table]


def _tables_with(key: str) -> list[str]:
    return [t for t in _tables() if key in _in_table(t)]


def parse_text(text: str, *, label: str, stored_path: str | None) -> Protocol:
    """Parse TOML text into a validated Protocol; errors start with ``label``.

    Args:
        text: The TOML text.
        label: The file path or built-in name errors start with.
        stored_path: The protocol's ``path``.
    """
    source = Source(label)
    doc = _toml(text, source)
    values: dict[Slot, Any] = {}
    for table, body in doc.items():
        keys = _in_table(table)
        if not keys:
            _unknown_top_level(table, body, source)
        if isinstance(body, list) and all(isinstance(item, dict) for item in body):
            source.fail(table, f"write [{table}] once, not [[{table}]]")
        if not isinstance(body, dict):
            source.fail(
                table, f"must be a table ([{table}] on a line of its own), got {value_text(body)}"
            )
        for key, raw in body.items():
            slot = keys.get(key)
            if slot is None:
                _unknown_key(table, key, source)
            values[slot] = _in_model_units(slot, coerce(raw, slot, source), source)
    name = _in_table(Table.PROTOCOL.value)["name"]
    if name not in values:
        if Table.PROTOCOL.value not in doc:
            source.fail_on(name, 'is missing: add a [protocol] table with name = "my-protocol"')
        source.fail_on(name, 'is missing: every protocol needs a name, e.g. name = "my-protocol"')
    defaults = [s.spec for s in protocol_slots() if s not in values]
    return source.build(values, stored_path, defaults)


def _in_model_units(slot: Slot, value: Any, source: Source) -> Any:
    """A value from a file in the model's unit (kgf -> N), checked in the file's unit."""
    if slot.spec.file_scale == 1.0:
        return value
    # Checked before the conversion, so that the message shows the number as written.
    problem = range_problem(slot.spec, value, in_file=True)
    if problem is not None:
        raise ProtocolValueError(problem, source.label, source.naming)
    return value * slot.spec.file_scale


def _toml(text: str, source: Source) -> dict[str, Any]:
    """The parsed TOML document; every failure is one line naming the position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        source.fail(None, f"not valid TOML: {_toml_error(exc)}")
    except ValueError as exc:  # e.g. an integer with thousands of digits
        source.fail(None, f"not valid TOML: {exc}")
    except RecursionError:
        source.fail(None, "not valid TOML: values are nested too deeply")


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


def _unknown_top_level(name: str, value: object, source: Source) -> NoReturn:
    """Report a top-level entry that is not one of the known tables."""
    tables = _tables()
    name = _key_label(name)
    if not isinstance(value, (dict, list)):
        owners = _tables_with(name)
        if owners:
            source.fail(name, f"must be inside a table: put it under [{owners[0]}]")
        source.fail(
            name, f"unknown key outside any table; keys go inside the tables {_list(tables)}"
        )
    near = closest(name, tables)
    hint = f"did you mean [{near}]?" if near else f"the tables are {_list(tables)}"
    source.fail(name, f"unknown table; {hint}")


def _unknown_key(table: str, name: str, source: Source) -> NoReturn:
    """Report a key that its table does not have, suggesting the nearest valid one."""
    field = f"{table}.{_key_label(name)}"
    valid = list(_in_table(table))
    owners = _tables_with(name)
    if owners:
        source.fail(field, f"unknown key in [{table}]; it belongs in [{owners[0]}]")
    near = closest(name, valid)
    if near:
        source.fail(field, f"unknown key; did you mean {near}?")
    source.fail(field, f"unknown key; [{table}] has: {', '.join(valid)}")


def _list(tables: list[str]) -> str:
    return ", ".join(f"[{t}]" for t in tables)


# ---------------------------------------------------------------------------- writing


def _toml_value(value: object) -> str:
    """Format a scalar as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):  # a choice is written as its text
        value = value.value
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
