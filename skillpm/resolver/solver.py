"""The PubGrub main loop: unit propagation, decision making, conflict resolution.

See docs/resolver.md for the walk-through. In short:

* Start from the incompatibility {not root}: the project must be selected.
* Loop: propagate from the package that last changed (deriving every term the
  incompatibilities force), then decide one version of one package that must
  be selected but isn't yet. Stop when nothing is left undecided.
* When propagation finds an incompatibility fully satisfied, resolve the
  conflict: walk back through the causes of the assignments that satisfied it,
  deriving a new incompatibility each step, until it names only one assignment
  at the latest relevant decision level; then backjump to the level below and
  let propagation take the new fact from there. If the walk reaches "the root
  can't be selected", solving has failed and the derivation graph explains why.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Hashable

from .dependencies import dependency_incompatibilities
from .incompatibility import (
    ROOT,
    ConflictCause,
    Incompatibility,
    RootCause,
    dependency,
    no_versions,
    not_found,
)
from .partial_solution import PartialSolution
from .provider import PackageLister, Provider
from .stats import SolveStats
from .term import Relation, Term

if TYPE_CHECKING:
    from skillpm.semver import Range, Version


class SolveFailure(Exception):
    """No set of versions satisfies every constraint.

    `explanation` is the pub-style report; `incompatibility` is the root of the
    derivation graph it was written from.
    """

    def __init__(self, explanation: str, incompatibility: Incompatibility, stats: SolveStats | None = None) -> None:
        super().__init__(explanation)
        self.explanation = explanation
        self.incompatibility = incompatibility
        self.stats = stats


@dataclass
class Resolution:
    versions: dict[str, Version]
    """Every package chosen (the root excluded)."""
    dependencies: dict[str, dict[str, Range]]
    """The dependencies each chosen package declared, as the provider gave them."""
    root_dependencies: dict[str, Range] = field(default_factory=dict)
    """The root's requirements, as passed to `solve`."""
    stats: SolveStats = field(default_factory=SolveStats)


_CONFLICT = object()


class VersionSolver:
    def __init__(
        self,
        root: Mapping[str, Range],
        provider: Provider,
        *,
        locked: Mapping[str, Version] | None = None,
        unlock: Collection[str] | None = None,
        root_name: str = "the project",
    ) -> None:
        self.root_dependencies = dict(root)
        self.root_name = root_name
        self.stats = SolveStats()
        self.lister = PackageLister(provider, self.stats, locked=locked, unlock=unlock)
        self.solution = PartialSolution()
        self._incompatibilities: dict[Hashable, list[Incompatibility]] = {}
        self._loaded: dict[tuple[Hashable, Version], list[Incompatibility]] = {}
        self._tried: dict[Hashable, int] = {}
        self._asked: dict[Hashable, list[Range]] = {}
        self._counts: dict[Hashable, tuple[Term, int]] = {}

    # -- main loop ------------------------------------------------------------

    def solve(self) -> Resolution:
        from skillpm.semver import Range

        start = time.perf_counter()
        try:
            self._add(Incompatibility([Term(ROOT, Range.any(), False)], RootCause()))
            package: Hashable | None = ROOT
            while package is not None:
                self._propagate(package)
                package = self._decide()
        finally:
            self.stats.seconds = time.perf_counter() - start
        return self._resolution()

    def _resolution(self) -> Resolution:
        versions = {p: v for p, v in self.solution.decisions.items() if p is not ROOT}
        deps = {p: dict(self.lister.dependencies(p, v)) for p, v in versions.items()}
        return Resolution(
            versions=dict(sorted(versions.items())),
            dependencies=dict(sorted(deps.items())),
            root_dependencies=dict(self.root_dependencies),
            stats=self.stats,
        )

    def _add(self, incompatibility: Incompatibility) -> None:
        self.stats.incompatibilities += 1
        for term in incompatibility.terms:
            self._incompatibilities.setdefault(term.package, []).append(incompatibility)

    # -- unit propagation -------------------------------------------------------

    def _propagate(self, package: Hashable) -> None:
        changed: dict[Hashable, None] = {package: None}
        while changed:
            current = next(iter(changed))
            del changed[current]
            known = self._incompatibilities.get(current, [])
            # Newest first: conflict resolution's incompatibilities are the most general.
            for i in range(len(known) - 1, -1, -1):
                incompatibility = known[i]
                result = self._propagate_incompatibility(incompatibility)
                if result is _CONFLICT:
                    root_cause = self._resolve_conflict(incompatibility)
                    result = self._propagate_incompatibility(root_cause)
                    if result is _CONFLICT or result is None:  # pragma: no cover - invariant
                        raise AssertionError(f"{root_cause!r} is not almost satisfied after backjumping")
                    changed = {result: None}
                    break
                if result is not None:
                    changed[result] = None

    def _propagate_incompatibility(self, incompatibility: Incompatibility) -> object:
        """Derive the one term the incompatibility forces, if exactly one is open.

        Returns the derived package, _CONFLICT when every term is satisfied, or
        None when nothing follows."""
        unsatisfied: Term | None = None
        for term in incompatibility.terms:
            relation = self.solution.relation(term)
            if relation is Relation.CONTRADICTED:
                return None
            if relation is Relation.INCONCLUSIVE:
                if unsatisfied is not None:
                    return None
                unsatisfied = term
        if unsatisfied is None:
            return _CONFLICT
        self.solution.derive(unsatisfied.inverse(), incompatibility)
        self.stats.propagations += 1
        return unsatisfied.package

    # -- conflict resolution ------------------------------------------------------

    def _resolve_conflict(self, incompatibility: Incompatibility) -> Incompatibility:
        self.stats.conflicts += 1
        derived = False
        while not incompatibility.is_failure():
            satisfier = None
            satisfied_term: Term | None = None
            previous_level = 1  # never undo the root's decision
            for term in incompatibility.terms:
                candidate = self.solution.satisfier(term)
                if satisfier is None or satisfier.index < candidate.index:
                    if satisfier is not None:
                        previous_level = max(previous_level, satisfier.level)
                    satisfier, satisfied_term = candidate, term
                else:
                    previous_level = max(previous_level, candidate.level)
            assert satisfier is not None and satisfied_term is not None
            # The satisfier may only finish what earlier assignments to the same
            # package started ("foo >=1" then "foo <2" satisfying "foo ^1").
            earlier = self.solution.previous_satisfier_level(satisfier, satisfied_term)
            if earlier is not None:
                previous_level = max(previous_level, earlier)

            if satisfier.is_decision or previous_level != satisfier.level:
                if derived:
                    self._add(incompatibility)
                self.solution.backtrack(previous_level)
                self.stats.backtracks += 1
                return incompatibility

            # Resolve with the satisfier's cause: {t, q} and {not t, r} give {q, r};
            # if the satisfier only partly covers t, keep the part it missed.
            cause = satisfier.cause
            assert cause is not None
            package = satisfier.term.package
            terms = [t for t in incompatibility.terms if t is not satisfied_term]
            terms += [t for t in cause.terms if t.package != package]
            rest = satisfier.term.difference(satisfied_term)
            if not rest.is_empty():
                terms.append(rest.inverse())
            incompatibility = Incompatibility(terms, ConflictCause(incompatibility, cause))
            derived = True

        from .report import explain

        raise SolveFailure(explain(incompatibility, self.root_name, self.lister), incompatibility, self.stats)

    # -- decision making ------------------------------------------------------------

    def _decide(self) -> Hashable | None:
        undecided = self.solution.undecided()
        if not undecided:
            return None
        if ROOT in undecided:
            return self._decide_root()
        # Packages the caller unlocked go first, so that they take the newest
        # version and locked packages adapt to them rather than the reverse;
        # then pub's heuristic: the package with the fewest versions left.
        package = min(undecided, key=lambda p: (not self.lister.is_unlocked(p), self._count(p), p))
        term = self.solution.term(package)
        assert term is not None and term.positive

        missing = self.lister.not_found(package)
        if missing is not None:
            from skillpm.semver import Range

            self._add(not_found(package, Range.any(), str(missing)))
            return package

        version = self._pick(package, term)
        if version is None:
            yanked = tuple(v for v in self.lister.yanked(package) if term.range.allows(v))
            self._add(no_versions(term, yanked))
            return package

        incompatibilities = self._load(package, version)
        if not any(self._would_conflict(i, package, version) for i in incompatibilities):
            self._make_decision(package, version)
        return package

    def _decide_root(self) -> Hashable:
        from skillpm.semver import Range, Version

        version = Version.parse("0.0.0")
        key = (ROOT, version)
        if key not in self._loaded:
            loaded = []
            # Propagation takes the newest incompatibility first; adding the
            # requirements last-to-first derives them in the order declared.
            for name in reversed(list(self.root_dependencies)):
                if name is ROOT:  # pragma: no cover - names are strings
                    continue
                rng = self.root_dependencies[name]
                loaded.append(dependency(ROOT, Range.any(), name, rng))
                self._asked.setdefault(name, []).append(rng)
            self._loaded[key] = loaded
            for incompatibility in loaded:
                self._add(incompatibility)
        self._make_decision(ROOT, version)
        return ROOT

    def _make_decision(self, package: Hashable, version: Version) -> None:
        from skillpm.semver import Range

        self.solution.decide(package, version, Term(package, Range.exact(version), True))
        self.stats.decisions += 1

    def _load(self, package: Hashable, version: Version) -> list[Incompatibility]:
        """The incompatibilities of `version`'s dependencies, added once."""
        key = (package, version)
        loaded = self._loaded.get(key)
        if loaded is None:
            tried = self._tried.get(package, 0)
            widen = 0 if tried == 0 else 4**tried  # see dependencies.py
            loaded = dependency_incompatibilities(self.lister, package, version, widen=widen)
            self._tried[package] = tried + 1
            self._loaded[key] = loaded
            for incompatibility in loaded:
                self._add(incompatibility)
                if len(incompatibility.terms) == 2:
                    dependee = incompatibility.terms[1]
                    self._asked.setdefault(dependee.package, []).append(dependee.range)
        return loaded

    def _would_conflict(self, incompatibility: Incompatibility, package: Hashable, version: Version) -> bool:
        for term in incompatibility.terms:
            if term.package == package:
                if Term.relation_to_version(version, term) is not Relation.SATISFIED:
                    return False
            elif not self.solution.satisfies(term):
                return False
        return True

    def _allowed(self, package: Hashable, term: Term) -> list[Version]:
        return [v for v in self.lister.candidates(package) if term.range.allows(v)]

    def _pick(self, package: Hashable, term: Term) -> Version | None:
        """The locked version if allowed and kept, else the newest allowed.

        A prerelease admitted only by a computed range (a complement, a union
        from conflict resolution) is tried after every version some declared
        requirement actually asks for."""
        allowed = self._allowed(package, term)
        if not allowed:
            return None
        lock = self.lister.preferred_lock(package)
        if lock is not None and lock in allowed:
            return lock
        fallback = None
        for v in reversed(allowed):
            if not v.is_prerelease or any(r.allows(v) for r in self._asked.get(package, ())):
                return v
            if fallback is None:
                fallback = v
        return fallback

    def _count(self, package: Hashable) -> int:
        """How many versions the package could still take (pub's heuristic:
        decide the most constrained package first). A kept lock counts as 1."""
        term = self.solution.term(package)
        cached = self._counts.get(package)
        if cached is not None and cached[0] is term:
            return cached[1]
        assert term is not None
        if not self.lister.exists(package):
            count = 0
        else:
            lock = self.lister.preferred_lock(package)
            if lock is not None and term.range.allows(lock) and lock in self.lister.candidates(package):
                count = 1
            else:
                count = len(self._allowed(package, term))
        self._counts[package] = (term, count)
        return count


def solve(
    root: Mapping[str, Range],
    provider: Provider,
    *,
    locked: Mapping[str, Version] | None = None,
    unlock: Collection[str] | None = None,
    root_name: str = "the project",
) -> Resolution:
    """Choose one version of every package the root needs, transitively.

    root: the project's requirements (package -> range).
    locked: versions to keep when still allowed (a preference, not a
        constraint: a locked package moves if something it must agree with moves).
    unlock: packages whose locks are ignored (they take the newest version);
        None or empty keeps every lock. To update everything pass no `locked`.
    root_name: how the failure report names the project.

    Raises SolveFailure when no solution exists; provider errors other than
    PackageNotFound propagate unchanged.
    """
    return VersionSolver(root, provider, locked=locked, unlock=unlock, root_name=root_name).solve()
