from __future__ import annotations

import io

from rich.console import Console

from foldrun.run.progress import LiveProgress, live_progress_factory


def test_live_progress_counts_and_running_tasks() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = LiveProgress(["a", "b", "c", "d"], console=console)
    progress("started", "a")
    progress("started", "b")
    progress("done", "a")
    progress("failed", "b")
    progress("started", "c")
    assert progress._counts() == "done 1  running 1  failed 1  pending 1"
    console.print(progress._render())
    text = console.file.getvalue()
    assert "  c " in text and "done 1" in text and "2/4" in text  # done + failed
    progress.start()
    progress.stop()


def test_a_task_the_race_cancelled_is_not_pending() -> None:
    progress = LiveProgress(["a", "b", "c"], console=Console(file=io.StringIO()))
    progress("started", "a")
    progress("cancelled", "a")  # running when its variant was stopped
    progress("cancelled", "b")  # never started
    assert progress._counts() == "done 0  running 0  failed 0  cancelled 2  pending 1"
    assert progress.progress.tasks[0].completed == 2


def test_progress_is_off_without_a_terminal() -> None:
    assert live_progress_factory(enabled=False) is None
    factory = live_progress_factory(enabled=True)
    assert factory is not None and isinstance(factory({}, ["x"]), LiveProgress)
