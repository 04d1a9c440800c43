"""Where the workshop keeps its files: the repository root, or WORKSHOP_DIR when set."""

import os
import tempfile
from pathlib import Path

from helpers import settings

REPOSITORY = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPOSITORY / "notebooks"
AGENT_DIR = REPOSITORY / "agent"


def workshop_dir() -> Path:
    """The folder for state and credential files (git-ignored, mode 0600).

    Notebooks run with ``notebooks/`` as their working directory, so look upwards for the
    repository; the headless runner sets WORKSHOP_DIR so each run has state of its own.
    """
    if configured := settings.workshop_dir():
        return Path(configured)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "helpers").is_dir():
            return folder
    return here


def state_dir(root: Path | None = None) -> Path:
    """``.workshop/``: the state file, the background backend's record and log, builds."""
    return (root or workshop_dir()) / ".workshop"


def state_file(root: Path | None = None) -> Path:
    return state_dir(root) / "state.json"


def build_dir(root: Path | None = None) -> Path:
    return state_dir(root) / "build"


def emulator_record(root: Path | None = None) -> Path:
    """Which local backend a notebook started in the background (URL and pid)."""
    return state_dir(root) / "emulator.json"


def emulator_log(root: Path | None = None) -> Path:
    return state_dir(root) / "emulator.log"


def private_file(path: Path, text: str) -> None:
    """Write ``text`` so that only the owner can read it, replacing the file atomically.

    The text goes to a temporary file of this writer's own (two notebooks may save at once),
    reaches the disk, and only then takes the file's place: a crash or a second writer
    leaves the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp made it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
