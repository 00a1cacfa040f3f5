"""Reading nccl-tests output (all_reduce_perf and friends): the per-size table, the
`# Avg bus bandwidth` summary, and the verdict against the catalog's floor."""

from __future__ import annotations

import re
from dataclasses import dataclass

_AVG = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*([0-9.]+)", re.MULTILINE)
_OUT_OF_BOUNDS = re.compile(r"^#\s*Out of bounds values\s*:\s*(\d+)", re.MULTILINE)
# `mpirun --tag-output` prefixes each line with its job and rank: `[1,0]<stdout>:`.
_MPI_TAG = re.compile(r"^\[\d+,\d+\]<std(?:out|err)>:", re.MULTILINE)
# The catalog's floor is for large messages (>= 1 GiB): small sizes measure latency, not the fabric.
LARGE_MESSAGE_BYTES = 1 << 30


class NcclOutputError(ValueError):
    """The text is not nccl-tests output (or the run died before printing its table)."""


@dataclass(frozen=True)
class Row:
    size: int  # bytes
    busbw: float  # out-of-place bus bandwidth, GB/s
    wrong: int | None  # out-of-place #wrong (None when the run did not check: -c 0)


@dataclass(frozen=True)
class NcclResult:
    rows: tuple[Row, ...]
    avg_busbw: float | None  # the `# Avg bus bandwidth` line (all sizes: far below peak)
    out_of_bounds: int | None

    @property
    def max_busbw(self) -> float:
        return max(r.busbw for r in self.rows)

    @property
    def large_busbw(self) -> float:
        """Best out-of-place busbw at >= 1 GiB, or at the largest size run when none was that big."""
        large = [r for r in self.rows if r.size >= LARGE_MESSAGE_BYTES]
        return max(r.busbw for r in (large or [max(self.rows, key=lambda r: r.size)]))

    @property
    def errors(self) -> int:
        wrong = sum(r.wrong or 0 for r in self.rows)
        return max(wrong, self.out_of_bounds or 0)


def _columns(header: str) -> tuple[int, int]:
    """(busbw index, #wrong index) of the out-of-place half of the table header."""
    cols = header.lstrip("#").split()
    busbw = cols.index("busbw")
    wrong = busbw + 1 if busbw + 1 < len(cols) and cols[busbw + 1] == "#wrong" else -1
    return busbw, wrong


def parse(text: str) -> NcclResult:
    text = _MPI_TAG.sub("", text)
    busbw_at = wrong_at = None
    rows: list[Row] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            words = stripped.lstrip("#").split()
            if words[:2] == ["size", "count"] and "busbw" in words and busbw_at is None:
                busbw_at, wrong_at = _columns(stripped)
            continue
        if busbw_at is None:
            continue
        cols = stripped.split()
        if len(cols) <= busbw_at or not cols[0].isdigit():
            continue
        try:
            busbw = float(cols[busbw_at])
        except ValueError:
            continue
        wrong = None
        if wrong_at is not None and wrong_at >= 0 and cols[wrong_at].isdigit():
            wrong = int(cols[wrong_at])
        rows.append(Row(int(cols[0]), busbw, wrong))
    if not rows:
        raise NcclOutputError("no nccl-tests result table found")
    avg = _AVG.search(text)
    oob = _OUT_OF_BOUNDS.search(text)
    return NcclResult(tuple(rows), float(avg.group(1)) if avg else None, int(oob.group(1)) if oob else None)


def verdict(result: NcclResult, floor_gbps: float | None) -> tuple[bool, str]:
    """(passed, reason) of one run against the instance type's floor."""
    avg = f", avg {result.avg_busbw:.1f}" if result.avg_busbw is not None else ""
    summary = (f"busbw {result.large_busbw:.1f} GB/s at large messages (max {result.max_busbw:.1f}{avg}; "
               f"out-of-place)")
    if result.errors:
        return False, f"{result.errors} wrong results reported by nccl-tests; {summary}"
    if floor_gbps is None:
        return True, f"{summary}; the catalog sets no floor for this instance type"
    if result.large_busbw < floor_gbps:
        return False, f"{summary} is below the catalog floor {floor_gbps:g} GB/s"
    return True, f"{summary} >= floor {floor_gbps:g} GB/s"
