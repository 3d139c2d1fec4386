"""Terms: a statement about one package that a selection makes true or false.

`Term(p, R, positive=True)` reads "p is selected, at a version in R".
`Term(p, R, positive=False)` reads "p is not selected at a version in R" —
true when p is absent or selected outside R.

Viewed as sets over {absent} ∪ versions, a positive term is R and a negative
term is {absent} ∪ complement(R). Everything below is that set algebra, using
the exact range algebra of `skillpm.semver.Range` for R.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Hashable

if TYPE_CHECKING:
    from skillpm.semver import Range, Version


class Relation(Enum):
    """How a term S (what we know) relates to a term t (what is asked)."""

    SATISFIED = "satisfied"  # S ⊆ t: t must be true
    CONTRADICTED = "contradicted"  # S ∩ t = ∅: t must be false
    INCONCLUSIVE = "inconclusive"  # neither


class Term:
    __slots__ = ("package", "range", "positive")

    def __init__(self, package: Hashable, range: Range, positive: bool = True) -> None:
        self.package = package
        self.range = range
        self.positive = positive

    # -- construction -------------------------------------------------------

    def inverse(self) -> Term:
        return Term(self.package, self.range, not self.positive)

    def intersect(self, other: Term) -> Term:
        """The term true exactly when both are (same package)."""
        assert other.package == self.package
        if self.positive and other.positive:
            return Term(self.package, self.range.intersect(other.range), True)
        if self.positive:
            return Term(self.package, self.range.difference(other.range), True)
        if other.positive:
            return Term(self.package, other.range.difference(self.range), True)
        return Term(self.package, self.range.union(other.range), False)

    def difference(self, other: Term) -> Term:
        """self ∩ not other."""
        return self.intersect(other.inverse())

    def is_empty(self) -> bool:
        """True when no selection makes the term true (a negative term never is)."""
        return self.positive and self.range.is_empty()

    # -- relations ----------------------------------------------------------

    def satisfies(self, other: Term) -> bool:
        """self ⊆ other: whenever self is true, other is."""
        if other.positive:
            return self.positive and other.range.allows_all(self.range)
        if self.positive:
            return not self.range.allows_any(other.range)
        return self.range.allows_all(other.range)

    def relation(self, other: Term) -> Relation:
        """Relation of `other` to what `self` (an accumulated term) says."""
        if self.positive:
            if other.positive:
                if not self.range.allows_any(other.range):
                    return Relation.CONTRADICTED
                if other.range.allows_all(self.range):
                    return Relation.SATISFIED
                return Relation.INCONCLUSIVE
            if other.range.allows_all(self.range):
                return Relation.CONTRADICTED
            if not self.range.allows_any(other.range):
                return Relation.SATISFIED
            return Relation.INCONCLUSIVE
        # self = absent ∪ not S
        if other.positive:
            # other ∩ self = other.R \ S; never a subset (self allows "absent")
            if self.range.allows_all(other.range):
                return Relation.CONTRADICTED
            return Relation.INCONCLUSIVE
        # both negative: both allow "absent", so never disjoint
        if self.range.allows_all(other.range):
            return Relation.SATISFIED
        return Relation.INCONCLUSIVE

    @staticmethod
    def relation_to_version(version: Version, other: Term) -> Relation:
        """Fast path: the package is decided at exactly `version`."""
        inside = other.range.allows(version)
        if inside == other.positive:
            return Relation.SATISFIED
        return Relation.CONTRADICTED

    @staticmethod
    def relation_to_nothing(other: Term) -> Relation:
        """Relation when nothing is known about the package (the universal set)."""
        if other.positive:
            return Relation.CONTRADICTED if other.range.is_empty() else Relation.INCONCLUSIVE
        return Relation.SATISFIED if other.range.is_empty() else Relation.INCONCLUSIVE

    def __repr__(self) -> str:
        return f"{'' if self.positive else 'not '}{self.package} {self.range}"
