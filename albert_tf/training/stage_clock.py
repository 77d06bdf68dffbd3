"""Seconds per stage of a long run, for run.json's `stage_seconds` (what `make demo`'s
time is tuned by).

Example:
>>> clock = StageClock()
>>> clock.lap("teacher")  # seconds since the clock started, recorded as "teacher"
0.0
>>> sorted(clock.stages)
['teacher']
"""

from __future__ import annotations

import time


class StageClock:
    """Records the seconds since the previous lap (or the start) under each stage name."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._last = time.time()

    def lap(self, stage: str) -> float:
        now = time.time()
        self.stages[stage] = round(now - self._last, 1)
        self._last = now
        return self.stages[stage]
