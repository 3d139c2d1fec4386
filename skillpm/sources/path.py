"""Local folders as a source: one release, the folder as it is now."""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path

from skillpm.errors import SourceError
from skillpm.sources.base import Release, Source
from skillpm.spec import PathSpec


class PathSource(Source):
    def __init__(self, spec: PathSpec, root: Path) -> None:
        self.spec = spec
        self.root = root
        self.warnings: list[str] = []

    @cached_property
    def folder(self) -> Path:
        folder = (self.root / Path(self.spec.path).expanduser()).resolve()
        if not folder.is_dir():
            raise SourceError(
                f"{self.spec.path}: no such folder (relative to {self.root})",
                hint="point the path at a folder holding a SKILL.md",
            )
        return folder

    @property
    def lock_source(self) -> str:
        return "path+" + relative_location(self.folder, self.root)

    @cached_property
    def info(self):
        from skillpm.skill import load_skill

        info, problems = load_skill(self.folder)
        self.warnings.extend(str(p) for p in problems)
        return info

    def releases(self) -> list[Release]:
        from skillpm.semver import InvalidVersion, Version

        version = Version.parse("0.0.0")
        if self.info.version:
            try:
                version = Version.parse(self.info.version)
            except InvalidVersion:
                self.warnings.append(f"{self.spec.path}: metadata.version: {self.info.version!r} is not SemVer; using 0.0.0")
        from skillpm.digest import tree_digest

        # a local folder changes in place: its digest now is what an install would copy
        return [Release(version=version, integrity=tree_digest(self.folder), dependencies=self.info.dependencies)]

    def dependencies(self, release: Release) -> tuple[str, ...]:
        return self.info.dependencies

    def skill_name(self, release: Release) -> str:
        return self.info.name

    def materialize(self, release: Release, dest: Path) -> None:
        copy_skill(self.folder, dest)


def relative_location(folder: Path, root: Path) -> str:
    """A path the lock can carry: relative to the project, '/'-separated."""
    try:
        rel = os.path.relpath(folder, root.resolve())
    except ValueError:  # another drive on Windows
        return folder.as_posix()
    rel = Path(rel).as_posix()
    return rel if rel.startswith(".") else f"./{rel}"


def copy_skill(src: Path, dest: Path) -> None:
    """Copy a skill's regular files (refusing links and devices), keeping exec bits."""
    from skillpm.digest import walk_skill

    entries = walk_skill(src)
    dest.mkdir(parents=True)
    for entry in entries:
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.abspath, target)
        os.chmod(target, 0o755 if entry.executable else 0o644)
