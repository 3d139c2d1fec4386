"""The one narrow interface every source (path, git, registry) implements.

The resolver asks a source two questions, lazily: which releases exist, and
what one release depends on. The installer asks it one: write this release's
files into a fresh folder. Nothing else crosses this line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skillpm.semver import Version
    from skillpm.spec import Spec


@dataclass(frozen=True)
class Release:
    """One installable version of one skill from one source."""

    version: Version
    yanked: bool = False
    tag: str | None = None  # git: the tag this version came from
    branch: str | None = None  # git: the branch followed (untagged repos)
    commit: str | None = None  # git: full 40-hex commit
    checksum: str | None = None  # registry: "sha256:<hex of the archive bytes>"
    integrity: str | None = None  # tree digest when known before fetching
    dependencies: tuple[str, ...] | None = None  # raw dep specs when known before fetching


class Source(ABC):
    """Where one spec's skill comes from."""

    spec: Spec

    @property
    @abstractmethod
    def lock_source(self) -> str:
        """The lock file's `source` string: `path+…`, `git+<url>` or `registry+<url>`.

        Never contains credentials.
        """

    @abstractmethod
    def releases(self) -> list[Release]:
        """Every release this spec could pick from (unfiltered by range)."""

    @abstractmethod
    def dependencies(self, release: Release) -> tuple[str, ...]:
        """The raw dependency specs the release declares (metadata.dependencies)."""

    @abstractmethod
    def materialize(self, release: Release, dest: Path) -> None:
        """Write exactly the skill's files into `dest`, which must not exist yet."""

    def skill_name(self, release: Release) -> str:
        """The SKILL.md `name` of the release: the folder it installs into.

        Sources override this when the name can differ from the spec's default
        (a repository-root skill, a registry id's last segment).
        """
        return self.spec.name.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
