"""Error types shared by every layer.

Every error the program raises on purpose derives from :class:`IsogripError`, so a
caller can catch them all in one place. Where a builtin exception fits, the class
inherits it as well (a bad protocol file is also a ``ValueError``). Errors the user
interface must branch on carry an enum ``reason``.
"""

from __future__ import annotations

import enum


class IsogripError(Exception):
    """Base class of every error raised by isogrip."""


class ProtocolFileError(IsogripError, ValueError):
    """A protocol file is missing, unreadable or invalid.

    Attributes:
        path: The file that was read, or a built-in protocol's name.
        field: The dotted field name at fault (e.g. ``"holds.duration_s"``), or
            ``None`` when the whole file is at fault.
    """

    def __init__(self, path: str, message: str, field: str | None = None) -> None:
        self.path = path
        self.field = field
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)


class UnknownProtocolError(IsogripError, LookupError):
    """No built-in protocol has this name and no file exists at this path."""


class DeviceSpecError(IsogripError, ValueError):
    """A device spec string (e.g. ``sim:good?seed=3``) cannot be understood."""


class DeviceErrorReason(enum.Enum):
    """Why a device could not be used; the UI picks its advice from this."""

    NOT_FOUND = "not_found"
    BLUETOOTH_OFF = "bluetooth_off"
    NO_ADAPTER = "no_adapter"
    PERMISSION_DENIED = "permission_denied"
    BUSY = "busy"
    DISCONNECTED = "disconnected"
    PROTOCOL = "protocol"
    #: Connected, but a step (battery, zeroing, starting the stream) got no answer.
    NOT_RESPONDING = "not_responding"


class DeviceError(IsogripError, OSError):
    """A device could not be found, connected to or talked to.

    Attributes:
        reason: What went wrong, for the user interface to branch on.
    """

    def __init__(self, message: str, reason: DeviceErrorReason) -> None:
        self.reason = reason
        super().__init__(message)


class StorageError(IsogripError, OSError):
    """The data directory or database cannot be used."""


class DatabaseBusyError(StorageError):
    """Another process holds the database's write lock for longer than isogrip waits."""


class SessionNotFoundError(IsogripError, LookupError):
    """No stored session matches the given id."""


class BpValueError(IsogripError, ValueError):
    """A blood-pressure entry is not a plausible reading (the message says why)."""


class DatabaseDamagedError(StorageError):
    """The session database is damaged (corrupt or truncated).

    Attributes:
        path: The damaged database file.
        backup: A copy of it made when the damage was found (kept for recovery), or
            ``None`` if no copy could be made.
    """

    def __init__(self, message: str, path: str, backup: str | None) -> None:
        self.path = path
        self.backup = backup
        super().__init__(message)


class InputFileError(IsogripError, OSError):
    """A file given to isogrip cannot be read: not a regular file, too large or unreadable."""


class MissingExtraError(IsogripError, ImportError):
    """A feature needs an optional library that is not installed.

    The message is one line naming the extra that installs it (see
    :func:`isogrip.extras.import_extra`), e.g. ``Parquet export needs the research
    extra: pipx install 'isogrip[research]' (or pip install 'isogrip[research]').``

    Attributes:
        feature: What was asked for, as the message names it (``"Parquet export"``).
        extra: The extra of ``pyproject.toml`` that installs the library.
    """

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs the {extra} extra: pipx install "
                         f"'isogrip[{extra}]' (or pip install 'isogrip[{extra}]').")
