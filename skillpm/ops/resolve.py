"""Manifest -> resolver (asking sources) -> resolution.

This is the only place that knows how specs become sources and how the
pure solver's answer becomes lock entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import ResolutionError, SourceError
from skillpm.installer import Planned
from skillpm.lockfile import UNKNOWN_DIGEST, LockedSkill
from skillpm.plan import same_release
from skillpm.sources.base import Release, Source
from skillpm.spec import GitSpec, PathSpec, RegistrySpec, Spec, parse_spec, redact_url

ROOT_NAME = "the project"


def spec_identity(spec: Spec, base: Path) -> tuple:
    """Two specs name the same source iff their identities are equal."""
    if isinstance(spec, RegistrySpec):
        return ("registry", spec.registry, spec.id)
    if isinstance(spec, GitSpec):
        return ("git", redact_url(spec.url), spec.path)
    return ("path", str((base / Path(spec.path).expanduser()).resolve()))


def root_key(name: str, spec: Spec) -> str:
    """The package key of a `[skills]` entry: a registry id (qualified), else the manifest key."""
    return spec.name if isinstance(spec, RegistrySpec) else name


def is_pinned(spec: Spec) -> bool:
    return isinstance(spec, PathSpec) or (isinstance(spec, GitSpec) and bool(spec.pins()))


def requirement(spec: Spec):
    """The version range the spec asks for. Pinned sources have one release: any."""
    from skillpm.semver import Range

    if is_pinned(spec):
        return Range.any()
    return Range.parse(spec.range or "*")


@dataclass
class SourceSet:
    """Creates each package's source once and refuses one name from two sources."""

    root: Path
    registries: dict[str, str] = field(default_factory=dict)
    offline: bool = False
    sources: dict[str, Source] = field(default_factory=dict)
    specs: dict[str, Spec] = field(default_factory=dict)
    identities: dict[str, tuple] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def register(self, name: str, spec: Spec, *, parent: str | None, base: Path) -> None:
        ident = spec_identity(spec, base)
        if name in self.identities:
            if self.identities[name] != ident:
                raise SourceError(
                    f"{name} is required from two different sources: {self.specs[name]} (via {self.chain(name)}) "
                    f"and {spec} (via {self.chain(parent)} -> {name})",
                    hint="make both dependency chains point at the same source",
                )
            return
        self.identities[name] = ident
        self.specs[name] = spec
        self.parents[name] = parent
        self.sources[name] = self._make(spec, base)

    def chain(self, name: str | None) -> str:
        names = []
        seen = set()
        while name is not None and name not in seen:
            seen.add(name)
            names.append(name)
            name = self.parents.get(name)
        return " -> ".join([ROOT_NAME, *reversed(names)])

    def _make(self, spec: Spec, base: Path) -> Source:
        if isinstance(spec, PathSpec):
            from skillpm.sources.path import PathSource, relative_location

            # a dependency's path is relative to the skill declaring it; the lock
            # (and every later install) reads paths relative to the project root
            folder = (base / Path(spec.path).expanduser()).resolve()
            return PathSource(PathSpec(relative_location(folder, self.root)), self.root)
        if isinstance(spec, GitSpec):
            from skillpm.sources.git import GitSource

            return GitSource(spec, offline=self.offline)
        from skillpm.sources.registry import make_registry_source

        return make_registry_source(spec, registries=self.registries, root=self.root, offline=self.offline)

    def base_for(self, name: str) -> Path:
        """Folder that relative path dependencies of `name` are relative to."""
        src = self.sources[name]
        folder = getattr(src, "folder", None)
        return folder if isinstance(folder, Path) else self.root


class SourceProvider:
    """The solver's view of the sources: versions and dependencies, lazily."""

    def __init__(self, sources: SourceSet) -> None:
        self.sources = sources
        self.releases: dict[str, dict] = {}
        self.deps: dict[tuple[str, object], dict[str, object]] = {}

    def versions(self, package: str):
        from skillpm.resolver.provider import Candidate

        if package not in self.releases:
            source = self.sources.sources[package]
            self.releases[package] = {r.version: r for r in source.releases()}
        return [Candidate(version=v, yanked=r.yanked) for v, r in self.releases[package].items()]

    def release(self, package: str, version) -> Release:
        self.versions(package)
        return self.releases[package][version]

    def dependencies(self, package: str, version):
        key = (package, version)
        if key in self.deps:
            return self.deps[key]
        source = self.sources.sources[package]
        release = self.release(package, version)
        raw = release.dependencies if release.dependencies is not None else source.dependencies(release)
        parent_spec = self.sources.specs[package]
        out = {}
        for text in raw:
            spec = parse_dependency(text, parent_spec, package)
            self.sources.register(spec.name, spec, parent=package, base=self.sources.base_for(package))
            if spec.name == package:
                continue
            out[spec.name] = requirement(spec)
        self.deps[key] = out
        return out


def parse_dependency(text: str, parent: Spec, parent_name: str) -> Spec:
    """A `metadata.dependencies` item; registry deps stay in the parent's registry."""
    from dataclasses import replace

    from skillpm.spec import SpecError

    try:
        spec = parse_spec(text)
    except SpecError as e:
        raise SourceError(f"{parent_name}: metadata.dependencies: {e.message}", hint=e.hint) from None
    if isinstance(spec, PathSpec) and not isinstance(parent, PathSpec):
        raise SourceError(f"{parent_name}: metadata.dependencies: a {parent.kind} skill cannot depend on the local path {text!r}")
    if isinstance(spec, GitSpec) and _is_local_url(spec.url) and not _is_local(parent):
        raise SourceError(
            f"{parent_name}: metadata.dependencies: a skill fetched from elsewhere cannot depend on the local repository {redact_url(spec.url)!r}",
            hint="only local skills (path or file:// sources) may point at file:// repositories",
        )
    if isinstance(spec, RegistrySpec) and spec.registry is None and isinstance(parent, RegistrySpec) and parent.registry:
        spec = replace(spec, registry=parent.registry)
    return spec


def _is_local_url(url: str) -> bool:
    return url.lower().startswith("file:") or "://" not in url and url.startswith(("/", "."))


def _is_local(spec: Spec) -> bool:
    return isinstance(spec, PathSpec) or (isinstance(spec, GitSpec) and _is_local_url(spec.url))


def prefetch(sources: list[Source]) -> None:
    """Fetch every git remote in parallel before the solver asks them one by one."""
    if any(type(s).__name__ == "GitSource" for s in sources):
        from skillpm.sources.git import prefetch as git_prefetch

        git_prefetch(sources)  # errors resurface, with context, when the source is used


@dataclass
class Resolved:
    planned: list[Planned]
    stats: object
    sources: SourceSet


def resolve(
    specs: dict[str, Spec],
    *,
    root: Path,
    registries: dict[str, str],
    locked: list[LockedSkill],
    unlock: set[str] | None = None,
    update_all: bool = False,
    offline: bool = False,
) -> Resolved:
    """Solve the manifest's specs; reuse lock entries for what did not move."""
    from skillpm.resolver import SolveFailure, solve
    from skillpm.semver import Version

    sources = SourceSet(root=root, registries=registries, offline=offline)
    root_reqs = {}
    for name, spec in specs.items():
        key = root_key(name, spec)
        sources.register(key, spec, parent=None, base=root)
        root_reqs[key] = requirement(spec)
    prefetch(list(sources.sources.values()))
    by_name = {e.name: e for e in locked}
    locked_versions = {} if update_all else {e.name: Version.parse(e.version) for e in locked}
    provider = SourceProvider(sources)
    try:
        result = solve(root_reqs, provider, locked=locked_versions, unlock=unlock or set(), root_name=ROOT_NAME)
    except SolveFailure as e:
        raise ResolutionError(e.explanation) from None

    planned = []
    for name, version in sorted(result.versions.items()):
        source = sources.sources[name]
        release = provider.release(name, version)
        deps = sorted(provider.dependencies(name, version))
        entry = LockedSkill(
            name=name,
            folder=source.skill_name(release),
            version=str(version),
            source=source.lock_source,
            path=getattr(source.spec, "path", None) if isinstance(source.spec, GitSpec) else None,
            tag=release.tag,
            branch=release.branch,
            commit=release.commit,
            checksum=release.checksum,
            integrity=release.integrity or UNKNOWN_DIGEST,
            dependencies=deps,
        )
        prev = by_name.get(name)
        check = release.integrity is not None
        if prev is not None and same_release(prev, entry) and release.integrity is None:
            entry = entry.model_copy(update={"integrity": prev.integrity})  # same commit: same bytes
            check = True
        elif prev is not None and prev.tag and prev.tag == entry.tag and prev.commit and entry.commit and prev.commit != entry.commit:
            if not update_all and name not in (unlock or set()):
                raise SourceError(
                    f"tag moved: {prev.tag} of {prev.location} was {prev.commit[:12]} when locked, now {entry.commit[:12]}",
                    hint=f"run `skillpm update {name}` to accept the new commit",
                )
        planned.append(Planned(entry=entry, source=source, release=release, check_integrity=check))
    for source in sources.sources.values():
        sources.warnings.extend(getattr(source, "warnings", []))
    return Resolved(planned=planned, stats=result.stats, sources=sources)


