"""``python -m benchmarks`` (``make bench``): every figure the README claims, from one run.

Each benchmark runs once, in this process and in turn (the workshop's three runs last,
since they take most of the few minutes). The table is for reading; the JSON, printed
after it and kept in ``runs/bench-<timestamp>.json``, is for comparing runs.
"""

import os
from datetime import datetime
from pathlib import Path

from benchmarks import calls, consent, runtime, workshop
from benchmarks.figures import as_json, table

RUNS = Path("runs")


def main() -> None:
    figures = [*runtime.measure(), *consent.measure(), *calls.measure(), *workshop.measure()]
    now = datetime.now().astimezone()
    text = as_json(figures, now.isoformat(timespec="seconds"), os.cpu_count())
    RUNS.mkdir(exist_ok=True)
    path = RUNS / f"bench-{now:%Y%m%d-%H%M%S}.json"
    path.write_text(text + "\n", encoding="utf-8")
    print(table(figures), text, f"written to {path}", sep="\n\n")


if __name__ == "__main__":
    main()
