"""``make bench``: how fast the local backend is. Measurements, not tests.

Each module measures one thing and runs alone (``python -m benchmarks.runtime``);
``python -m benchmarks`` runs them all once and reports every figure together.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from helpers import settings
from helpers.backend import Backend, running_emulator
from helpers.state import WorkshopState
from helpers.workshop import resume


@contextmanager
def local_workshop(name: str) -> Iterator[tuple[str, Backend, WorkshopState]]:
    """A fresh local backend and workshop folder, as ``make run`` gives each run.

    The environment is restored afterwards: the next benchmark in the same process must
    not find this one's stopped backend.
    """
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder,
        running_emulator(Path(folder) / "emulator.log") as url,
    ):
        environment = {settings.EMULATOR_URL: url, settings.WORKSHOP_DIR: folder}
        with mock.patch.dict(os.environ, environment):
            yield url, *resume()
