"""A project: its manifest, its lock and its install dir."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import ManifestError
from skillpm.installer import Installer
from skillpm.lockfile import LOCK_NAME, LockedSkill, Lockfile, load_lock
from skillpm.manifest import MANIFEST_NAME, Manifest, find_manifest, load_manifest


class NoManifestError(ManifestError):
    """There is no skills.toml to work on (none in the folder or its parents, or no global one yet).

    A ManifestError, so every caller that handles those still does; `doctor`
    tells it apart from a manifest that exists but is broken.
    """


@dataclass
class Project:
    manifest: Manifest
    manifest_text: str
    lock: Lockfile | None
    notes: list[str] = field(default_factory=list)  # e.g. "rolled back an interrupted install"
    install_root: Path | None = None  # the global scope installs under the home folder, not the manifest's
    broken_lock_ok: bool = False  # `skillpm lock`: an unreadable skills.lock counts as absent
    lock_error: str | None = None  # why skills.lock was unreadable (only with broken_lock_ok)
    salvaged: list[LockedSkill] = field(default_factory=list)  # both sides of a merge-conflicted lock

    @property
    def scope(self) -> str:
        """"global" (installs under the home folder, links into each agent's user
        folder) exactly when there is an install_root; else "project"."""
        return "global" if self.install_root is not None else "project"

    @property
    def root(self) -> Path:
        return self.manifest.root

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @property
    def lock_text(self) -> str | None:
        """skills.lock's bytes as text now (None: no lock), to skip writes that change nothing."""
        try:
            return self.lock_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @property
    def install_dir(self) -> Path:
        if self.install_root is not None:
            return self.install_root / self.manifest.install_dir
        return self.root / self.manifest.install_dir

    @property
    def locked(self) -> list[LockedSkill]:
        return list(self.lock.skills) if self.lock else []

    def installer(self) -> Installer:
        """The installer of this project's install dir; its transactions may write
        (and recovery may restore) only skills.toml (or pyproject.toml) and skills.lock."""
        if self.scope == "project":
            _check_inside(self.install_dir, self.root, "the install dir")
        return Installer(self.install_dir, project_files=(self.manifest.path, self.lock_path))

    def reload(self) -> Project:
        fresh = load_project(self.manifest.path, broken_lock_ok=self.broken_lock_ok)
        fresh.install_root = self.install_root
        return fresh


def _check_inside(folder: Path, root: Path, what: str) -> None:
    """A project's own folders must stay in the project once links are followed: a
    link committed to a repository must not send installs (or deletions) elsewhere."""
    import os

    if not inside(folder, root):
        real = os.path.realpath(folder)
        raise ManifestError(
            f"{what} {folder} leads outside the project (to {real}) through a symbolic link",
            hint="remove the link, or set [install] dir to a folder inside the project",
        )


def inside(folder: Path, root: Path) -> bool:
    """Is `folder`, once links are followed, `root` or below it?"""
    import os

    real, base = os.path.realpath(folder), os.path.realpath(root)
    return os.path.commonpath([real, base]) == base


def find_project(cwd: Path | None = None, *, broken_lock_ok: bool = False) -> Project:
    start = (cwd or Path.cwd()).resolve()
    path = find_manifest(start)
    if path is None:
        raise NoManifestError(
            f"no {MANIFEST_NAME} in {start} or any parent folder",
            hint="run `skillpm init` to start one here",
        )
    return load_project(path, broken_lock_ok=broken_lock_ok)


def load_project(manifest_path: Path, *, broken_lock_ok: bool = False) -> Project:
    """The project at manifest_path. `broken_lock_ok`: an unreadable or conflicted
    skills.lock is treated as absent (for `skillpm lock`, which regenerates it)."""
    from skillpm.errors import LockfileError

    manifest = load_manifest(manifest_path)
    text = manifest_path.read_text(encoding="utf-8")
    try:
        lock = load_lock(manifest.root / LOCK_NAME)
    except LockfileError as e:
        if not broken_lock_ok:
            raise
        from skillpm.lockfile import salvage_conflicted

        try:
            salvaged = salvage_conflicted((manifest.root / LOCK_NAME).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            salvaged = []
        return Project(manifest=manifest, manifest_text=text, lock=None, broken_lock_ok=True, lock_error=e.message,
                       salvaged=salvaged)
    return Project(manifest=manifest, manifest_text=text, lock=lock, broken_lock_ok=broken_lock_ok)
