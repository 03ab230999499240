"""How foldrun feeds a program the files it expects: manifests with its own column names
(`[models.X.manifests] rename`), and a config file rendered per task (`[models.X.config]`).
Checked against the spec alone; written by run/adapters/inputs.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ConfigFormat = Literal["json", "yaml", "toml", "ini", "keyvalue"]
# a config template's format from its extension; any other extension: `key=value` lines
CONFIG_SUFFIXES: dict[str, ConfigFormat] = {
    ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini",
}  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ManifestsSpec(_Strict):
    """The manifests a command model's program reads, in its own column names."""

    rename: dict[str, str] = Field(default_factory=dict, description=(
        "Manifest column -> the name the program reads it by."))

    @field_validator("rename")
    @classmethod
    def _one_name_each(cls, rename: dict[str, str]) -> dict[str, str]:
        names = list(rename.values())
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rename gives two columns the name {twice[0]!r}; name each once")
        if any(not str(n).strip() for n in names):
            raise ValueError("rename gives a column an empty name; name it")
        return rename


class ConfigSpec(_Strict):
    """A config file rendered per task from a template beside the spec."""

    template: str = Field(description=(
        "The template beside the spec: .json, .yaml/.yml, .toml, .ini, any other "
        "extension: key=value lines."))  # fmt: skip
    format: ConfigFormat | None = Field(None, description=(
        "json, yaml, toml, ini or keyvalue (default: from the template's extension)."))
    file: str | None = Field(None, description=(
        "Where the task's config is written, relative to the task folder (default: the "
        "template's name)."))  # fmt: skip
    set: dict[str, Any] | None = Field(None, description=(
        "Key (dotted for nested) -> value, values may use placeholders (default: every "
        "param named like a top-level key of the template)."))  # fmt: skip

    @field_validator("template")
    @classmethod
    def _template_named(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("template must name a file beside the spec")
        return value

    @field_validator("file")
    @classmethod
    def _file_in_the_task_folder(cls, value: str | None) -> str | None:
        """The rendered config is foldrun's file: written in the task folder, never over a
        file of the user's (the template itself, a config elsewhere)."""
        if value is None:
            return value
        parts = value.replace("\\", "/").split("/")
        if not value.strip() or value.startswith(("/", "~")) or ".." in parts or "\x00" in value:
            raise ValueError(
                f"file {value!r} must be a path inside the task folder (relative, no '..'); "
                "remove it to write <task folder>/<template name>"
            )
        return value

    def config_format(self) -> ConfigFormat:
        """The declared format, else the template's extension's (`key=value` otherwise)."""
        if self.format is not None:
            return self.format
        name = self.template.rsplit("/", 1)[-1].lower()
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        return CONFIG_SUFFIXES.get(suffix, "keyvalue")
