"""The first line of every step's notebook: where the workshop runs and what it has made.

A notebook may be opened days after the one before it, on a backend that has restarted
since (the local one forgets everything) or an account where someone deleted a resource
by hand. `resume` says so in a sentence, with what to re-run, before any step builds on
something that is gone.
"""

from helpers import backend, resources, state
from helpers.backend import Backend
from helpers.errors import WorkshopError
from helpers.state import WorkshopState


def resume(
    name: str = backend.LOCAL, region: str | None = "us-east-1"
) -> tuple[Backend, WorkshopState]:
    """The backend BACKEND/REGION name, and the workshop's state on it, checked against it."""
    connected = backend.connect(name, region)
    recorded = state.load(connected)
    if vanished := resources.check(connected, recorded):
        raise WorkshopError("\n".join(vanished))
    return connected, recorded
