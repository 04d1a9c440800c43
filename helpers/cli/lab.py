"""``make lab``: JupyterLab on the workshop's notebooks, with a local backend beside it.

The backend lives exactly as long as JupyterLab: both stop together on Ctrl-C.
"""

import os
import subprocess
import sys

from helpers import settings
from helpers.backend import running_emulator
from helpers.paths import NOTEBOOKS, emulator_log


def main() -> int:
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
        try:
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
