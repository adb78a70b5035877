"""The one clock every time-based rule reads (deletion dates, rotation, import expiry).

Time is float epoch seconds. By default the clock follows ``time.time()`` (so freezegun, which
patches ``time.time``, moves it too); ``advance()`` adds an offset on top, which lets a test jump
days ahead without sleeping.

The clock may not pass ``MAX_CLOCK`` (the end of year 9989): every date the mock derives from
it — up to 2,560 days later, the longest rotation period — then stays before the year 10000,
the last a client can parse. ``advance()`` refuses to move it further (``ValueError``, nothing
changed), for ``MockKms.advance`` and the server's ``/_mockkms/advance`` alike.
"""
from __future__ import annotations

import datetime as _dt
import threading
import time as _time

MAX_CLOCK = _dt.datetime(9990, 1, 1, tzinfo=_dt.timezone.utc).timestamp()
TOO_FAR = ("That is too far ahead: the mock's clock may not pass 9989-12-31T23:59:59Z, so that "
           "every date it schedules (up to 2,560 days later) stays before the year 10000.")


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
            if not _time.time() + self._offset + seconds < MAX_CLOCK:  # NaN too
                raise ValueError(TOO_FAR)
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


DAY = 86400.0
