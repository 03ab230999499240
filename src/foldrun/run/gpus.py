"""GPU discovery and a slot allocator, so no two running tasks share a GPU."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.core.task import STAGES, Resources
from foldrun.errors import RunError

if TYPE_CHECKING:
    from foldrun.spec.model import Spec
    from foldrun.spec.problems import Problem


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


def unmet_gpu_problem(spec_path: Path, spec: Spec) -> Problem | None:
    """`check`'s line for a model whose tasks must have a GPU (resources.gpus without
    gpus_optional) when this machine has none and the spec has no [slurm] table: nothing
    here could run them (the local run refuses them too), so check says so now."""
    # lazy: the CLI's option parsing imports this module; spec and plan code load pydantic
    from foldrun.plan.graph import stage_resources
    from foldrun.spec.problems import Problem

    if spec.slurm is not None:
        return None
    needing = [name for name, model in spec.models.items()
               if any(_must_have_gpu(stage_resources(spec, model, s)) for s in STAGES)]
    if not needing or detect_gpus():
        return None
    return Problem(
        "asks for a GPU, this machine has none (nvidia-smi finds none) and the spec has no "
        "[slurm] table; set resources.gpus_optional = true to run it on CPU where there is no "
        "GPU, or add a [slurm] table to run it on a cluster",
        file=str(spec_path), key=f"models.{needing[0]}.resources.gpus",
    )


def _must_have_gpu(resources: Resources) -> bool:
    return resources.gpus > 0 and not resources.gpus_optional
