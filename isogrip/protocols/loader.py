"""Load training protocols: built-ins by name, protocol files by path.

This is the only protocols module that reads files. A protocol file is TOML text
(:mod:`isogrip.protocols.fileformat`; every key, its unit, default and allowed range
are documented in ``docs/protocols.md``), and built-in protocols live next to this
module in ``builtin/<name>.toml``, read with :mod:`importlib.resources`.

Every problem is reported as a :class:`~isogrip.errors.ProtocolFileError` whose
message is one line a user can act on, and whose ``field`` is the dotted TOML key at
fault, e.g.::

    my.toml: holds.duration_s: must be a positive number of seconds, got -5

The pure conversions are re-exported here, as before: :func:`parse_protocol`,
:func:`protocol_to_toml` (:mod:`isogrip.protocols.fileformat`) and
:func:`protocol_to_dict` / :func:`protocol_from_dict` (:mod:`isogrip.protocols.stored`).
"""

from __future__ import annotations

import functools
import os
import pathlib
from importlib import resources
from typing import Final

from isogrip.errors import InputFileError, ProtocolFileError, UnknownProtocolError
from isogrip.files import SMALL_FILE_LIMIT, read_limited_bytes
from isogrip.protocols.fileformat import parse_protocol, parse_text, protocol_to_toml
from isogrip.protocols.model import Protocol
from isogrip.protocols.stored import protocol_from_dict, protocol_to_dict

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

#: Built-in names that were renamed: the old name still loads the protocol (settings
#: files and scripts keep working). The HoldAge adaptation alternates hands, so it is
#: no longer called "bilateral".
RENAMED_BUILTINS: Final[dict[str, str]] = {
    "ihg-4x45-50-bilateral": "ihg-4x45-50-alternating",
}


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


def builtin_names() -> list[str]:
    """Names of the built-in protocols: the default first, then the rest sorted."""
    return list(_builtin_names())


def builtin_protocols() -> list[Protocol]:
    """All built-in protocols, in :func:`builtin_names` order.

    Raises:
        ProtocolFileError: A built-in file is invalid (a packaging bug).
    """
    return [_load_builtin(name) for name in _builtin_names()]


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
    return parse_text(text, label=path, stored_path=path)


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
    protocol = parse_text(text, label=name, stored_path=None)
    if protocol.name != name:
        raise ProtocolFileError(
            name, f"built-in file declares name {protocol.name!r}", "protocol.name"
        )
    return protocol
