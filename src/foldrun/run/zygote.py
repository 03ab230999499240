"""A small fork server for the local backend: `python -m foldrun.run.zygote MODULE...`.

It imports the worker (and, when asked, pandas, scikit-learn and the plan's estimator
modules) once, then forks one child per task request, so starting a task costs a fork
(milliseconds) instead of a fresh interpreter importing scikit-learn (seconds). It is
single-threaded, which keeps fork() safe, and every task is still its own process: a
crash or a kill of a task never reaches the runner.

Protocol, one line each way: the runner writes `<id> <json>` on stdin, the json holding the
worker's `argv` and the pickled planned task (base64), so the child needs no re-planning;
the zygote answers `exit <id> <code>` on stdout when that task's process ends (a negative
code is the signal that killed it). On EOF of stdin (the runner is gone) it lets running
tasks finish, so they still commit, and exits.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import sys


def _child(request: dict[str, object], log_path: str) -> None:
    """In the forked child: run the worker and leave with its exit code."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops a task
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        from foldrun.run.worker import main, main_with_task

        blob = request.get("task")
        if blob:
            gpus = [int(g) for g in str(request.get("gpus", "")).split(",") if g]
            code = main_with_task(str(blob), gpus)
        else:
            code = main(list(request["argv"]))  # type: ignore[call-overload]
    except BaseException as err:  # the process must never return into the server loop
        with contextlib.suppress(Exception):
            os.write(2, f"foldrun zygote child: {err!r}\n".encode())
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _spawn(line: str, log_path: str, children: dict[int, str]) -> None:
    ident, _, payload = line.partition(" ")
    request = json.loads(payload)
    pid = os.fork()
    if pid == 0:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(request.get("gpus", ""))
        _child(request, log_path)
    children[pid] = ident


def _reap(children: dict[int, str]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ident = children.pop(pid, None)
        if ident is not None:
            code = os.waitstatus_to_exitcode(status)
            os.write(1, f"exit {ident} {code}\n".encode())


def serve(log_path: str) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "stdin")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    children: dict[int, str] = {}
    buffer, open_input = b"", True
    while open_input or children:
        for key, _ in sel.select(timeout=1.0):
            if key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                open_input = False
                sel.unregister(0)
                continue
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    _spawn(line.decode(), log_path, children)
        _reap(children)


def main() -> None:
    # Ctrl-C reaches the whole process group: the runner stops, the tasks stop, and the
    # server only notices its input closing (no traceback on the terminal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_path, *modules = sys.argv[1:]
    for name in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # what was imported is shared with every child; freezing it keeps the children's
    # garbage collector from touching (and so copying) those pages: ~20 ms -> ~3 ms a fork
    gc.freeze()
    os.write(1, b"ready\n")
    serve(log_path)


if __name__ == "__main__":
    main()
