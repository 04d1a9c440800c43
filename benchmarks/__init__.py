"""``make bench``: how fast the local backend is. Measurements, not tests."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import settings, workshop
from helpers.backend import Backend, running_emulator
from helpers.state import WorkshopState


@contextmanager
def local_workshop(name: str) -> Iterator[tuple[str, Backend, WorkshopState]]:
    """A fresh local backend and workshop folder, as ``make run`` gives each run."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    with running_emulator(folder / "emulator.log") as url:
        os.environ[settings.EMULATOR_URL] = url
        os.environ[settings.WORKSHOP_DIR] = str(folder)
        yield url, *workshop.resume()
