"""The partial solution: the ordered list of assignments made so far.

Decisions pick one version of a package; derivations record a term that must
hold given earlier assignments and the incompatibility that forced it (its
cause). Each assignment carries its decision level — how many decisions came
at or before it — which conflict resolution uses to know how far to jump back.

Level 0 holds what follows from "the root is required"; the root's own
decision opens level 1, and each later decision opens the next level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable

from .term import Relation, Term

if TYPE_CHECKING:
    from skillpm.semver import Version

    from .incompatibility import Incompatibility


class Assignment:
    __slots__ = ("term", "level", "index", "cause", "accumulated")

    def __init__(self, term: Term, level: int, index: int, cause: Incompatibility | None, accumulated: Term) -> None:
        self.term = term
        self.level = level
        self.index = index
        self.cause = cause  # None for decisions
        # Intersection of this package's assignments up to and including this one.
        self.accumulated = accumulated

    @property
    def is_decision(self) -> bool:
        return self.cause is None

    def __repr__(self) -> str:
        kind = "decision" if self.cause is None else "derivation"
        return f"<{kind} {self.term!r} @{self.level}#{self.index}>"


class PartialSolution:
    def __init__(self) -> None:
        self.assignments: list[Assignment] = []
        self._by_package: dict[Hashable, list[Assignment]] = {}
        self.decisions: dict[Hashable, Version] = {}
        self._undecided: dict[Hashable, None] = {}  # positive, not decided (ordered set)
        self.level = 0

    # -- adding -------------------------------------------------------------

    def decide(self, package: Hashable, version: Version, term: Term) -> None:
        """Select `version` of `package` (term is Term(package, exact(version)))."""
        self.level += 1
        self.decisions[package] = version
        self._assign(term, None)

    def derive(self, term: Term, cause: Incompatibility) -> None:
        self._assign(term, cause)

    def _assign(self, term: Term, cause: Incompatibility | None) -> None:
        history = self._by_package.setdefault(term.package, [])
        accumulated = term if not history else history[-1].accumulated.intersect(term)
        assignment = Assignment(term, self.level, len(self.assignments), cause, accumulated)
        self.assignments.append(assignment)
        history.append(assignment)
        self._track(term.package)

    def _track(self, package: Hashable) -> None:
        history = self._by_package.get(package)
        if history and history[-1].accumulated.positive and package not in self.decisions:
            self._undecided[package] = None
        else:
            self._undecided.pop(package, None)

    # -- backtracking -------------------------------------------------------

    def backtrack(self, level: int) -> None:
        """Drop every assignment above `level`."""
        touched = set()
        while self.assignments and self.assignments[-1].level > level:
            a = self.assignments.pop()
            package = a.term.package
            history = self._by_package[package]
            history.pop()
            if not history:
                del self._by_package[package]
            if a.is_decision:
                del self.decisions[package]
            touched.add(package)
        self.level = level
        for package in sorted(touched, key=_sort_key):
            self._track(package)

    # -- queries ------------------------------------------------------------

    def term(self, package: Hashable) -> Term | None:
        """Everything known about `package` (intersection of its assignments)."""
        history = self._by_package.get(package)
        return history[-1].accumulated if history else None

    def undecided(self) -> list[Hashable]:
        """Packages that must be selected but have no decision yet."""
        return list(self._undecided)

    def relation(self, term: Term) -> Relation:
        version = self.decisions.get(term.package)
        if version is not None:
            return Term.relation_to_version(version, term)
        known = self.term(term.package)
        if known is None:
            return Term.relation_to_nothing(term)
        return known.relation(term)

    def satisfies(self, term: Term) -> bool:
        return self.relation(term) is Relation.SATISFIED

    def satisfier(self, term: Term) -> Assignment:
        """The earliest assignment after which the solution satisfies `term`."""
        for a in self._by_package.get(term.package, ()):
            if a.accumulated.satisfies(term):
                return a
        raise AssertionError(f"{term!r} is not satisfied by the partial solution")

    def previous_satisfier_level(self, satisfier: Assignment, term: Term) -> int | None:
        """Level of the earliest assignment before `satisfier` (same package) that,
        together with `satisfier`, satisfies `term`; None if `satisfier` alone does."""
        rest = satisfier.term.difference(term)
        if rest.is_empty():
            return None
        needed = rest.inverse()
        for a in self._by_package[term.package]:
            if a.index >= satisfier.index:
                break
            if a.accumulated.satisfies(needed):
                return a.level
        raise AssertionError(f"no previous satisfier for {term!r}")


def _sort_key(package: Hashable) -> str:
    return package if isinstance(package, str) else ""
