"""A small fork server for the local backend: `python -m foldrun.run.zygote MODULE...`.

It imports the worker (and, when asked, pandas, scikit-learn and the plan's estimator
modules) once, then starts tasks without a fresh interpreter. It is single-threaded, which
keeps fork() safe, and no task runs inside it: a crash or a kill of a task never reaches
the runner.

Two ways to run a task:
- in-process tasks (estimators, entry points, evaluate) get a child forked for that task
  alone, so the user's code never shares a process with another task;
- command tasks (`"reuse": true`) go to a *slot*: a child forked once that runs command
  tasks one after another (each command still its own `bash` process, and each task still
  its own worker call: lock, temp folder, commit). Fork, exit and page-table copies are paid
  once per slot instead of once per task: ~6 ms of CPU a task on a 2-core machine.

Protocol, one line each way: the runner writes `<id> <json>` on stdin, the json holding the
worker's `argv` and the pickled planned task (base64), so the child needs no re-planning;
the zygote answers `exit <id> <code>` on stdout when that task ends (a negative code is the
signal that killed its process). On EOF of stdin (the runner is gone) it lets running tasks
finish, so they still commit, closes the slots' input so they leave, and exits.
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
from dataclasses import dataclass, field


@dataclass
class _Slot:
    pid: int
    requests: int  # write end: one request line per task
    replies: int  # read end: one exit-code line per task
    ident: str | None = None  # the task running now


@dataclass
class _Server:
    log_path: str
    sel: selectors.BaseSelector
    children: dict[int, str] = field(default_factory=dict)  # one-task children
    slots: dict[int, _Slot] = field(default_factory=dict)

    def own_fds(self) -> list[int]:
        return [fd for s in self.slots.values() for fd in (s.requests, s.replies)]


def _emit(text: str) -> None:
    # the runner may be gone (killed): its tasks still commit, nobody hears of it
    with contextlib.suppress(OSError):
        os.write(1, text.encode())


def _child_setup(log_path: str, inherited: list[int]) -> None:
    """In a forked child: default signals, stdin from /dev/null, stdout/stderr to the log,
    and none of the server's pipes (a slot must see EOF when the server closes its input)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops a task
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def _run_request(request: dict[str, object]) -> int:
    from foldrun.run.worker import main, main_with_task

    gpus = str(request.get("gpus", ""))
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    blob = request.get("task")
    if blob:
        return main_with_task(str(blob), [int(g) for g in gpus.split(",") if g])
    return main(list(request["argv"]))  # type: ignore[call-overload]


def _flush() -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()


def _child(request: dict[str, object], server: _Server) -> None:
    """In a child forked for one task: run the worker and leave with its exit code."""
    code = 1
    try:
        _child_setup(server.log_path, server.own_fds())
        code = _run_request(request)
    except BaseException as err:  # the process must never return into the server loop
        with contextlib.suppress(Exception):
            os.write(2, f"foldrun zygote child: {err!r}\n".encode())
    finally:
        _flush()
        os._exit(code)


def _slot_loop(requests: int, replies: int, server: _Server) -> None:
    """In a slot: run one task per request line, answer its exit code, until EOF."""
    code = 0
    try:
        _child_setup(server.log_path, server.own_fds())
        with os.fdopen(requests, "rb") as lines:
            for line in lines:
                code = _run_request(json.loads(line))
                _flush()
                os.write(replies, f"{code}\n".encode())
    except BaseException as err:  # Ctrl-C, or the server is gone: leave, never return
        code = code or 1
        with contextlib.suppress(Exception):
            os.write(2, f"foldrun zygote slot: {err!r}\n".encode())
    finally:
        _flush()
        os._exit(code)


def _new_slot(server: _Server) -> _Slot:
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(req_w)
        os.close(rep_r)
        _slot_loop(req_r, rep_w, server)
    os.close(req_r)
    os.close(rep_w)
    slot = _Slot(pid, req_w, rep_r)
    server.slots[pid] = slot
    server.sel.register(rep_r, selectors.EVENT_READ, slot)
    return slot


def _spawn(line: str, server: _Server) -> None:
    ident, _, payload = line.partition(" ")
    request = json.loads(payload)
    if request.get("reuse"):
        idle = [s for s in server.slots.values() if s.ident is None]
        slot = idle[0] if idle else _new_slot(server)
        slot.ident = ident
        # tiny, fits the pipe buffer; a slot that just died is reported when it is reaped
        with contextlib.suppress(OSError):
            os.write(slot.requests, payload.encode() + b"\n")
        return
    pid = os.fork()
    if pid == 0:
        _child(request, server)
    server.children[pid] = ident


def _slot_replied(slot: _Slot, server: _Server) -> None:
    data = os.read(slot.replies, 4096)
    if not data:  # the slot ended; reaping it reports a task it left unfinished
        server.sel.unregister(slot.replies)
        return
    for text in data.split():
        if slot.ident is not None:
            _emit(f"exit {slot.ident} {int(text)}\n")
            slot.ident = None


def _slot_ended(slot: _Slot, status: int, server: _Server) -> None:
    """A slot process ended: its task, if it had one and never replied, failed."""
    with contextlib.suppress(KeyError):  # unregistered already when its EOF was read
        server.sel.unregister(slot.replies)
    # a reply written just before it died is still in the pipe: it wins
    with contextlib.suppress(OSError):
        while slot.ident is not None and (data := os.read(slot.replies, 4096)):
            for text in data.split():
                _emit(f"exit {slot.ident} {int(text)}\n")
                slot.ident = None
    if slot.ident is not None:
        code = os.waitstatus_to_exitcode(status)
        _emit(f"exit {slot.ident} {code or 1}\n")
    for fd in (slot.requests, slot.replies):
        with contextlib.suppress(OSError):
            os.close(fd)
    del server.slots[slot.pid]


def _reap(server: _Server) -> None:
    while server.children or server.slots:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in server.slots:
            _slot_ended(server.slots[pid], status, server)
            continue
        ident = server.children.pop(pid, None)
        if ident is not None:
            _emit(f"exit {ident} {os.waitstatus_to_exitcode(status)}\n")


def _close_slots(server: _Server) -> None:
    """No more requests: every slot leaves after its current task."""
    for slot in server.slots.values():
        with contextlib.suppress(OSError):
            os.close(slot.requests)
        slot.requests = -1


def serve(log_path: str) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    server = _Server(log_path, selectors.DefaultSelector())
    server.sel.register(0, selectors.EVENT_READ, "stdin")
    server.sel.register(wake_r, selectors.EVENT_READ, "child")
    buffer, open_input = b"", True
    while open_input or server.children or server.slots:
        for key, _ in server.sel.select(timeout=1.0):
            if isinstance(key.data, _Slot):
                _slot_replied(key.data, server)
            elif key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            elif not (chunk := os.read(0, 65536)):
                open_input = False
                server.sel.unregister(0)
                _close_slots(server)
            else:
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        _spawn(line.decode(), server)
        _reap(server)


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
