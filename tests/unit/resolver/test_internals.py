"""Unit tests for the solver's building blocks and its contract details."""

from __future__ import annotations

import pytest

from skillpm.resolver import Resolution, SolveFailure, SolveStats, solve
from skillpm.resolver.dependencies import run_range
from skillpm.resolver.incompatibility import ROOT, ConflictCause, Incompatibility, RootCause, dependency
from skillpm.resolver.term import Relation, Term
from skillpm.semver import Range, Version

from .conftest import MemoryProvider, ranges


def R(text: str) -> Range:
    return Range.parse(text)


def V(text: str) -> Version:
    return Version.parse(text)


# ---- terms -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "asked", "relation"),
    [
        (Term("foo", R(">=1.0.0 <2.0.0")), Term("foo", R("^1.0.0")), Relation.SATISFIED),
        (Term("foo", R("^1.5.0")), Term("foo", R("^1.0.0"), False), Relation.CONTRADICTED),
        (Term("foo", R("^1.0.0")), Term("foo", R("^1.5.0")), Relation.INCONCLUSIVE),
        (Term("foo", R("^2.0.0")), Term("foo", R("^1.0.0"), False), Relation.SATISFIED),
        (Term("foo", R("^1.0.0"), False), Term("foo", R("^1.5.0"), False), Relation.SATISFIED),
        (Term("foo", R("^1.5.0"), False), Term("foo", R("^1.0.0"), False), Relation.INCONCLUSIVE),
        (Term("foo", R("^1.0.0"), False), Term("foo", R("^1.2.0")), Relation.CONTRADICTED),
        (Term("foo", R("^1.0.0"), False), Term("foo", R("^2.0.0")), Relation.INCONCLUSIVE),
    ],
)
def test_term_relation(known: Term, asked: Term, relation: Relation) -> None:
    assert known.relation(asked) is relation


def test_term_set_operations() -> None:
    both = Term("foo", R(">=1.0.0")).intersect(Term("foo", R(">=2.0.0"), False))
    assert both.positive and both.range == R("^1.0.0")
    neither = Term("foo", R("^1.0.0"), False).intersect(Term("foo", R("^2.0.0"), False))
    assert not neither.positive and neither.range == R(">=1.0.0 <3.0.0")
    assert Term("foo", R("^1.0.0")).difference(Term("foo", R("^1.5.0"))).range == R(">=1.0.0 <1.5.0")
    assert Term("foo", R("^1.0.0")).difference(Term("foo", R("*"))).is_empty()
    assert not Term("foo", Range.empty(), False).is_empty()


def test_term_fast_paths_agree_with_the_algebra() -> None:
    for v in ["0.9.0", "1.0.0", "1.5.0-beta", "2.0.0"]:
        decided = Term("foo", Range.exact(V(v)))
        for text in ["^1.0.0", "*", ">=1.5.0-beta <2.0.0"]:
            for positive in (True, False):
                asked = Term("foo", R(text), positive)
                assert Term.relation_to_version(V(v), asked) is decided.relation(asked)


# ---- incompatibilities ---------------------------------------------------------------


def test_incompatibility_merges_terms_per_package() -> None:
    i = Incompatibility([Term("foo", R(">=1.0.0")), Term("foo", R("<2.0.0"))], RootCause())
    assert len(i.terms) == 1 and i.terms[0].range == R(">=1.0.0 <2.0.0")


def test_derived_incompatibility_drops_positive_root_term() -> None:
    a = dependency(ROOT, Range.any(), "foo", R("^1.0.0"))
    derived = Incompatibility([Term(ROOT, Range.any()), Term("foo", R("^2.0.0"))], ConflictCause(a, a))
    assert [t.package for t in derived.terms] == ["foo"]
    failure = Incompatibility([Term(ROOT, Range.any())], ConflictCause(a, a))
    assert failure.is_failure()
    external = Incompatibility([Term(ROOT, Range.any()), Term("foo", R("^2.0.0"))], RootCause())
    assert len(external.terms) == 2


# ---- runs of versions ------------------------------------------------------------------


def test_run_range_uses_pub_bounds() -> None:
    vs = [V(v) for v in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]]
    assert str(run_range(vs, 0, 3)) == "any"
    assert str(run_range(vs, 0, 1)) == "<1.2.0"
    assert str(run_range(vs, 2, 3)) == ">=1.2.0"
    assert str(run_range(vs, 1, 2)) == ">=1.1.0 <2.0.0"


def test_run_range_covers_prereleases_in_the_run_and_nothing_else() -> None:
    vs = [V(v) for v in ["1.0.0", "1.1.0-beta.1", "1.1.0", "1.2.0-rc.1", "2.0.0"]]
    for lo in range(len(vs)):
        for hi in range(lo, len(vs)):
            rng = run_range(vs, lo, hi)
            assert [rng.allows(v) for v in vs] == [lo <= i <= hi for i in range(len(vs))], (lo, hi, rng)


# ---- contract details ----------------------------------------------------------------------


def test_resolution_reports_dependencies_and_stats() -> None:
    provider = MemoryProvider({"a": {"1.0.0": {"b": "^1.0.0"}}, "b": {"1.0.0": {}, "1.1.0": {}}})
    result = solve(ranges({"a": "*"}), provider)
    assert isinstance(result, Resolution)
    assert result.versions == {"a": V("1.0.0"), "b": V("1.1.0")}
    assert result.dependencies == {"a": {"b": R("^1.0.0")}, "b": {}}
    assert result.root_dependencies == {"a": R("*")}
    assert isinstance(result.stats, SolveStats)
    assert result.stats.decisions == 3  # the root, a, b
    assert result.stats.conflicts == 0
    assert result.stats.provider_calls == result.stats.versions_calls + result.stats.dependencies_calls == 4
    assert result.stats.seconds >= 0


def test_lazy_without_conflicts_asks_only_about_chosen_versions() -> None:
    provider = MemoryProvider(
        {
            "a": {f"1.{i}.0": {"b": "^1.0.0"} for i in range(10)},
            "b": {f"1.{i}.0": {} for i in range(10)},
            "unrelated": {"1.0.0": {}},
        }
    )
    result = solve(ranges({"a": "*"}), provider)
    assert set(provider.version_calls) == {"a", "b"}
    assert set(provider.dependency_calls) == {("a", V("1.9.0")), ("b", V("1.9.0"))}
    assert result.stats.dependencies_calls == 2


def test_widening_asks_neighbours_only_after_a_package_is_backtracked() -> None:
    # a's newest needs the impossible; a's other versions are asked about once
    # (to widen the run), and the solver never walks them one conflict at a time.
    universe = {"a": {f"1.{i}.0": {"b": "^1.0.0"} for i in range(20)}, "b": {"1.0.0": {}}}
    universe["a"]["1.19.0"] = {"b": "^2.0.0"}
    provider = MemoryProvider(universe)
    result = solve(ranges({"a": "*"}), provider)
    assert str(result.versions["a"]) == "1.18.0"
    assert result.stats.decisions <= 4


def test_provider_errors_propagate_unchanged() -> None:
    class Boom(Exception):
        pass

    class Failing(MemoryProvider):
        def dependencies(self, package, version):
            if package == "b":
                raise Boom("b is required from two different sources")
            return super().dependencies(package, version)

    provider = Failing({"a": {"1.0.0": {"b": "*"}}, "b": {"1.0.0": {}}})
    with pytest.raises(Boom, match="two different sources"):
        solve(ranges({"a": "*"}), provider)


def test_failure_carries_the_derivation_root() -> None:
    provider = MemoryProvider({"a": {"1.0.0": {"b": "^2.0.0"}}, "b": {"1.0.0": {}}})
    with pytest.raises(SolveFailure) as info:
        solve(ranges({"a": "*"}), provider, root_name="skills.toml")
    failure = info.value
    assert failure.incompatibility.is_failure()
    assert isinstance(failure.incompatibility.cause, ConflictCause)
    assert failure.explanation == (
        "Because every version of a depends on b ^2.0.0 and no versions of b match ^2.0.0, a is forbidden.\n"
        "So, because skills.toml depends on a, version solving failed."
    )


def test_unrequested_prerelease_in_a_computed_range_is_tried_last() -> None:
    # A term built by conflict resolution can be a complement, which contains
    # prereleases no declared range asked for: versions a requirement allows
    # come first, newest first; the stray prerelease only when nothing else is left.
    from skillpm.resolver.solver import VersionSolver

    provider = MemoryProvider({"foo": {"1.0.0": {}, "1.1.0": {}, "1.5.0-beta": {}}})
    solver = VersionSolver({}, provider)
    computed = Term("foo", R("<1.0.0").complement())  # >=1.0.0 plus every prerelease
    assert computed.range.allows(V("1.5.0-beta"))
    solver._asked["foo"] = [R("^1.0.0")]
    assert solver._pick("foo", computed) == V("1.1.0")
    only_beta = Term("foo", R("<1.2.0").complement())
    assert solver._pick("foo", only_beta) == V("1.5.0-beta")
    solver._asked["foo"].append(R("^1.5.0-beta"))
    assert solver._pick("foo", computed) == V("1.5.0-beta")
