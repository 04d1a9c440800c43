"""Run the workshop headlessly: every notebook in order, with papermill.

``python -m helpers.cli.runner`` (what ``make run`` does) starts a local backend of its own,
gives the run a fresh state folder (so a fresh suffix: nothing collides with an earlier
run), writes the executed notebooks there and prints one line per notebook. It stops at
the first failing step, and then *always* runs the cleanup notebook, so a failed
regression run leaves nothing behind; the exit status is non-zero if anything failed.

``--backend aws`` does the same against the account of the default credential chain.
"""

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import papermill
from papermill.exceptions import PapermillExecutionError

from helpers import settings
from helpers.backend import AWS, LOCAL, api_calls, running_emulator
from helpers.display import Table
from helpers.paths import NOTEBOOKS

CELL_TIMEOUT = 900  # seconds: a regression run must fail, not hang, on a stuck cell
CLEANUP = "13_cleanup.ipynb"


@dataclass
class Result:
    notebook: str
    status: str
    seconds: float
    error: str = ""


def run_notebook(
    notebook: Path, out_dir: Path, backend: str, region: str, cell_timeout: int
) -> Result:
    start = time.monotonic()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out_dir / notebook.name),
            parameters={"BACKEND": backend, "REGION": region, "INTERACTIVE": False},
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


@contextmanager
def _backend(name: str, out_dir: Path, emulator_url: str | None) -> Iterator[str | None]:
    """The environment the notebooks' kernels inherit: where state goes, which backend."""
    os.environ[settings.WORKSHOP_DIR] = str(out_dir)
    if name == AWS:
        yield None
    elif emulator_url:
        os.environ[settings.EMULATOR_URL] = emulator_url
        yield emulator_url
    else:
        with running_emulator(out_dir / "emulator.log") as url:
            os.environ[settings.EMULATOR_URL] = url
            yield url


def run(
    notebooks: list[Path],
    out_dir: Path,
    *,
    backend: str = LOCAL,
    region: str = "us-east-1",
    cell_timeout: int = CELL_TIMEOUT,
    emulator_url: str | None = None,
    cleanup: bool = True,
) -> tuple[list[Result], int | None]:
    """Execute ``notebooks`` in order; stop at a failure; then clean up (unless told not to).

    Returns the results and, on the local backend, how many AWS API calls the run made.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = [n for n in notebooks if n.name != CLEANUP]
    results: list[Result] = []

    def execute(notebook: Path) -> Result:
        print(f"running {notebook.name} …", flush=True)
        results.append(run_notebook(notebook, out_dir, backend, region, cell_timeout))
        return results[-1]

    with _backend(backend, out_dir, emulator_url) as url:
        calls_before = api_calls(url)
        for notebook in steps:
            if execute(notebook).status != "ok":
                break
        if cleanup:
            execute(NOTEBOOKS / CLEANUP)
        calls_after = api_calls(url)
    calls = calls_after - calls_before if None not in (calls_before, calls_after) else None
    return results, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.cli.runner", description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in order")
    parser.add_argument("--out", type=Path, help="folder for executed notebooks and state")
    parser.add_argument("--backend", choices=(LOCAL, AWS), default=LOCAL)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--emulator", help="use this running local backend instead of a new one")
    parser.add_argument(
        "--keep", action="store_true", help=f"do not run {CLEANUP}: leave the resources"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if missing := [str(n) for n in notebooks if not n.is_file()]:
        parser.error(f"no such notebook: {', '.join(missing)}")
    out_dir = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    results, calls = run(
        notebooks,
        out_dir.resolve(),
        backend=args.backend,
        region=args.region,
        cell_timeout=args.cell_timeout,
        emulator_url=args.emulator,
        cleanup=not args.keep,
    )
    print(
        Table(
            [
                {"notebook": r.notebook, "status": r.status, "seconds": f"{r.seconds:.1f}"}
                for r in results
            ]
        )
    )
    print(f"executed notebooks: {out_dir}")
    if calls is not None:
        print(f"AWS API calls made (counted by the local backend): {calls}")
    failed = [r for r in results if r.status != "ok"]
    for result in failed:
        print(f"\n{result.notebook} failed at {result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
