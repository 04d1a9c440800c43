"""A test agent that cannot start: its import fails, as a learner's typo would."""

import no_such_module_for_the_workshop  # noqa: F401
