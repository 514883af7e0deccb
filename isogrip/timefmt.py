"""Times as a person reads them: the local time of the computer showing them.

The store and every export keep ISO 8601 with a UTC offset (machine-readable, and the
same wherever the file is read). Whatever a person reads (the CLI's tables, the
desktop app, reports) goes through :func:`local_time`, so a session and a
blood-pressure reading taken at the same moment read the same everywhere.

Example:
    >>> import datetime as dt
    >>> local_time(dt.datetime(2026, 11, 23, 14, 5))  # naive: already local
    '2026-11-23 14:05'
"""

from __future__ import annotations

import datetime as _dt

#: Tables (CLI): compact, and sorts as text.
TABLE = "%Y-%m-%d %H:%M"
#: Lists in the desktop app: ``Mon 23 Nov, 14:05``.
SHORT = "%a %d %b, %H:%M"
#: Sentences and headings: ``Monday 23 November 2026, 14:05``.
LONG = "%A %d %B %Y, %H:%M"
#: A calendar day: ``2026-11-23``.
DATE = "%Y-%m-%d"

#: Column headers and notes that say once which clock the times are on.
LOCAL_TIME = "local time"


def local_datetime(when: str | _dt.datetime) -> _dt.datetime:
    """A time (ISO 8601 text or a datetime) as an aware datetime in local time.

    A time without a UTC offset is taken as local already (as the store does).

    Raises:
        ValueError: The text is not an ISO 8601 time.
        OverflowError: The time is at the very end of the calendar and local time
            would lie beyond it.
    """
    if isinstance(when, str):
        when = _dt.datetime.fromisoformat(when.strip())
    return when.astimezone()


def utc_offset(when: _dt.datetime) -> str:
    """The offset of an aware time from UTC as people write it: ``UTC+01:00``."""
    offset = when.utcoffset() or _dt.timedelta(0)
    sign = "-" if offset < _dt.timedelta(0) else "+"
    minutes = abs(offset) // _dt.timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_time(when: str | _dt.datetime, fmt: str = TABLE, *, zone: bool = False) -> str:
    """The one way a time is shown to a person: local time in the format ``fmt``.

    Args:
        when: ISO 8601 text (as stored) or a datetime; no offset means local time.
        fmt: A ``strftime`` format, usually :data:`TABLE`, :data:`SHORT`, :data:`LONG`
            or :data:`DATE`.
        zone: Add the UTC offset (``"... (UTC+01:00)"``), for pages that may be read
            elsewhere, such as a printed report.

    Returns:
        The text; a stored text that is not a time is returned as it is, so a damaged
        value is seen rather than hidden.
    """
    try:
        local = local_datetime(when)
    except (ValueError, OverflowError):  # not a time; or year 1 / 9999 moved past the end
        return str(when)
    text = local.strftime(fmt)
    return f"{text} ({utc_offset(local)})" if zone else text


class SystemLocalTime(_dt.tzinfo):
    """This computer's local time zone, with its daylight-saving changes.

    ``datetime.now().astimezone().tzinfo`` is a fixed offset: a week across a
    daylight-saving change would put the readings after it on the wrong day. This
    asks the system (``datetime.astimezone``) for the offset at each moment instead.
    """

    def fromutc(self, dt: _dt.datetime) -> _dt.datetime:
        """The local wall time of a UTC time (``dt`` carries this zone)."""
        local = dt.replace(tzinfo=_dt.UTC).astimezone()
        return local.replace(tzinfo=self)

    def utcoffset(self, dt: _dt.datetime | None) -> _dt.timedelta | None:
        """The system's offset from UTC at the local wall time ``dt``."""
        if dt is None:
            return None
        return dt.replace(tzinfo=None).astimezone().utcoffset()

    def dst(self, dt: _dt.datetime | None) -> _dt.timedelta | None:
        """Not known separately (the offset includes it)."""
        return None

    def tzname(self, dt: _dt.datetime | None) -> str | None:
        """The system's name for the zone at ``dt``."""
        when = _dt.datetime.now() if dt is None else dt.replace(tzinfo=None)
        return when.astimezone().tzname()
