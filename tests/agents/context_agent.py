"""A test agent that reports what AgentCore Runtime handed it, so tests can check it.

Where ``START_PAUSE`` names a file, the agent sleeps the seconds it holds before it
serves: a test writes it once the agent has started, so a restart is a slow cold start.
``{"crash": true}`` makes it exit at once; ``{"crash": "slowly"}``, a second after it
closes its sockets, as a process on its way out.
"""

import gc
import os
import sys
import time
from pathlib import Path

from bedrock_agentcore.runtime import BedrockAgentCoreApp, BedrockAgentCoreContext

if (pause := Path(os.environ.get("START_PAUSE", "/nonexistent"))).exists():
    time.sleep(float(pause.read_text()))

app = BedrockAgentCoreApp()
# Objects its garbage collector skips, counted once: counting walks all of them.
FROZEN = gc.get_freeze_count()


@app.entrypoint
def invoke(payload, context):
    if payload.get("crash") == "slowly":  # as a dying process: sockets closed, then the exit
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        time.sleep(1)
    if payload.get("crash"):
        os._exit(3)
    print(f"context agent invoked: {sorted(payload)}", flush=True)
    answer = {
        "workload_access_token": BedrockAgentCoreContext.get_workload_access_token(),
        "session_id": context.session_id,
        "request_id": BedrockAgentCoreContext.get_request_id(),
        "headers": dict(context.request_headers or {}),
        "pid": os.getpid(),
        "environment": {
            name: os.environ.get(name) for name in ("DOCKER_CONTAINER", "GREETING", "AWS_REGION")
        },
        "process": {
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "argv": sys.argv,
            "path": sys.path,
            "parent": os.getppid(),
            "frozen": FROZEN,
        },
    }
    if payload.get("stream"):
        return (chunk for chunk in ({"part": 1}, {"part": 2}, answer))
    return answer


if __name__ == "__main__":
    app.run()
