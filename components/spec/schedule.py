"""KEDA cron schedules and their time zones, checked as KEDA checks them.

KEDA's cron scaler (kedacore/keda v2.20.2, pkg/scalers/cron_scaler.go) parses `start` and
`end` with robfig/cron v3.0.1 `NewParser(Minute | Hour | Dom | Month | Dow)`: five fields, no
seconds, no `@hourly` descriptors, and start != end; `timezone` goes to Go's
`time.LoadLocation`, an IANA zone name. Field syntax and bounds are robfig/cron v3.0.1
parser.go `getRange` and spec.go `bounds`."""

from __future__ import annotations

import zoneinfo
from functools import cache

from components.suggest import did_you_mean

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (field name, low, high, names)
FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
          ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
          ("day of week", 0, 6, {d: i for i, d in enumerate(_DAYS)}))


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number")
    return int(text)


def _field_error(expr: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for part in expr.split(","):
        range_step = part.split("/")
        if len(range_step) > 2:
            return f"{name} {part!r} has more than one '/'"
        bounds = range_step[0].split("-")
        try:
            if bounds[0] in ("*", "?"):
                start, end = low, high
            elif len(bounds) > 2:
                return f"{name} {part!r} has more than one '-'"
            else:
                start = _number(bounds[0], names)
                end = _number(bounds[1], names) if len(bounds) == 2 else start
            if len(range_step) == 2:
                step = _number(range_step[1], {})
                if step == 0:
                    return f"{name} {part!r}: the step after '/' must be at least 1"
                if len(bounds) == 1 and bounds[0] not in ("*", "?"):
                    end = high  # "N/step" means N-high/step
        except ValueError as exc:
            return f"{name} {part!r}: {exc}"
        if start < low or end > high:
            return f"{name} {part!r} is outside {low}-{high}"
        if start > end:
            return f"{name} {part!r} begins after it ends"
    return None


def cron_error(expr: str) -> str | None:
    """Why KEDA would reject `expr` as a start or end schedule, or None."""
    if expr.startswith("@"):
        return f"{expr!r}: KEDA takes five cron fields, not @ shortcuts"
    parts = expr.split()
    if len(parts) != len(FIELDS):
        return (f"{expr!r} has {len(parts)} field{'s' * (len(parts) != 1)}; a cron schedule has five: "
                "minute hour day-of-month month day-of-week (e.g. '0 8 * * 1-5')")
    for part, (name, low, high, names) in zip(parts, FIELDS, strict=True):
        why = _field_error(part, name, low, high, names)
        if why:
            return why
    return None


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_error(name: str) -> str | None:
    """Why `name` is not an IANA time zone, or None."""
    if name in _zones() or name == "UTC":
        return None
    return f"{name!r} is not an IANA time zone (such as UTC or Europe/Berlin); " \
           f"{did_you_mean(name, _zones(), otherwise='see the tz database')}"
