"""``make lab``: JupyterLab on the workshop's notebooks, with a local backend beside it.

The backend lives exactly as long as JupyterLab. Ctrl-C, SIGTERM (`timeout`, a container
stop) and SIGHUP (a closed terminal) stop both: JupyterLab first, so its kernels save
nothing half-done against a backend that is gone, then the backend. JupyterLab runs in a
session of its own, so that a terminal's signal reaches only us and it gets just the
SIGTERM that shuts it down cleanly: after a Ctrl-C of its own it asks for confirmation,
and a SIGTERM then kills it with its kernels' and server's files left behind.
"""

import os
import signal
import subprocess
import sys

from helpers import settings
from helpers.backend import running_emulator, stop_process
from helpers.paths import NOTEBOOKS, emulator_log

STOP_WAIT = 30  # seconds JupyterLab gets to shut its kernels down


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _interrupt)
    with running_emulator(emulator_log()) as url:
        print(f"Local backend: {url}", flush=True)
        env = {**os.environ, settings.EMULATOR_URL: url}
        given = sys.argv[1:]
        chosen = any(a.startswith(("--notebook-dir", "--ServerApp.root_dir")) for a in given)
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--ip",
            "127.0.0.1",
            *([] if chosen else [f"--notebook-dir={NOTEBOOKS}"]),
            *(["--allow-root"] if os.geteuid() == 0 else []),  # containers often run as root
            *given,
        ]
        lab = subprocess.Popen(command, env=env, start_new_session=True)
        try:
            return lab.wait()
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the shutdown is under way
            stop_process(lab, STOP_WAIT)  # JupyterLab shuts down on SIGTERM without asking
            return 0


if __name__ == "__main__":
    sys.exit(main())
