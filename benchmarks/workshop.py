"""How long does the whole workshop take headlessly? ``make bench`` (not part of the tests).

Runs what ``make run`` runs (every notebook, then the cleanup, on a local backend of its
own), a few times, and reports the median wall time against the goal, with the median
seconds of each notebook: where the time goes.
"""

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 3
GOAL_SECONDS = 40.0  # issue 11: the whole workshop under 40 s warm, on two cores
ROW = re.compile(r"^(\d\d_\w+)\.ipynb\s+(\w+)\s+([\d.]+)$", re.M)


def one_run() -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "helpers.cli.runner", "--out", out],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"The workshop failed:\n{result.stdout}\n{result.stderr}")
    return seconds, {name: float(taken) for name, _, taken in ROW.findall(result.stdout)}


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    total = statistics.median(seconds for seconds, _ in runs)
    notebooks = {
        name: round(statistics.median(run[name] for _, run in runs), 1) for name in runs[0][1]
    }
    print(
        json.dumps(
            {
                "workshop_wall_s": {"median": round(total, 1), "runs": RUNS},
                "goal_s": GOAL_SECONDS,
                "goal_met": total < GOAL_SECONDS,
                "notebook_s": notebooks,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
