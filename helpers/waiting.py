"""The one way the workshop waits for something: poll with backoff until a deadline."""

import time
from collections.abc import Callable
from typing import TypeVar

from helpers.errors import WorkshopError

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None],
    what: str,
    timeout: float = 120.0,
    interval: float = 0.05,
    max_interval: float = 5.0,
    on_progress: Callable[[float], None] | None = None,
) -> T:
    """Call ``check`` until it returns something other than None; return that.

    ``on_progress`` gets the seconds waited so far, for a progress display.
    """
    start = time.monotonic()
    while True:
        result = check()
        if result is not None:
            return result
        waited = time.monotonic() - start
        if waited >= timeout:
            raise WorkshopError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        if on_progress is not None:
            on_progress(waited)
        time.sleep(min(interval, timeout - waited))
        interval = min(interval * 2, max_interval)
