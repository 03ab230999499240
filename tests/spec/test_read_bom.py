"""The spec file as editors save it: with a UTF-8 byte order mark (Notepad, Excel's
"UTF-8" text). Python reads such source files and pandas such tables; the spec too."""

from __future__ import annotations

from pathlib import Path

from foldrun.spec.load import read_document
from tests.reliability.helpers import invoke, project


def test_a_spec_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """It was 'not valid TOML: Invalid statement (at line 1, column 1)', a mark no editor
    shows, in check, run, status, cancel and report alike."""
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_bytes(b"\xef\xbb\xbf" + spec.read_bytes())
    assert read_document(spec)["name"] == "toy"
    done = invoke("check", str(spec))
    assert done.returncode == 0, done.stderr


def test_a_mark_inside_the_text_is_still_refused(tmp_path: Path) -> None:
    spec = tmp_path / "foldrun.toml"
    spec.write_bytes(b'name = "a"\n\xef\xbb\xbf[data]\n')
    done = invoke("check", str(spec))
    assert done.returncode == 2 and "not valid TOML" in done.stderr
