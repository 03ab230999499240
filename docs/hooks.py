"""MkDocs hooks: the pages that must never disagree with the code are generated here at
build time, never hand-copied: the spec reference (from the spec's pydantic models, through
foldrun.spec.schema) and one how-to page per folder of examples/ (its README and its
foldrun.toml as they are)."""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# example folder -> what the how-to page shows a reader how to do
HOWTO = {
    "000-mri-qc": "keep each subject's scans in one fold and balance a continuous score "
                  "over the folds, with one self-evaluating training job per fold",
    "001-spectra-denoiser": "run a label-free program that writes its own metrics, with "
                            "validation folds, a grid, a long command line and a final refit",
    "002-mpower-audio": "index files into a table, reuse a published split as it is, and "
                        "compare several sub-databases in one spec",
    "003-video-21-models": "compare many models (estimators, an entry function, a command "
                           "program) with grids chosen on validation folds",
    "004-animal-calls": "run dataset variants with their own seeds, a grid on the predict "
                        "stage only, your own evaluate program and an external benchmark set",
}


def on_files(files: Files, config) -> Files:  # config: mkdocs' MkDocsConfig
    from foldrun.spec.schema import reference_markdown

    spec = "# The spec file, foldrun.toml\n\n" + SPEC_INTRO + reference_markdown()
    files.append(File.generated(config, "reference/spec.md", content=spec))
    for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "foldrun.toml").is_file()):
        files.append(File.generated(config, f"how-to/{folder.name}.md",
                                    content=howto_page(folder)))  # fmt: skip
    return files


SPEC_INTRO = """\
Every key foldrun accepts, generated from the spec's models when this guide is built (the
same models `foldrun check` validates with, and the JSON Schema `foldrun schema` prints).
Unknown keys are refused with a did-you-mean; paths are relative to the spec file.
`<name>` stands for a name you choose (a model, a stage, a dataset).

"""


def howto_page(folder: Path) -> str:
    """The example's README (its title kept), what it shows, and its spec file whole."""
    readme = (folder / "README.md").read_text(encoding="utf-8").strip().splitlines()
    title, body = readme[0].lstrip("# ").strip(), "\n".join(readme[1:]).strip()
    what = HOWTO.get(folder.name, "")
    lead = f"How to {what}.\n\n" if what else ""
    spec = (folder / "foldrun.toml").read_text(encoding="utf-8").rstrip()
    return (f"# {title}\n\n{lead}The files are in `examples/{folder.name}/` of the "
            f"repository; `python make_data.py` writes its small synthetic data.\n\n{body}\n\n"
            f"## The spec, `examples/{folder.name}/foldrun.toml`\n\n```toml\n{spec}\n```\n")
