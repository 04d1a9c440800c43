"""Inside an agent process of the local runtime: serve the deployed app on 127.0.0.1.

AgentCore Runtime runs the entry point and expects it to serve ``/invocations`` and
``/ping`` on port 8080. Locally many agents share one machine, and nothing may listen
beyond loopback, so the entry point is imported (its ``app.run()`` under ``__main__``
does not fire) and its `BedrockAgentCoreApp` served on a free loopback port, announced
on the first line of output.
"""

import os
import runpy
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

import uvicorn
from bedrock_agentcore.runtime import BedrockAgentCoreApp

from emulator.endpoints import HOST


def _stop_when_orphaned(parent: int) -> None:
    """If the emulator dies without stopping us (SIGKILL), nobody else will: leave too."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def main(entry_point: str) -> None:
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    root = Path(entry_point).resolve().parent
    sys.path.insert(0, str(root))
    try:
        module = runpy.run_path(entry_point, run_name="agentcore_entry_point")
    except Exception as error:  # show the learner their code's frames, not ours
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if not frame.filename.startswith("<")
            and Path(frame.filename).resolve().is_relative_to(root)
        ]
        print("Traceback (most recent call last):", flush=True)
        print("".join(traceback.format_list(frames) + traceback.format_exception_only(error)))
        sys.exit(1)
    apps = [value for value in module.values() if isinstance(value, BedrockAgentCoreApp)]
    if not apps:
        sys.exit(f"{entry_point} defines no BedrockAgentCoreApp: nothing to serve.")
    listener = socket.socket()
    listener.bind((HOST, 0))
    print(f"LISTENING {listener.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(apps[0], log_level="warning")).run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1])
