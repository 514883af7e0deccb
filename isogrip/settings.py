"""User settings of the desktop app, kept in one JSON file.

The file lives in the platform's per-user config folder
(``platformdirs.user_config_dir("isogrip")``, e.g. ``~/.config/isogrip`` on Linux), or in
``$ISOGRIP_CONFIG_DIR`` when that is set. It is written atomically with mode ``0o600``.

A settings file is user input: a value of the wrong type or out of range never stops
the program. :func:`load_settings` keeps every valid value, falls back to the default
for the others and returns one sentence per problem for the app to show; a file that
is not JSON at all is kept as ``settings.json.bad`` so nothing the user typed is lost.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from isogrip.errors import InputFileError, IsogripError, StorageError
from isogrip.files import (
    SMALL_FILE_LIMIT,
    make_private_dirs,
    move_aside,
    read_limited_text,
    write_atomic_text,
)
from isogrip.home_bp.categories import Guideline
from isogrip.ids import ParticipantIdError, check_participant_id
from isogrip.protocols.loader import DEFAULT_PROTOCOL, protocol_from_dict, protocol_to_dict
from isogrip.protocols.model import Protocol
from isogrip.signal.units import Unit
from isogrip.types import Hand

#: Environment variable that overrides the settings folder.
CONFIG_DIR_ENV = "ISOGRIP_CONFIG_DIR"
#: File name of the settings file inside the settings folder.
SETTINGS_FILENAME = "settings.json"


class SettingsError(IsogripError, ValueError):
    """A settings value is not acceptable (the message says which and why)."""


@dataclass(frozen=True)
class Settings:
    """What the user chose in the Settings screen.

    Attributes:
        unit: Force unit shown everywhere.
        band_pct: Half-width of the green band, % MVC; ``None`` keeps the protocol's.
        audio: Play audio cues.
        volume: Cue volume, 0..1.
        protocol: Built-in protocol name or path of a protocol file.
        data_dir: Data folder; ``None`` uses the default.
        participant: Participant ID (a code such as ``P017``, never a name), or "".
        dominant: Dominant hand (single-hand protocols train the other one).
        large_text: Larger text everywhere.
        high_contrast: Black background, bright colours, thicker lines.
        sbp_limit: Advise against training at or above this systolic pressure, mmHg.
        dbp_limit: Advise against training at or above this diastolic pressure, mmHg.
        bp_guideline: Guideline whose categories home BP summaries use
            (``esh-2023`` or ``acc-aha-2017``; docs/science.md says why ESH is the default).
        mvc_reuse_days: Offer to reuse an MVC measured within this many days.
        device: Device spec last connected to.
        lsl: Stream force and events live over Lab Streaming Layer (research).
        protocol_locked: The protocol cannot be changed from the app (set by a study
            team in the settings file, so a blinded participant stays on the sham).
        first_run_done: The welcome page has been read.
    """

    unit: Unit = Unit.KGF
    band_pct: float | None = None
    audio: bool = True
    volume: float = 0.7
    protocol: str = DEFAULT_PROTOCOL
    data_dir: str | None = None
    participant: str = ""
    dominant: Hand = Hand.RIGHT
    large_text: bool = False
    high_contrast: bool = False
    sbp_limit: int = 180
    dbp_limit: int = 110
    bp_guideline: Guideline = Guideline.ESH_2023
    mvc_reuse_days: float = 7.0
    device: str = "sim"
    lsl: bool = False
    protocol_locked: bool = False
    first_run_done: bool = False

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, each checked.

        Raises:
            SettingsError: A value is not acceptable.
        """
        for key, value in changes.items():
            changes[key] = check_value(key, value)
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-compatible values."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, Unit | Hand) else value
        return out


#: Values quoted in messages are cut short: a message stays one readable line however
#: long the text, list or number in the file is.
_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = 60
_QUOTE.maxlong = 20
_QUOTE.maxlevel = 2


def _brief(value: Any) -> str:
    """``repr(value)``, shortened for a one-line message."""
    return _QUOTE.repr(value)


def _number(key: str, value: Any, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{key} must be a number, got {_brief(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{key} must be a number, got {_brief(value)}")
    # Compared before any conversion: an int beyond a float's range compares exactly,
    # where float() or math.isfinite() would raise OverflowError.
    if not low <= value <= high:
        raise SettingsError(
            f"{key} must be {what} between {low:g} and {high:g}, got {_brief(value)}")
    return float(value)


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{key} must be true or false, got {_brief(value)}")
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"{key} must be text, got {_brief(value)}")
    return value.strip()


def check_value(key: str, value: Any) -> Any:
    """Check one setting and return it in its stored type.

    Raises:
        SettingsError: Unknown key, wrong type or out of range (one sentence).
    """
    if key in ("audio", "large_text", "high_contrast", "first_run_done", "lsl",
               "protocol_locked"):
        return _flag(key, value)
    if key == "unit":
        if isinstance(value, Unit):
            return value
        try:
            return Unit.parse(_text(key, value))
        except ValueError as exc:
            raise SettingsError(f"unit: {exc}") from None
    if key == "dominant":
        if isinstance(value, Hand):
            return value
        try:
            return Hand(_text(key, value).lower())
        except ValueError:
            raise SettingsError(
                f"dominant must be 'left' or 'right', got {_brief(value)}") from None
    if key == "band_pct":
        return None if value is None else _number(key, value, 1, 10, "a band half-width (% MVC)")
    if key == "volume":
        return _number(key, value, 0, 1, "a volume")
    if key in ("sbp_limit", "dbp_limit"):
        low, high = (140, 220) if key == "sbp_limit" else (90, 130)
        return int(_number(key, value, low, high, "a pressure (mmHg)"))
    if key == "bp_guideline":
        try:
            return Guideline(_text(key, value).lower())
        except ValueError:
            raise SettingsError(f"bp_guideline must be one of "
                                f"{', '.join(g.value for g in Guideline)}, "
                                f"got {_brief(value)}") from None
    if key == "mvc_reuse_days":
        return _number(key, value, 0, 30, "a number of days")
    if key == "participant":
        try:
            return check_participant_id(_text(key, value))
        except ParticipantIdError as exc:
            raise SettingsError(str(exc)) from None
    if key in ("protocol", "device"):
        text = _text(key, value)
        if not text:
            raise SettingsError(f"{key} must not be empty")
        return text
    if key == "data_dir":
        if value is None:
            return None
        text = _text(key, value)
        return text or None
    raise SettingsError(f"unknown setting {key!r}")


def settings_path() -> Path:
    """The settings file: ``$ISOGRIP_CONFIG_DIR/settings.json`` or the platform default."""
    env = os.environ.get(CONFIG_DIR_ENV, "").strip()
    folder = Path(env).expanduser() if env else Path(
        platformdirs.user_config_dir("isogrip", appauthor=False))
    return folder / SETTINGS_FILENAME


def settings_from_json(data: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from parsed JSON, keeping every valid value.

    Returns:
        The settings and one sentence per value that was ignored.
    """
    good: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        try:
            good[key] = check_value(str(key), value)
        except SettingsError as exc:
            problems.append(f"{exc}; the default is used instead")
    return Settings(**good), problems


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """Read the settings file; never raises.

    A missing file gives the defaults. An unreadable or malformed file gives the
    defaults and a problem sentence; a malformed one is kept as ``<name>.bad``.

    Returns:
        The settings and the problems found (empty when all was well).
    """
    path = settings_path() if path is None else path
    try:
        text = read_limited_text(path, SMALL_FILE_LIMIT, "settings file")
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        detail = str(exc) if isinstance(exc, InputFileError) else (
            f"could not read the settings file {path} ({exc})")
        return Settings(), [f"{detail}; the defaults are used"]
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("it does not hold a set of named values")
    except RecursionError:
        why = "its values are nested too deeply"
    except ValueError as exc:
        why = str(exc)
    else:
        return settings_from_json(data)
    backup = path.with_name(path.name + ".bad")
    try:
        backup = move_aside(path, backup)
    except OSError:  # cannot move it: it stays where it is, and is still not used
        return Settings(), [f"the settings file {path} is damaged ({why}); "
                            "the defaults are used"]
    return Settings(), [f"the settings file {path} is damaged ({why}); it was kept as "
                        f"{backup.name} and the defaults are used"]


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (owner-only file).

    Raises:
        SettingsError: The file could not be written (with the reason).
    """
    path = settings_path() if path is None else path
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n"
    try:
        make_private_dirs(path.parent)
        write_atomic_text(path, text)
    except StorageError as exc:  # its message names the file and the reason
        raise SettingsError(f"could not save the settings: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"could not save the settings to {path}: "
                            f"{exc.strerror or exc}") from exc
    return path


def apply_band(protocol: Protocol, band_pct: float | None) -> Protocol:
    """The protocol with the user's green band half-width (``None``: unchanged).

    The amber margin keeps its width beyond the green band, and the result is checked
    with the protocol file rules. The half-width is what the participant sees: in a
    sham protocol (display scale above 1) it is divided by the scale, so the band on
    screen has the width chosen, as in the active protocol.

    Raises:
        SettingsError: The band is as wide as the target itself.
        ProtocolFileError: The band breaks another protocol rule.
    """
    shown_band = band_pct
    if band_pct is None or band_pct == protocol.green_pct * protocol.display_scale:
        return protocol
    band_pct = band_pct / protocol.display_scale  # true % MVC
    if band_pct >= protocol.target_pct:
        raise SettingsError(
            f"a green band of {shown_band:g} % either side is too wide for the protocol "
            f"{protocol.name!r}, whose target is "
            f"{protocol.target_pct * protocol.display_scale:g} % of the maximum"
        )
    margin = max(protocol.amber_pct - protocol.green_pct, 0.0)
    d = protocol_to_dict(protocol)
    d["green_pct"] = band_pct
    d["amber_pct"] = band_pct + margin
    d["warn_above_pct"] = max(protocol.warn_above_pct, protocol.target_pct + band_pct + margin)
    return protocol_from_dict(d)
