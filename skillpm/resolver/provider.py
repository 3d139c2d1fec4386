"""What the solver asks of the outside world, and the cache in front of it.

The solver is pure: every fact about packages comes from a `Provider` the
caller passes in. `PackageLister` wraps that provider so each question is asked
at most once, counts the questions for `SolveStats`, and applies the policy
that is not version algebra: which candidates are selectable (yanked ones are
not, unless locked) and which one to prefer (the locked one, else the newest).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from skillpm.semver import Range, Version

    from .stats import SolveStats


@dataclass(frozen=True)
class Candidate:
    """One published version of a package."""

    version: Version
    yanked: bool = False


class PackageNotFound(Exception):
    """Raised by `Provider.versions` when the package does not exist at all."""

    def __init__(self, package: str, message: str | None = None) -> None:
        super().__init__(message or f"{package} doesn't exist")
        self.package = package


class Provider(Protocol):
    """The solver's only source of facts. Both methods may be slow (network):
    the solver calls `versions` once per package it reaches and `dependencies`
    once per version it tries."""

    def versions(self, package: str) -> Sequence[Candidate]: ...

    def dependencies(self, package: str, version: Version) -> Mapping[str, Range]: ...


class PackageLister:
    """Caches the provider and knows which versions of a package may be chosen.

    `candidates(p)` is the ascending list of selectable versions: not yanked,
    except that a yanked version equal to the package's locked version stays.
    """

    def __init__(
        self,
        provider: Provider,
        stats: SolveStats,
        *,
        locked: Mapping[str, Version] | None,
        unlock: Collection[str] | None,
    ) -> None:
        self._provider = provider
        self._stats = stats
        self._locked = dict(locked or {})
        self._unlock = frozenset(unlock or ())
        self._candidates: dict[str, list[Version]] = {}
        self._yanked: dict[str, list[Version]] = {}
        self._missing: dict[str, PackageNotFound] = {}
        self._deps: dict[tuple[str, Version], Mapping[str, Range]] = {}

    # -- versions -----------------------------------------------------------

    def _load(self, package: str) -> None:
        if package in self._candidates or package in self._missing:
            return
        self._stats.versions_calls += 1
        try:
            listed = self._provider.versions(package)
        except PackageNotFound as e:
            self._missing[package] = e
            return
        lock = self._locked.get(package)
        chosen: dict[Version, bool] = {}
        for cand in listed:
            # A version listed twice counts as yanked only if every listing says so.
            chosen[cand.version] = chosen.get(cand.version, True) and cand.yanked
        selectable = sorted(v for v, yanked in chosen.items() if not yanked or v == lock)
        self._candidates[package] = selectable
        self._yanked[package] = sorted(v for v, yanked in chosen.items() if yanked and v != lock)

    def exists(self, package: str) -> bool:
        self._load(package)
        return package not in self._missing

    def not_found(self, package: str) -> PackageNotFound | None:
        self._load(package)
        return self._missing.get(package)

    def candidates(self, package: str) -> list[Version]:
        """Selectable versions, oldest first ([] for a missing package)."""
        self._load(package)
        return self._candidates.get(package, [])

    def yanked(self, package: str) -> list[Version]:
        """Versions withheld because they are yanked (for messages)."""
        self._load(package)
        return self._yanked.get(package, [])

    def known_versions(self, package: str) -> list[Version]:
        """Every version already listed for the package (no provider call)."""
        return sorted([*self._candidates.get(package, ()), *self._yanked.get(package, ())])

    # -- preferences --------------------------------------------------------

    def is_unlocked(self, package: str) -> bool:
        """True when the caller asked to move this locked package."""
        return package in self._unlock and package in self._locked

    def preferred_lock(self, package: str) -> Version | None:
        """The locked version to try first, or None when unlocked/absent."""
        if package in self._unlock:
            return None
        return self._locked.get(package)

    # -- dependencies -------------------------------------------------------

    def dependencies(self, package: str, version: Version) -> Mapping[str, Range]:
        key = (package, version)
        deps = self._deps.get(key)
        if deps is None:
            self._stats.dependencies_calls += 1
            deps = self._provider.dependencies(package, version)
            self._deps[key] = deps
        return deps
