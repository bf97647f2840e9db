"""Which times can be capture times: every time source passes through here.

A date written by a camera with a flat clock battery (0001-01-01), a placeholder
(9999-12-31) or a file touched by a broken tool is not when the picture was taken, and
near the ends of the calendar it cannot even be moved to another zone (OverflowError).
So a capture time must lie between 1826, the oldest surviving photograph, and a day
after the ingest (clocks and zones differ by up to a day); anything else is ignored with
a warning, and resolution goes on to the next time source.
"""

from __future__ import annotations

import datetime as dt

EARLIEST = dt.datetime(1826, 1, 1, tzinfo=dt.UTC)
AHEAD = dt.timedelta(days=1)


def implausible(stamp: dt.datetime, now: dt.datetime | None = None) -> str | None:
    """Why `stamp` cannot be a capture time, or None when it can.

    A time without an offset is judged as if it were UTC; the day of slack covers the
    zone it will be read in.
    """
    try:
        instant = (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:  # its offset takes it past year 1 or 9999
        instant = dt.datetime.min if stamp.year == 1 else dt.datetime.max
        instant = instant.replace(tzinfo=dt.UTC)
    if instant < EARLIEST:
        return "before 1826 (the oldest surviving photograph)"
    if instant > (now or dt.datetime.now(dt.UTC)) + AHEAD:
        return "more than a day after the ingest"
    return None


def capture_time(iso: str | None, label: str, notes: list[str] | None = None,
                 now: dt.datetime | None = None) -> str | None:
    """`iso` when it is a plausible capture time; else None, with a note saying why."""
    if not iso:
        return None
    try:
        stamp = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    reason = implausible(stamp, now)
    if reason is None:
        return iso
    if notes is not None:
        notes.append(f"{label} {iso} is {reason}; ignored as the capture time")
    return None


def iptc_datetime(date: str | None, clock: str | None) -> str | None:
    """IPTC 2:55 Date Created (CCYYMMDD) with 2:60 Time Created (HHMMSS±HHMM) as ISO 8601;
    None when either is missing or malformed (a date alone is no capture time: inventing
    midnight would mislead)."""
    try:
        day = dt.datetime.strptime(date or "", "%Y%m%d")
        at = dt.datetime.strptime((clock or "")[:6], "%H%M%S").time()
    except ValueError:
        return None
    stamp = dt.datetime.combine(day.date(), at)
    offset = (clock or "")[6:]
    if len(offset) == 5 and offset[0] in "+-" and offset[1:].isdigit() and \
            int(offset[1:3]) < 24 and int(offset[3:5]) < 60:
        sign = -1 if offset[0] == "-" else 1
        delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        stamp = stamp.replace(tzinfo=dt.timezone(sign * delta))
    return stamp.isoformat()


def file_time(mtime_ns: int, tz: dt.tzinfo, notes: list[str] | None = None,
              now: dt.datetime | None = None) -> dt.datetime | None:
    """A file's modification time in `tz` when it is a plausible capture time, else None
    (with a note saying why)."""
    try:
        stamp = dt.datetime.fromtimestamp(mtime_ns // 1_000_000_000, tz=tz)
    except (OverflowError, ValueError, OSError):
        stamp, reason = None, "outside the calendar"
    else:
        reason = implausible(stamp, now)
    if reason is None:
        return stamp
    if notes is not None:
        shown = stamp.isoformat() if stamp else f"{mtime_ns} ns after 1970"
        notes.append(f"file modification time {shown} is {reason}; ignored as the "
                     "capture time")
    return None
