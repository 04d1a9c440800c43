"""Run the workshop headlessly: every notebook in order, with papermill, on the local backend.

``python -m helpers.runner`` (what ``make run`` does) starts a local backend of its own,
gives the run a fresh state folder, writes the executed notebooks there, prints one line
per notebook and stops at the first failure with the failing cell's error.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import papermill
from papermill.exceptions import PapermillExecutionError

from helpers.backend import EMULATOR_URL_VARIABLE, LOCAL, running_emulator
from helpers.display import Table
from helpers.paths import NOTEBOOKS

CELL_TIMEOUT = 900  # seconds: a regression run must fail, not hang, on a stuck cell


@dataclass
class Result:
    notebook: str
    status: str
    seconds: float
    error: str = ""


def run_notebook(notebook: Path, out_dir: Path, region: str, cell_timeout: int) -> Result:
    start = time.monotonic()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out_dir / notebook.name),
            parameters={"BACKEND": LOCAL, "REGION": region, "INTERACTIVE": False},
            cwd=str(notebook.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as error:
        first_line = error.source.strip().splitlines()[0] if error.source.strip() else ""
        message = f"cell [{error.exec_count}] `{first_line}`: {error.ename}: {error.evalue}"
        return Result(notebook.name, "FAILED", time.monotonic() - start, message)
    except Exception as error:  # a dead kernel or a cell timeout: still report, still stop
        message = f"{type(error).__name__}: {error}"
        return Result(notebook.name, "FAILED", time.monotonic() - start, message)
    return Result(notebook.name, "ok", time.monotonic() - start)


def run(
    notebooks: list[Path],
    out_dir: Path,
    region: str = "us-east-1",
    cell_timeout: int = CELL_TIMEOUT,
) -> list[Result]:
    """Execute ``notebooks`` in order against a fresh local backend; stop at a failure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    with running_emulator(out_dir / "emulator.log") as url:
        os.environ[EMULATOR_URL_VARIABLE] = url
        os.environ["WORKSHOP_DIR"] = str(out_dir)
        for notebook in notebooks:
            print(f"running {notebook.name} …", flush=True)
            results.append(run_notebook(notebook, out_dir, region, cell_timeout))
            if results[-1].status != "ok":
                break
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in order")
    parser.add_argument("--out", type=Path, help="folder for executed notebooks and state")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if missing := [str(n) for n in notebooks if not n.is_file()]:
        parser.error(f"no such notebook: {', '.join(missing)}")
    out_dir = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    results = run(notebooks, out_dir.resolve(), args.region, args.cell_timeout)
    print(
        Table(
            [
                {"notebook": r.notebook, "status": r.status, "seconds": f"{r.seconds:.1f}"}
                for r in results
            ]
        )
    )
    print(f"executed notebooks: {out_dir}")
    failed = [r for r in results if r.status != "ok"]
    for result in failed:
        print(f"\n{result.notebook} failed at {result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
