"""Opens the report in real headless Chromium: it renders, is not blank, logs no errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from foldrun.report import build_report

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("FOLDRUN_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is not installed but FOLDRUN_REQUIRE_CHROMIUM=1")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    """Console messages and uncaught exceptions of the page (not Chromium's own dbus noise)."""
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


def test_report_renders_in_chromium(run_dir: Path, tmp_path: Path) -> None:
    index = build_report(run_dir).index
    shot = tmp_path / "shot.png"
    done = _run([f"--screenshot={shot}", "--window-size=1200,2000", index.as_uri()],
                tmp_path / "profile1")  # fmt: skip
    assert shot.is_file(), done.stderr[-2000:]
    assert _console_errors(done.stderr) == []
    from matplotlib import image

    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 50  # text, tables and plots, not a blank page
    assert pixels.std() > 0.05

    dom = _run(["--dump-dom", index.as_uri()], tmp_path / "profile2")
    assert _console_errors(dom.stderr) == []
    html = dom.stdout
    assert html.count("<table") >= 5 and "Comparison" in html and "Split balance" in html
    assert html.count('src="data:image/png;base64,') >= 6
    assert "<img src=x" not in html  # the hostile model name stayed text


def test_console_error_detection_catches_a_broken_page(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>console.error('boom'); nope();</script></body>")
    done = _run(["--dump-dom", page.as_uri()], tmp_path / "profile")
    assert _console_errors(done.stderr), done.stderr[-2000:]
