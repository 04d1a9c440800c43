"""Inside an agent process of the local runtime: serve the deployed app on 127.0.0.1.

AgentCore Runtime runs the entry point and expects it to serve ``/invocations`` and
``/ping`` on port 8080. Locally many agents share one machine, and nothing may listen
beyond loopback, so the entry point is imported (its ``app.run()`` under ``__main__``
does not fire) and its `BedrockAgentCoreApp` served on a free loopback port, announced
on the first line of output.

The local runtime forks most agents from a fork server that has imported this module,
and what agents import, already (`emulator.runtime.process`); `forked` makes such a child
what ``python -m emulator.runtime.launch`` would be.
"""

import gc
import io
import multiprocessing
import os
import runpy
import signal
import socket
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from emulator import lifetime
from emulator.endpoints import HOST


def _leave_with_the_emulator() -> None:
    """If the emulator dies without stopping us (SIGKILL), nobody else will: leave too.

    A child of the fork server cannot wait for a new parent: the fork server lives on while
    any agent does. It waits instead for the emulator's end of the pipe multiprocessing
    keeps between them to close.
    """
    emulator = multiprocessing.parent_process()
    if emulator is None:  # started by Popen: the emulator is our parent
        lifetime.leave_when_orphaned(os.getppid())
        return

    def watch() -> None:
        emulator.join()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="emulator-watch", daemon=True).start()


def _unbuffered(fd: int, errors: str) -> io.TextIOWrapper:
    """A stream as PYTHONUNBUFFERED makes it: what an agent prints before it dies is logged."""
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), errors=errors, write_through=True)


def forked(entry_point: str, workdir: Path, env: dict[str, str], output: Connection) -> None:
    """Serve ``entry_point`` in a child of the fork server. The child starts with the fork
    server's output, environment, directory, arguments and first path entry (the emulator's
    working directory): each becomes what ``python -m`` in ``workdir`` would give."""
    # What the fork server imported stays as long as we do: frozen, the agent's garbage
    # collections do not scan it (nor write to the pages we share with the fork server).
    gc.freeze()
    # Started daemonic, so that the emulator's exit stops rather than awaits us; an agent
    # may start processes of its own all the same.
    multiprocessing.current_process().daemon = False
    for fd in (1, 2):
        os.dup2(output.fileno(), fd)
    output.close()
    sys.stdout, sys.stderr = _unbuffered(1, "strict"), _unbuffered(2, "backslashreplace")
    os.environ.clear()
    os.environ.update(env)
    os.chdir(workdir)
    sys.argv = [__file__, entry_point]
    if not sys.flags.safe_path:
        sys.path[0] = os.getcwd()
    main(entry_point)


def main(entry_point: str) -> None:
    # Here, not at the top: the emulator imports this module to fork agents (`forked`), and
    # serves none itself. The fork server has imported both already (`process.PRELOAD`).
    import uvicorn
    from bedrock_agentcore.runtime import BedrockAgentCoreApp

    _leave_with_the_emulator()
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
