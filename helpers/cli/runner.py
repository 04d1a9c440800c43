"""Run the workshop headlessly: every notebook in order, with papermill.

``python -m helpers.cli.runner`` (what ``make run`` does) starts a local backend of its own,
gives the run a fresh state folder (so a fresh suffix: nothing collides with an earlier
run), writes the executed notebooks there and prints one line per notebook. It stops at
the first failing step, and then *always* runs the cleanup notebook, so a failed
regression run leaves nothing behind; the exit status is non-zero if anything failed.

``--backend aws`` does the same against the account of the default credential chain.

While one notebook runs, the next one's kernel starts and imports the helpers: a kernel
takes about a second to come up, and most steps take a few.
"""

import argparse
import importlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from helpers import settings
from helpers.backend import AWS, LOCAL, api_calls, running_emulator
from helpers.display import Table
from helpers.paths import NOTEBOOKS

CELL_TIMEOUT = 900  # seconds: a regression run must fail, not hang, on a stuck cell
CLEANUP = "13_cleanup.ipynb"
KERNEL = "python3"
# What every notebook's first cell imports, imported while the kernel waits for its turn
# (and the names deleted again: a notebook must not find what it did not import).
WARM_IMPORTS = (
    "import boto3, helpers.workshop, helpers.second_provider, helpers.troubleshooting, "
    "helpers.machine_runtime, helpers.two_users, helpers.cleanup; del boto3, helpers"
)


@dataclass
class Result:
    notebook: str
    status: str
    seconds: float
    error: str = ""


def start_kernel(notebook: Path) -> AsyncKernelManager:
    """A kernel for ``notebook``, starting in the background (the caller shuts it down).

    Asynchronous, as the kernel managers papermill's client makes for itself.
    """
    kernel = AsyncKernelManager(kernel_name=KERNEL)
    run_sync(kernel.start_kernel)(
        cwd=str(notebook.parent), extra_arguments=[f"--IPKernelApp.exec_lines={WARM_IMPORTS}"]
    )
    return kernel


def stop_kernel(kernel: AsyncKernelManager) -> None:
    run_sync(kernel.shutdown_kernel)(now=True)


def run_notebook(
    notebook: Path,
    out_dir: Path,
    backend: str,
    region: str,
    cell_timeout: int,
    kernel: AsyncKernelManager | None = None,
) -> Result:
    import papermill  # here, not at the top: see `run`
    from papermill.exceptions import PapermillExecutionError

    start = time.monotonic()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out_dir / notebook.name),
            parameters={"BACKEND": backend, "REGION": region, "INTERACTIVE": False},
            cwd=str(notebook.parent),
            kernel_name=KERNEL,
            km=kernel,
            progress_bar=False,
            execution_timeout=cell_timeout,
            # A cell that runs too long is interrupted: it fails like any other, and the
            # notebook is written with its traceback. Written once, not after every cell
            # (each write validates the whole notebook: seconds over a run).
            interrupt_on_timeout=True,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as error:
        first_line = error.source.strip().splitlines()[0] if error.source.strip() else ""
        failure = f"{error.ename}: {error.evalue}"
        if error.ename == "KeyboardInterrupt":  # nobody presses Ctrl-C in a headless kernel
            failure = f"Timeout: the cell ran longer than {cell_timeout} s and was interrupted"
        message = f"cell [{error.exec_count}] `{first_line}`: {failure}"
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
    # papermill takes a second and more to import (nbformat's JSON schemas): meanwhile the
    # local backend starts, in a process of its own.
    threading.Thread(target=importlib.import_module, args=("papermill",), daemon=True).start()
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = [n for n in notebooks if n.name != CLEANUP]
    if cleanup:
        steps.append(NOTEBOOKS / CLEANUP)
    results: list[Result] = []
    kernels: dict[Path, AsyncKernelManager] = {}

    def execute(index: int) -> Result:
        notebook = steps[index]
        print(f"running {notebook.name} …", flush=True)
        kernel = kernels.pop(notebook, None) or start_kernel(notebook)
        if index + 1 < len(steps) and steps[index + 1] not in kernels:
            kernels[steps[index + 1]] = start_kernel(steps[index + 1])
        try:
            results.append(run_notebook(notebook, out_dir, backend, region, cell_timeout, kernel))
        finally:
            stop_kernel(kernel)
        return results[-1]

    with _backend(backend, out_dir, emulator_url) as url:
        calls_before = api_calls(url)
        try:
            for index, notebook in enumerate(steps):
                if notebook.name == CLEANUP:
                    continue
                if execute(index).status != "ok":
                    break
            if cleanup:
                execute(len(steps) - 1)
        finally:
            for spare in kernels.values():
                stop_kernel(spare)
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
