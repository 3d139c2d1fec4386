"""Incompatibilities: sets of terms that must not all be true at once.

External incompatibilities record facts about the universe (a root
requirement, "p R depends on q S", "no versions of p match R", "p doesn't
exist"). Derived ones come from conflict resolution and remember the two
incompatibilities they were resolved from, which makes the derivation graph
the failure report walks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable

from .term import Term

if TYPE_CHECKING:
    from skillpm.semver import Range, Version


class RootPackage:
    """The sentinel standing for the project being solved; never a real name."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<root>"


ROOT = RootPackage()


# -- causes ---------------------------------------------------------------------


class Cause:
    """Why an incompatibility holds."""


@dataclass(frozen=True, eq=False)
class RootCause(Cause):
    """{not root}: the project itself must be selected."""


@dataclass(frozen=True, eq=False)
class DependencyCause(Cause):
    """{p R, not q S}: versions R of p depend on q S. terms[0] is p, terms[1] is q."""

    depender: Hashable
    dependee: Hashable


@dataclass(frozen=True, eq=False)
class EmptyDependencyCause(Cause):
    """{p R}: versions R of p depend on q at a range that allows no version at all."""

    dependee: Hashable
    range: Range


@dataclass(frozen=True, eq=False)
class SelfDependencyCause(Cause):
    """{p V}: version V of p depends on p at a range that excludes V."""

    range: Range


@dataclass(frozen=True, eq=False)
class NoVersionsCause(Cause):
    """{p R}: no selectable version of p lies in R."""

    yanked: tuple[Version, ...] = ()


@dataclass(frozen=True, eq=False)
class NotFoundCause(Cause):
    """{p any}: the provider says p doesn't exist."""

    message: str = ""


@dataclass(frozen=True, eq=False)
class ConflictCause(Cause):
    """Derived by resolving `conflict` with `other` (a satisfier's cause)."""

    conflict: Incompatibility
    other: Incompatibility


# -- incompatibility --------------------------------------------------------------


class Incompatibility:
    """A set of terms, at most one per package, that cannot all hold."""

    __slots__ = ("terms", "cause")

    def __init__(self, terms: list[Term], cause: Cause) -> None:
        merged: dict[Hashable, Term] = {}
        for term in terms:
            seen = merged.get(term.package)
            merged[term.package] = term if seen is None else seen.intersect(term)
        if isinstance(cause, ConflictCause) and len(merged) > 1:
            # A positive root term is always true: it adds nothing to a derived
            # incompatibility with other terms.
            root = merged.get(ROOT)
            if root is not None and root.positive:
                del merged[ROOT]
        self.terms: tuple[Term, ...] = tuple(merged.values())
        self.cause = cause

    def is_failure(self) -> bool:
        """True when this says the root can't be selected: version solving failed."""
        if not self.terms:
            return True
        return len(self.terms) == 1 and self.terms[0].positive and self.terms[0].package is ROOT

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(t) for t in self.terms) + "}"


def dependency(depender: Hashable, depender_range: Range, dependee: Hashable, dependee_range: Range) -> Incompatibility:
    """{depender R, not dependee S}.

    "not q <empty>" is always true, so a dependency on an empty range (">2 <1")
    is the one-term {depender R}: those versions can never be selected."""
    if dependee_range.is_empty():
        return Incompatibility([Term(depender, depender_range, True)], EmptyDependencyCause(dependee, dependee_range))
    return Incompatibility(
        [Term(depender, depender_range, True), Term(dependee, dependee_range, False)],
        DependencyCause(depender, dependee),
    )


def no_versions(term: Term, yanked: tuple[Version, ...] = ()) -> Incompatibility:
    return Incompatibility([term], NoVersionsCause(yanked))


def not_found(package: Hashable, any_range: Range, message: str = "") -> Incompatibility:
    return Incompatibility([Term(package, any_range, True)], NotFoundCause(message))
