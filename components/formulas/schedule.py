"""Hours a week between two cron times: how long a work-hours schedule (KEDA's cron
trigger: `start` and `end` as `minute hour * * day-of-week`) keeps a replica up. Stdlib only."""

from __future__ import annotations

HOURS_PER_MONTH = 730  # AWS's convention: 8760 h / 12
WEEKS_PER_MONTH = HOURS_PER_MONTH / (24 * 7)


def _days(field: str) -> set[int] | None:
    """A cron day-of-week field (`*`, `1-5`, `1,3,5`, `0-6`; 0 and 7 are Sunday) -> {0..6}."""
    if field == "*":
        return set(range(7))
    out: set[int] = set()
    for part in field.split(","):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        a, b = int(lo), int(hi or lo)
        if not (0 <= a <= b <= 7):
            return None
        out |= {d % 7 for d in range(a, b + 1)}
    return out


def _time(minute: str, hour: str) -> float | None:
    if not (minute.isdigit() and hour.isdigit()) or int(minute) > 59 or int(hour) > 23:
        return None
    return int(hour) + int(minute) / 60


def weekly_hours(start: str, end: str) -> float | None:
    """Hours per week from `start` to `end` on the days `start` names (the schedule starts
    and ends the same day); None when the expressions are not that simple form."""
    s, e = start.split(), end.split()
    if len(s) != 5 or len(e) != 5 or s[2:4] != ["*", "*"] or e[2:4] != ["*", "*"]:
        return None
    t0, t1, days = _time(s[0], s[1]), _time(e[0], e[1]), _days(s[4])
    if t0 is None or t1 is None or days is None or t1 <= t0:
        return None
    return (t1 - t0) * len(days)


def monthly_hours(start: str, end: str) -> float | None:
    """Hours per 730-hour month the schedule is on."""
    week = weekly_hours(start, end)
    return None if week is None else week * WEEKS_PER_MONTH
