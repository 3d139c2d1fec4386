"""Shared fixtures for every skillpm test.

`make_skill` writes a real skill folder (SKILL.md, optional metadata.json,
extra files with modes) so tests exercise the same bytes users have on disk.
`skill_text` renders SKILL.md text from frontmatter values.

    def test_x(make_skill, tmp_path):
        folder = make_skill("pdf-tools", version="1.2.0",
                            dependencies=["docker/basics@^1.0"],
                            files={"scripts/run.sh": ("#!/bin/sh\\n", 0o755)})
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = ["skill_text", "write_files", "DEFAULT_FILES"]

#: Files `make_skill` writes when `files` is not given.
DEFAULT_FILES: dict[str, Any] = {
    "scripts/run.sh": ("#!/bin/sh\necho hello\n", 0o755),
    "references/guide.md": "# Guide\n\nMore detail.\n",
}

_UNSET: Any = object()


def skill_text(body: str = "# Skill\n\nInstructions.\n", /, **frontmatter: Any) -> str:
    """SKILL.md text: `---`, the frontmatter as YAML (in the given order), `---`, body.

    Keys that are not identifiers go through a dict:
    `skill_text(**{"allowed-tools": "Read Bash"}, name="x", description="y")`.
    Values are dumped with yaml.safe_dump, so strings that look like numbers
    (`"1.10"`) are quoted and read back as the same strings.
    """
    fm = yaml.safe_dump(
        frontmatter, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000
    ) if frontmatter else ""
    return f"---\n{fm}---\n{body}"


def write_files(root: Path, files: Mapping[str, Any]) -> None:
    """Write `{relpath: content}` under root; content is str, bytes, or (content, mode)."""
    for rel, spec in files.items():
        content, mode = spec if isinstance(spec, tuple) else (spec, None)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_bytes(content.encode("utf-8"))
        else:
            target.write_bytes(bytes(content))
        if mode is not None:
            os.chmod(target, mode)


def _build_skill(
    tmp_path: Path,
    name: str = "x",
    *,
    parent: Path | None = None,
    folder: str | None = None,
    version: str | None = "1.0.0",
    description: str | None = _UNSET,
    dependencies: list[str] | tuple[str, ...] | str | None = None,
    metadata: Mapping[str, Any] | None = None,
    extra_frontmatter: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = _UNSET,
    body: str | None = None,
    sidecar: Mapping[str, Any] | str | None = None,
    skill_md: str | bytes | None = None,
) -> Path:
    root = Path(parent if parent is not None else tmp_path) / (folder or name)
    root.mkdir(parents=True, exist_ok=True)

    if skill_md is not None:
        data = skill_md.encode("utf-8") if isinstance(skill_md, str) else skill_md
        (root / "SKILL.md").write_bytes(data)
    else:
        fm: dict[str, Any] = {"name": name}
        fm["description"] = (
            f"Test skill {name}. Use when testing skillpm." if description is _UNSET else description
        )
        meta: dict[str, Any] = {}
        if version is not None:
            meta["version"] = version
        if dependencies is not None:
            meta["dependencies"] = (
                dependencies if isinstance(dependencies, str) else ", ".join(dependencies)
            )
        meta.update(metadata or {})
        extra = dict(extra_frontmatter or {})
        if isinstance(extra.get("metadata"), Mapping):
            meta.update(extra.pop("metadata"))
        if meta:
            fm["metadata"] = meta
        fm.update(extra)
        fm = {k: v for k, v in fm.items() if v is not None}  # None drops a key
        text = skill_text(body if body is not None else f"# {name}\n\nInstructions for {name}.\n", **fm)
        (root / "SKILL.md").write_text(text, encoding="utf-8", newline="\n")

    if sidecar is not None:
        text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar, indent=2)
        (root / "metadata.json").write_text(text, encoding="utf-8")

    write_files(root, DEFAULT_FILES if files is _UNSET else (files or {}))
    return root


@pytest.fixture
def make_skill(tmp_path: Path) -> Callable[..., Path]:
    """Factory writing a real skill folder; returns its path.

    make_skill(name="x", *, parent=tmp_path, folder=None (defaults to name),
               version="1.0.0" (None: no metadata.version),
               description=<generated> (None: omit the key),
               dependencies=None (list -> "a, b" in metadata.dependencies, or a str),
               metadata=None (more metadata.* string values),
               extra_frontmatter=None (top-level keys; a value of None removes a key;
                                       a "metadata" mapping is merged),
               files=DEFAULT_FILES ({relpath: str | bytes | (content, mode)}),
               body=<generated>, sidecar=None (dict or raw str -> metadata.json),
               skill_md=None (raw str/bytes written verbatim as SKILL.md))

    Calling it again for the same folder rewrites SKILL.md and the given files
    (other files stay), e.g. to make a new version in a git repo.
    """

    def factory(name: str = "x", **kwargs: Any) -> Path:
        return _build_skill(tmp_path, name, **kwargs)

    return factory


@pytest.fixture(name="skill_text")
def _skill_text_fixture() -> Callable[..., str]:
    """The `skill_text(body, **frontmatter)` helper, as a fixture."""
    return skill_text
