"""Run the workshop headlessly: every notebook in order, with papermill.

``python -m helpers.cli.runner`` (what ``make run`` does) starts a local backend of its own,
gives the run a fresh state folder (so a fresh suffix: nothing collides with an earlier
run), writes the executed notebooks there and prints one line per notebook. It stops at
the first failing step, and then *always* runs the cleanup notebook, so a failed
regression run leaves nothing behind; the exit status is non-zero if anything failed.

``--backend aws`` does the same against the account of the default credential chain.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the running step and goes on to the cleanup, as a
failure does; a second one aborts the cleanup and names what is left and how to finish.
One run at a time may use a workshop folder: a second is refused, not let in to corrupt it.

While one notebook runs, the next one's kernel starts and imports what that notebook
imports: a kernel takes about a second to come up, and most steps take a few.
"""

import argparse
import ast
import contextlib
import fcntl
import gc
import importlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from emulator.endpoints import HOST
from helpers import settings, state
from helpers.backend import AWS, LOCAL, api_calls, free_port, running_emulator
from helpers.display import Table
from helpers.errors import WorkshopError
from helpers.paths import NOTEBOOKS, state_dir, state_file
from helpers.resources import KINDS
from helpers.state import Kind

CELL_TIMEOUT = 900  # seconds: a regression run must fail, not hang, on a stuck cell
CLEANUP = "13_cleanup.ipynb"
FIRST_DEPLOY = "06_launch.ipynb"  # the first step that deploys an agent
KERNEL = "python3"
# IPython's kernel, less the debugger nobody attaches to a headless run (importing debugpy
# is a tenth of a second of each kernel's start) and its input history (a database each
# kernel opens and writes). It starts with the garbage collector off: what it imports then
# (and warming up, below) lives as long as the kernel, and is frozen once imported, so
# that no collection scans it again (an eighth of each kernel's CPU).
HEADLESS_KERNEL = (
    "import gc; gc.disable(); import sys; sys.modules['debugpy'] = None; "
    "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()"
)
# After the warm-up's imports, failed or not: the collector on again, for the notebook.
COLLECTOR_ON = "import gc as _gc; _gc.freeze(); _gc.enable(); del _gc"
RUNS = Path("runs")
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Result:
    notebook: str
    status: str
    seconds: float
    error: str = ""


class StepStopped(Exception):
    """Raised before a step's next cell once a run is asked to stop."""


class Stop:
    """What Ctrl-C (SIGINT), SIGTERM and SIGHUP do to a run.

    A regression run promises to clean up, and a terminal's Ctrl-C, a closed terminal
    (SIGHUP) or `timeout` (SIGTERM) must not break that promise: the first signal stops the
    running step (its kernel is interrupted, as JupyterLab's stop button does) and the run
    goes on to the cleanup. Someone who signals again wants out now: that aborts the
    cleanup too, and later signals wait for the teardown (kernels, backend) to finish.
    """

    def __init__(self) -> None:
        self.by: str | None = None  # the first signal's name
        self.kernel: AsyncKernelManager | None = None  # the kernel running a step
        self.cleaning = False
        self.aborted = False

    def __call__(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.aborted:
            return
        if self.by:
            self.aborted = True
            raise KeyboardInterrupt
        self.by = name
        if self.cleaning:
            _say(f"{name}: the cleanup goes on ({name} again aborts it).")
            return
        _say(f"{name}: stopping this step, then cleaning up ({name} again aborts the cleanup).")
        if self.kernel is not None and self.kernel.has_kernel:
            signal_kernel(self.kernel, signal.SIGINT)

    def before_cell(self, cell: object, cell_index: int) -> None:
        """nbclient's hook: a signal between two cells, when the kernel is idle and ignores
        an interrupt, still stops the step before its next cell (but never the cleanup)."""
        if self.by and not self.cleaning:
            raise StepStopped(f"before cell {cell_index}: stopped by {self.by}")

    @contextmanager
    def handling(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread receives signals
            return
        previous = {number: signal.signal(number, self) for number in STOPPING_SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _say(text: str) -> None:
    print(f"\n{text}", file=sys.stderr, flush=True)


def imported_by(notebook: Path) -> list[str]:
    """The modules ``notebook``'s cells import (``from helpers import x`` is ``helpers.x``)."""
    modules: set[str] = set()
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:  # IPython syntax (a magic): not ours to warm up
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module == "helpers":
                modules.update(f"helpers.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
    return sorted(modules)


def start_kernel(notebook: Path) -> AsyncKernelManager:
    """A kernel for ``notebook``, starting in the background (the caller shuts it down).

    While it waits for its turn it imports what the notebook imports, and only that (each
    import costs every kernel CPU time), binding no names: a notebook must not find what it
    did not import. Asynchronous, as the kernel managers papermill's client makes for itself.
    """
    modules = imported_by(notebook)
    warm = f"import importlib as _warm; [_warm.import_module(m) for m in {modules}]; del _warm"
    kernel = AsyncKernelManager(kernel_name=KERNEL)
    kernel.kernel_spec.argv = [sys.executable, "-c", HEADLESS_KERNEL, "-f", "{connection_file}"]
    run_sync(kernel.start_kernel)(
        cwd=str(notebook.parent),
        extra_arguments=[
            f"--IPKernelApp.exec_lines={warm}",
            f"--IPKernelApp.exec_lines={COLLECTOR_ON}",
            "--HistoryManager.enabled=False",
        ],
    )
    return kernel


def signal_kernel(kernel: AsyncKernelManager, number: int) -> None:
    """``number`` to a kernel's process group, if it has one still: SIGINT interrupts it (as
    JupyterLab's stop button does); SIGKILL ends it at once (``shutdown_kernel(now=True)``
    does too, but then polls the kernel every 0.1 s until it is gone)."""
    with contextlib.suppress(ProcessLookupError, AttributeError, TypeError):
        os.killpg(os.getpgid(kernel.provisioner.pid), number)


def stop_kernel(kernel: AsyncKernelManager, aborted: bool = False) -> None:
    """Kill a kernel and shut it down (close its channels, remove its connection file);
    after an abort, only kill it: the event loop the abort broke out of may be left
    mid-task, and an asynchronous shutdown on it can wait forever."""
    signal_kernel(kernel, signal.SIGKILL)
    if not aborted:
        run_sync(kernel.shutdown_kernel)(now=True)


def run_notebook(
    notebook: Path,
    out_dir: Path,
    backend: str,
    region: str,
    cell_timeout: int,
    kernel: AsyncKernelManager | None = None,
    stop: Stop | None = None,
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
            **({"on_cell_start": stop.before_cell} if stop else {}),
        )
    except StepStopped as stopped:
        return Result(notebook.name, "STOPPED", time.monotonic() - start, str(stopped))
    except PapermillExecutionError as error:
        first_line = error.source.strip().splitlines()[0] if error.source.strip() else ""
        status, failure = "FAILED", f"{error.ename}: {error.evalue}"
        if error.ename == "KeyboardInterrupt" and stop and stop.by:
            status, failure = "STOPPED", f"stopped by {stop.by}"
        elif error.ename == "KeyboardInterrupt":  # nobody presses Ctrl-C in a headless kernel
            failure = f"Timeout: the cell ran longer than {cell_timeout} s and was interrupted"
        message = f"cell [{error.exec_count}] `{first_line}`: {failure}"
        return Result(notebook.name, status, time.monotonic() - start, message)
    except Exception as error:  # a dead kernel or a cell timeout: still report, still stop
        message = f"{type(error).__name__}: {error}"
        return Result(notebook.name, "FAILED", time.monotonic() - start, message)
    return Result(notebook.name, "ok", time.monotonic() - start)


@contextmanager
def _backend(
    name: str, out_dir: Path, emulator_url: str | None, then: Callable[[], object], deploys: bool
) -> Iterator[str | None]:
    """The environment the notebooks' kernels inherit: where state goes, which backend.

    ``then`` runs as soon as that environment is set: the first kernel starts while a
    local backend of the run's own is still starting (its port chosen beforehand). A run
    that ``deploys`` has the backend import what agents need while the first steps run.
    """
    os.environ[settings.WORKSHOP_DIR] = str(out_dir)
    if name == AWS:
        then()
        yield None
    elif emulator_url:
        os.environ[settings.EMULATOR_URL] = emulator_url
        then()
        yield emulator_url
    else:
        port = free_port()
        os.environ[settings.EMULATOR_URL] = f"http://{HOST}:{port}"
        then()
        with running_emulator(out_dir / "emulator.log", port, preload=deploys) as url:
            yield url


@contextmanager
def only_run(out_dir: Path) -> Iterator[None]:
    """Hold the workshop folder's lock: two runs writing one ledger would corrupt it.

    An advisory `flock`, so a run that dies (even by SIGKILL) releases it with its process.
    """
    lock = state_dir(out_dir) / "run.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(lock, os.O_RDWR | os.O_CREAT, 0o600), "r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "another process"
            raise WorkshopError(
                f"Another run ({holder}) is using the workshop folder {out_dir}: wait for it "
                "to finish, or give this run a folder of its own (--out)."
            ) from None
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # kept if the run left state in it
                lock.parent.rmdir()


def new_run_folder(root: Path = RUNS) -> Path:
    """``runs/<date>-<time>``, or with ``-2``, ``-3`` … when a run started in the same second.

    Made atomically, so two runs started together never share one (and private: it holds
    the run's state and credentials).
    """
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for number in itertools.count(1):
        folder = root / (stamp if number == 1 else f"{stamp}-{number}")
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            return folder


def left_behind(out_dir: Path) -> list[str]:
    """What the workshop's ledger in ``out_dir`` still names, newest first."""
    path = state_file(out_dir)
    if not path.exists():
        return []
    try:
        ledger = state.read(path)["ledger"]
    except state.DamagedStateError:
        return [f"whatever the damaged {path} recorded (13_cleanup finds it by its suffix)"]
    return [KINDS[Kind(e["kind"])].describe(e) for e in reversed(list(ledger.values()))]


def _abort_message(out_dir: Path, backend: str, region: str, emulator_url: str | None) -> str:
    leftovers = left_behind(out_dir)
    if backend == LOCAL and not emulator_url:
        where = "The run's local backend stops now, and everything it held with it."
        leftovers = []
    else:
        where = "Left behind:" if leftovers else "Nothing was recorded as created."
    target = ["--backend", AWS, "--region", region] if backend == AWS else []
    if emulator_url:
        target = ["--emulator", emulator_url]
    command = ["python -m helpers.cli.runner", *target, "--out", str(out_dir)]
    lines = [f"Cleanup aborted. {where}", *(f"  - {item}" for item in leftovers)]
    lines.append(
        "To finish the cleanup (and remove the state and credential files): "
        + " ".join([*command, str(NOTEBOOKS / CLEANUP)])
    )
    return "\n".join(lines)


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
    """Execute ``notebooks`` in order; stop at a failure or a signal; then clean up (unless
    told not to). Returns the results and, on the local backend, how many AWS API calls
    the run made.
    """
    # papermill takes half a second to import (nbformat's JSON schemas): meanwhile the local
    # backend starts, in a process of its own.
    threading.Thread(target=importlib.import_module, args=("papermill",), daemon=True).start()
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = [n for n in notebooks if n.name != CLEANUP]
    if cleanup:
        steps.append(NOTEBOOKS / CLEANUP)
    results: list[Result] = []
    kernels: dict[Path, AsyncKernelManager] = {}
    finished: list[AsyncKernelManager] = []  # killed; gone by the time they are shut down
    stop = Stop()

    def execute(index: int) -> Result:
        notebook = steps[index]
        # What the table says if a second signal aborts the run before this step ends.
        results.append(Result(notebook.name, "ABORTED", 0.0, "a second signal aborted the run"))
        print(f"running {notebook.name} …", flush=True)
        kernel = kernels.pop(notebook, None) or start_kernel(notebook)
        if index + 1 < len(steps) and steps[index + 1] not in kernels:
            kernels[steps[index + 1]] = start_kernel(steps[index + 1])
        while finished:
            stop_kernel(finished.pop(), aborted=stop.aborted)
        stop.kernel = kernel
        try:
            results[-1] = run_notebook(
                notebook, out_dir, backend, region, cell_timeout, kernel, stop
            )
        finally:
            stop.kernel = None
            signal_kernel(kernel, signal.SIGKILL)
            finished.append(kernel)
        return results[-1]

    deploys = any(CLEANUP != step.name >= FIRST_DEPLOY for step in steps)

    def start_first_kernel() -> None:
        kernels[steps[0]] = start_kernel(steps[0])

    try:
        with (
            only_run(out_dir),
            stop.handling(),
            _backend(backend, out_dir, emulator_url, start_first_kernel, deploys) as url,
        ):
            calls_before = api_calls(url)
            try:
                for index, notebook in enumerate(steps):
                    if notebook.name == CLEANUP:
                        continue
                    if stop.by:
                        results.append(Result(notebook.name, "STOPPED", 0.0, f"not run: {stop.by}"))
                        break
                    if execute(index).status != "ok":
                        break
                if cleanup:
                    stop.cleaning = True
                    execute(len(steps) - 1)
            except KeyboardInterrupt:
                _say(_abort_message(out_dir, backend, region, emulator_url))
            calls_after = api_calls(url)
    finally:  # even if the backend did not start: the first kernel may have
        aborted, stop.aborted = stop.aborted, True  # now a signal waits for the teardown
        for spare in [*finished, *kernels.values()]:
            stop_kernel(spare, aborted=aborted)
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
    if args.keep and CLEANUP in {n.name for n in args.notebooks}:
        parser.error(f"--keep skips {CLEANUP}, which you named: leave out one of the two")
    out_dir = args.out or new_run_folder()
    try:
        results, calls = run(
            notebooks,
            out_dir.resolve(),
            backend=args.backend,
            region=args.region,
            cell_timeout=args.cell_timeout,
            emulator_url=args.emulator,
            cleanup=not args.keep,
        )
    except WorkshopError as error:
        print(error, file=sys.stderr)
        return 2
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
        print(f"\n{result.notebook} {result.status.lower()}: {result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    status = main()
    gc.freeze()  # done: no garbage collection of everything on the way out
    sys.exit(status)
