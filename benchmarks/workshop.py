"""How long does the whole workshop take headlessly? ``make bench`` (not part of the tests).

Runs what ``make run`` runs (every notebook, then the cleanup, on a local backend of its
own), a few times, and reports the median wall time against the goal, with the median
seconds of each notebook: where the time goes.
"""

import re
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.figures import Figure, table
from helpers.paths import NOTEBOOKS

RUNS = 3
GOAL_SECONDS = 40.0  # issue 11: the whole workshop under 40 s warm, on two cores
QUICKSTART_GOAL_SECONDS = 12.0  # issue 13: the quickstart's steps (00 to 07) and cleanup
QUICKSTART = [str(n) for n in sorted(NOTEBOOKS.glob("0[0-7]_*.ipynb"))]
ROW = re.compile(r"^(\d\d_\w+)\.ipynb\s+(\w+)\s+([\d.]+)$", re.M)


def one_run(*notebooks: str) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "helpers.cli.runner", "--out", out, *notebooks],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"The workshop failed:\n{result.stdout}\n{result.stderr}")
    return seconds, {name: float(taken) for name, _, taken in ROW.findall(result.stdout)}


def measure() -> list[Figure]:
    runs = [one_run() for _ in range(RUNS)]
    total = statistics.median(seconds for seconds, _ in runs)
    notebooks = {name: statistics.median(run[name] for _, run in runs) for name in runs[0][1]}
    quickstart = statistics.median(one_run(*QUICKSTART)[0] for _ in range(RUNS))
    return [
        Figure(f"make run wall time, median of {RUNS}", round(total, 1), "s", GOAL_SECONDS),
        Figure(
            f"quickstart (00-07, cleanup) wall time, median of {RUNS}",
            round(quickstart, 1),
            "s",
            QUICKSTART_GOAL_SECONDS,
        ),
        *(
            Figure(f"{name}, median of {RUNS}", round(seconds, 1), "s")
            for name, seconds in notebooks.items()
        ),
    ]


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
