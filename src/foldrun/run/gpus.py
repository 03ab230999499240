"""GPU discovery and a slot allocator, so no two running tasks share a GPU."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from foldrun.errors import RunError


def parse_gpus(text: str | None) -> tuple[int, ...] | None:
    """`--gpus 0,1` -> (0, 1); "" or "none" -> (); None -> None (detect)."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise RunError(
            f"--gpus takes GPU ids separated by commas, like 0,1; got {text!r}", key="--gpus"
        ) from None
    if len(set(ids)) != len(ids) or min(ids, default=0) < 0:
        raise RunError(f"--gpus ids must be distinct and >= 0; got {text!r}", key="--gpus")
    return ids


def detect_gpus() -> tuple[int, ...]:
    """What `nvidia-smi` reports; none when it is not on PATH or fails."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ()
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return ()
    return tuple(int(line) for line in out.split() if line.strip().isdigit())


class GpuPool:
    """Hands out distinct GPU ids; a task gets all it asks for or none."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.free: list[int] = list(ids)
        self.total = len(self.free)

    def take(self, n: int) -> tuple[int, ...] | None:
        if n > len(self.free):
            return None
        taken, self.free = self.free[:n], self.free[n:]
        return tuple(taken)

    def give_back(self, ids: Sequence[int]) -> None:
        for gpu in ids:
            if gpu in self.free:
                raise ValueError(f"GPU {gpu} given back twice")
            self.free.append(gpu)
        self.free.sort()


def cuda_visible(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)
