"""Processes that must not outlive the one that started them.

A local backend started for a run or for JupyterLab, and an agent started by the local
backend, hold a port and memory that nobody else knows of: if their parent dies without
stopping them (SIGKILL, a crash), they stop themselves.
"""

import os
import signal
import threading
import time


def leave_when_orphaned(parent: int, every: float = 0.5) -> None:
    """SIGTERM ourselves (so the usual shutdown runs) once ``parent`` is no longer ours."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()
