"""A project: its manifest, its lock and its install dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skillpm.errors import ManifestError
from skillpm.installer import Installer
from skillpm.lockfile import LOCK_NAME, LockedSkill, Lockfile, load_lock
from skillpm.manifest import MANIFEST_NAME, Manifest, find_manifest, load_manifest


@dataclass
class Project:
    manifest: Manifest
    manifest_text: str
    lock: Lockfile | None

    @property
    def root(self) -> Path:
        return self.manifest.root

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @property
    def install_dir(self) -> Path:
        return self.root / self.manifest.install_dir

    @property
    def locked(self) -> list[LockedSkill]:
        return list(self.lock.skills) if self.lock else []

    def installer(self) -> Installer:
        return Installer(self.install_dir)

    def reload(self) -> Project:
        return load_project(self.manifest.path)


def find_project(cwd: Path | None = None) -> Project:
    start = (cwd or Path.cwd()).resolve()
    path = find_manifest(start)
    if path is None:
        raise ManifestError(
            f"no {MANIFEST_NAME} in {start} or any parent folder",
            hint="run `skillpm init` to start one here",
        )
    return load_project(path)


def load_project(manifest_path: Path) -> Project:
    manifest = load_manifest(manifest_path)
    text = manifest_path.read_text(encoding="utf-8")
    return Project(manifest=manifest, manifest_text=text, lock=load_lock(manifest.root / LOCK_NAME))
