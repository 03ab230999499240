"""A small fork server for the local backend:
`python -m foldrun.run.backends.local.zygote MODULE...`.

It imports the worker (and, when asked, pandas, scikit-learn and the plan's estimator
modules) once, then starts tasks without a fresh interpreter. It is single-threaded, which
keeps fork() safe, and no task runs inside it: a crash or a kill of a task never reaches
the runner.

Two ways to run a task:
- in-process tasks of the user's code (estimators, entry points) get a child forked for
  that task alone, so the user's model code never shares a process with another task;
- command tasks and foldrun's own evaluate (`"reuse": true`) go to a *slot*: a child
  forked once that runs tasks one after another (each command still its own `bash`
  process, each evaluate scored in the slot, which has pandas and scikit-learn loaded
  already, and each task still its own worker call: lock, task folder, commit). Fork, exit,
  page-table copies and copy-on-write faults are paid once per slot instead of once per
  task: ~6 ms of CPU a command task, more for an evaluate (a 195 MB process) on a 2-core
  machine.

Protocol, one line each way, on two pipes of its own (`REQUESTS` and `REPLIES`, file
descriptors the runner passes): the runner writes `<id> <json>`, the json holding the
worker's `argv` and the pickled planned task (base64), so the child needs no re-planning,
its `key`, and for foldrun's evaluate `after`: the task whose predictions it scores (an
idle slot that ran that task takes it: it holds them as it read them back);
the zygote answers `exit <id> <code> <pid>` when that task ends (a negative code is the
signal that killed its process; pid is the worker's, which names its temp folder). Its
stdout and stderr are never the protocol: user code that prints when imported goes to
/dev/null, and each task's output to its own log. On a `stop` line (the runner was
interrupted) it stops every task: each runs in a process group of its own, which gets
SIGTERM, then SIGKILL after a grace time. EOF of the requests while a task runs means the
runner died without a word (kill -9: the kernel closed its end): the tasks are stopped the
same way and the server exits, so nothing of a killed run runs on (the next run resumes
them: their folders hold no DONE). EOF with no task running is the runner's normal close.
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
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from foldrun.run import worker

STOP_GRACE_S = 2.0  # a stopped task's time to leave after SIGTERM, before SIGKILL


@dataclass
class _Slot:
    pid: int
    requests: int  # write end: one request line per task
    replies: int  # read end: one exit-code line per task
    ident: str | None = None  # the task running now
    last: str | None = None  # the key of the task it ran last


@dataclass
class _Server:
    log_path: str
    sel: selectors.BaseSelector
    requests: int  # the runner's request pipe (read end)
    replies: int  # the runner's reply pipe (write end)
    children: dict[int, str] = field(default_factory=dict)  # one-task children
    slots: dict[int, _Slot] = field(default_factory=dict)

    def own_fds(self) -> list[int]:
        slots = [fd for s in self.slots.values() for fd in (s.requests, s.replies)]
        return [self.requests, self.replies, *slots]

    def emit(self, text: str) -> None:
        # the runner may be gone (killed): its tasks still commit, nobody hears of it
        with contextlib.suppress(OSError):
            os.write(self.replies, text.encode())


def _child_setup(log_path: str, inherited: list[int]) -> None:
    """In a forked child: default signals, stdin from /dev/null, stdout/stderr to the log,
    and none of the server's pipes (a slot must see EOF when the server closes its input)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # a group of its own: the runner stops a task with its children (the user's commands)
    # by one killpg, and a signal meant for the runner alone never reaches the task
    os.setpgid(0, 0)
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
    gpus = str(request.get("gpus", ""))
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    blob = request.get("task")
    if blob:
        return worker.main_with_task(str(blob), [int(g) for g in gpus.split(",") if g])
    return worker.main(list(request["argv"]))  # type: ignore[call-overload]


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
        base = worker.rss_mb()  # the slot's own memory: what earlier tasks add is not theirs
        with os.fdopen(requests, "rb") as lines:
            for line in lines:
                worker.reset_peak(base)
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
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
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
        # `after`: the slot that ran that task holds its outputs as it read them back
        near = [s for s in idle if s.last is not None and s.last == request.get("after")]
        slot = (near or idle)[0] if idle else _new_slot(server)
        slot.ident, slot.last = ident, request.get("key")
        # tiny, fits the pipe buffer; a slot that just died is reported when it is reaped
        with contextlib.suppress(OSError):
            os.write(slot.requests, payload.encode() + b"\n")
        return
    pid = os.fork()
    if pid == 0:
        _child(request, server)
    with contextlib.suppress(OSError):  # also here: a stop right after the fork finds it
        os.setpgid(pid, pid)
    server.children[pid] = ident


def _slot_replied(slot: _Slot, server: _Server) -> None:
    data = os.read(slot.replies, 4096)
    if not data:  # the slot ended; reaping it reports a task it left unfinished
        server.sel.unregister(slot.replies)
        return
    for text in data.split():
        if slot.ident is not None:
            server.emit(f"exit {slot.ident} {int(text)} {slot.pid}\n")
            slot.ident = None


def _slot_ended(slot: _Slot, status: int, server: _Server) -> None:
    """A slot process ended: its task, if it had one and never replied, failed."""
    with contextlib.suppress(KeyError):  # unregistered already when its EOF was read
        server.sel.unregister(slot.replies)
    # a reply written just before it died is still in the pipe: it wins
    with contextlib.suppress(OSError):
        while slot.ident is not None and (data := os.read(slot.replies, 4096)):
            for text in data.split():
                server.emit(f"exit {slot.ident} {int(text)} {slot.pid}\n")
                slot.ident = None
    if slot.ident is not None:
        code = os.waitstatus_to_exitcode(status)
        server.emit(f"exit {slot.ident} {code or 1} {slot.pid}\n")
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
            server.emit(f"exit {ident} {os.waitstatus_to_exitcode(status)} {pid}\n")


def _close_slots(server: _Server) -> None:
    """No more requests: every slot leaves after its current task."""
    for slot in server.slots.values():
        with contextlib.suppress(OSError):
            os.close(slot.requests)
        slot.requests = -1


def _running(server: _Server) -> bool:
    """Whether a task runs now (a one-task child, or a slot with a task)."""
    return bool(server.children) or any(s.ident is not None for s in server.slots.values())


def _stop_all(server: _Server) -> None:
    """The runner was interrupted: SIGTERM to every task's process group, SIGKILL to those
    still there after the grace time; each ending is reported as usual."""
    groups = [*server.children, *server.slots]
    for pid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while (server.children or server.slots) and time.monotonic() < deadline:
        _reap(server)
        time.sleep(0.02)
    for pid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    while server.children or server.slots:
        _reap(server)
        time.sleep(0.01)


def serve(log_path: str, requests: int, replies: int) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    server = _Server(log_path, selectors.DefaultSelector(), requests, replies)
    server.sel.register(requests, selectors.EVENT_READ, "requests")
    server.sel.register(wake_r, selectors.EVENT_READ, "child")
    buffer, open_input = b"", True
    while open_input or server.children or server.slots:
        for key, _ in server.sel.select(timeout=1.0):
            if isinstance(key.data, _Slot):
                _slot_replied(key.data, server)
            elif key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            elif not (chunk := os.read(requests, 65536)):
                if _running(server):  # the runner is gone (killed): so are its tasks
                    _stop_all(server)
                    return
                open_input = False
                server.sel.unregister(requests)
                _close_slots(server)
            else:
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip() == b"stop":
                        _stop_all(server)
                        return
                    if line.strip():
                        with contextlib.suppress(ValueError):  # a line cut short: no task
                            _spawn(line.decode(), server)
        _reap(server)


@contextlib.contextmanager
def _quiet(log_path: str) -> Iterator[None]:
    """stdout/stderr to /dev/null while the plan's modules import (a module that prints
    when imported must not reach foldrun), then stderr to the worker log for the server's
    own errors."""
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 2)
        os.close(log)


def _preload(name: str) -> None:
    """Import a module for every child to share; one that fails (or calls sys.exit) when
    imported is left out: the task that needs it imports it again and reports the error."""
    with contextlib.suppress(Exception, SystemExit):
        importlib.import_module(name)


def main() -> None:
    # Ctrl-C reaches the whole process group: the runner stops the tasks (`stop`), and
    # the server only notices its input closing (no traceback on the terminal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_path, requests, replies, *modules = sys.argv[1:]
    with _quiet(log_path):
        for name in modules:
            _preload(name)
    # what was imported is shared with every child; freezing it keeps the children's
    # garbage collector from touching (and so copying) those pages: ~20 ms -> ~3 ms a fork
    gc.freeze()
    os.write(int(replies), b"ready\n")
    serve(log_path, int(requests), int(replies))


if __name__ == "__main__":
    main()
