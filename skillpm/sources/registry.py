"""Registry skills as a source: versions and dependencies from the index, files from archives.

The resolver learns every version, its yanked flag, checksum, tree digest and
dependencies from one index file, without downloading any archive.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import SourceError
from skillpm.sources.base import Release, Source
from skillpm.spec import RegistrySpec

if TYPE_CHECKING:
    from skillpm.lockfile import LockedSkill
    from skillpm.registries.locations import Registry


class RegistrySource(Source):
    def __init__(self, spec: RegistrySpec, registry: Registry, *, prefetch: bool = True) -> None:
        self.spec = spec
        self.registry = registry
        self.warnings: list[str] = []
        if prefetch:
            registry.prefetch(spec.id)

    @property
    def lock_source(self) -> str:
        return self.registry.lock_source

    def _lines(self):
        lines = self.registry.lines(self.spec.id)
        if not lines:
            where = self.registry.label
            raise SourceError(
                f"{self.spec.id} is not in {where}",
                hint=f"see `skillpm search {self.spec.id.rsplit('/', 1)[-1]}`"
                + ("" if self.registry.is_embedded else " or check [registries] in skills.toml"),
            )
        return lines

    def releases(self) -> list[Release]:
        embedded = self.registry.is_embedded
        out = []
        for line in self._lines():
            out.append(
                Release(
                    version=line.version,
                    yanked=line.yanked,
                    # the embedded registry is built on each machine: its archive bytes
                    # may differ with zlib, so only the tree digest pins it
                    checksum=None if embedded else line.cksum,
                    integrity=line.integrity,
                    dependencies=line.dependencies(),
                )
            )
        return out

    def _line(self, release: Release):
        for line in self.registry.lines(self.spec.id):
            if line.version == release.version:
                return line
        return None

    def dependencies(self, release: Release) -> tuple[str, ...]:
        line = self._line(release)
        if line is None:
            raise SourceError(f"{self.spec.id} {release.version} is not in {self.registry.label}")
        return line.dependencies()

    def skill_name(self, release: Release) -> str:
        """The install folder: the last id segment (publish requires it to equal the SKILL.md name)."""
        return self.spec.id.rsplit("/", 1)[-1]

    def materialize(self, release: Release, dest: Path) -> None:
        version = str(release.version)
        cksum = release.checksum
        integrity = release.integrity
        if self.registry.is_embedded:
            line = self._line(release)
            if line is None:
                raise SourceError(
                    f"{self.spec.id} {version} is not in the embedded registry of this skillpm",
                    hint="this skillpm ships other versions; run `skillpm update " + self.spec.id + "`",
                )
            cksum = line.cksum  # this machine's build: checks the bytes against its own index
        self.registry.materialize(self.spec.id, version, cksum=cksum, integrity=integrity, dest=dest)


def make_registry_source(spec: RegistrySpec, *, registries: dict[str, str], root: Path, offline: bool = False) -> RegistrySource:
    from skillpm.registries.locations import resolve_registry

    return RegistrySource(spec, resolve_registry(spec.registry, registries, root=root, offline=offline))


def registry_source_from_lock(entry: LockedSkill, project, *, offline: bool = False) -> RegistrySource:  # noqa: ANN001
    """Rebuild the source of a locked registry skill (`entry.location` is the registry URL)."""
    from skillpm.registries.locations import registry_for_lock

    registry_name, _, ident = entry.name.rpartition(":")
    reg = registry_for_lock(entry.location, project.manifest.registries, root=project.root, offline=offline)
    return RegistrySource(RegistrySpec(id=ident, registry=registry_name or None), reg, prefetch=False)
