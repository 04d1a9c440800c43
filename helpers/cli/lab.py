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
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--ip",
            "127.0.0.1",
            f"--notebook-dir={NOTEBOOKS}",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # containers often run as root
            *sys.argv[1:],
        ]
        try:
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
