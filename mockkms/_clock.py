"""The one clock every time-based rule reads (deletion dates, rotation, import expiry).

Time is float epoch seconds. By default the clock follows ``time.time()`` (so freezegun, which
patches ``time.time``, moves it too); ``advance()`` adds an offset on top, which lets a test jump
days ahead without sleeping.
"""
from __future__ import annotations

import datetime as _dt
import threading
import time as _time


class Clock:
    __slots__ = ("_offset", "_lock")

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return _time.time() + self._offset

    def advance(self, delta: _dt.timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, _dt.timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("the mock's clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


DAY = 86400.0
