"""Quickstart step 3: the agent's code, ``agent/agent.py``, and what it must have.

Nothing is created in this step; the notebook reads the agent piece by piece and checks
the properties the rest of the workshop relies on, statically, before anything runs.
"""

import ast
from pathlib import Path

from helpers.paths import AGENT_DIR

ENTRY_POINT = "agent.py"
AGENT_FILE = AGENT_DIR / ENTRY_POINT
PYTHON_RUNTIME = "PYTHON_3_11"  # AgentCore Runtime's Python for code deployments


def _calls(tree: ast.Module) -> dict[str, set[str]]:
    """Each function called, and the keyword arguments it was called with anywhere."""
    called: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            called.setdefault(name, set()).update(k.arg for k in node.keywords if k.arg)
    return called


def review(path: Path = AGENT_FILE) -> list[str]:
    """What ``path`` lacks of a deployable quickstart agent, as sentences (empty: nothing)."""
    tree = ast.parse(path.read_text())
    calls = _calls(tree)
    problems = []
    if "requires_access_token" not in calls:
        problems.append("No @requires_access_token: the agent never asks for the user's token.")
    elif "callback_url" not in calls["requires_access_token"]:
        problems.append(
            "No callback_url in @requires_access_token: AWS refuses USER_FEDERATION without "
            "a return URL, and nothing would bind the session to the user who consented."
        )
    if "invoke_async" not in calls:
        problems.append(
            "No invoke_async: a synchronous agent call loses the request's context "
            "(and with it the workload access token) before the tool runs."
        )
    if any(isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict) for n in tree.body):
        problems.append(
            "A module-level dict would be shared between requests: one user could be "
            "shown another user's authorization URL."
        )
    if not (path.parent / "requirements.txt").exists():
        problems.append("No requirements.txt beside the agent: AgentCore cannot install it.")
    return problems
