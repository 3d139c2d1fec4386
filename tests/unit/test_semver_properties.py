"""Property tests: Range is an exact set algebra that agrees with npm's satisfies().

Soundness of the grid checks.  Generated ranges only use versions whose numbers are
0..2 and whose prereleases are 1-2 identifiers from {0, 1, "a"}.  Desugaring and
normalization move bounds by at most one step (next patch/minor/major, the "-0"
prerelease of a tuple, or one appended ".0" identifier), so every endpoint of every
stored span is a version in GRID: numbers 0..3 and prereleases of 1-3 identifiers
from {0, 1, "a"}.  `_assert_endpoints_on_grid` checks that on every range built here.
A stored span [lo, hi) always contains lo, and the spans of a symmetric difference
start at endpoints of its operands (or the floors, also in GRID).  Hence: a range
is empty iff it allows no GRID version, and two ranges are equal iff they allow the
same GRID versions.

The npm reference check reads `desugar()`'s output, so it tests the set semantics, not the
desugaring itself; node's tables (test_semver_conformance.py) pin the desugaring.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.semver import Range, Version, _IntervalSet, desugar

SETTINGS = settings(max_examples=150, deadline=None)

IDENTIFIERS: tuple[int | str, ...] = (0, 1, "a")
GRID: tuple[Version, ...] = tuple(
    Version(major, minor, patch, prerelease)
    for major, minor, patch in itertools.product(range(4), repeat=3)
    for length in range(4)
    for prerelease in itertools.product(IDENTIFIERS, repeat=length)
)
GRID_SET = frozenset(GRID)


# ---------------------------------------------------------------------------- strategies

small = st.integers(min_value=0, max_value=2)
prerelease_ids = st.lists(st.sampled_from(IDENTIFIERS), min_size=1, max_size=2).map(tuple)


@st.composite
def versions(draw, max_number: int = 3, max_pre: int = 3) -> Version:
    numbers = st.integers(min_value=0, max_value=max_number)
    prerelease = draw(
        st.one_of(st.just(()), st.lists(st.sampled_from(IDENTIFIERS), min_size=1, max_size=max_pre).map(tuple))
    )
    build = draw(st.sampled_from([(), (), ("b",), ("b", "7")]))
    return Version(draw(numbers), draw(numbers), draw(numbers), prerelease, build)


generator_versions = versions(max_number=2, max_pre=2)


@st.composite
def partials(draw) -> str:
    """1, 1.2, 1.x, 1.2.3, 1.2.3-a.0 ..."""
    length = draw(st.integers(1, 3))
    # mostly full versions; wildcards only after the numbers, as npm requires
    numbers = draw(st.sampled_from([length] * 3 + list(range(length))))
    parts = [str(draw(small)) for _ in range(numbers)]
    parts += [draw(st.sampled_from(["x", "X", "*"])) for _ in range(length - numbers)]
    text = ".".join(parts)
    if len(parts) == 3 and all(p.isdigit() for p in parts) and draw(st.booleans()):
        text += "-" + ".".join(str(i) for i in draw(prerelease_ids))
    return text


@st.composite
def conjunctions(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return f"{draw(partials())} - {draw(partials())}"
    ops = st.sampled_from(["", "=", "<", "<=", ">", ">=", "^", "~", "~>"])
    comparators = [draw(ops) + draw(partials()) for _ in range(draw(st.integers(1, 3)))]
    joiner = draw(st.sampled_from([" ", " ", ", "]))
    return joiner.join(comparators)


range_texts = st.lists(conjunctions(), min_size=1, max_size=3).map(" || ".join)

leaves = st.one_of(
    range_texts.map(Range.parse),
    generator_versions.map(Range.exact),
    st.sampled_from([Range.any(), Range.empty(), Range.parse("*")]),
)
ranges = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0].intersect(ab[1])),
        st.tuples(children, children).map(lambda ab: ab[0].union(ab[1])),
        st.tuples(children, children).map(lambda ab: ab[0].difference(ab[1])),
        children.map(Range.complement),
    ),
    max_leaves=6,
)


# ---------------------------------------------------------------------------- helpers


def members(r: Range) -> tuple[bool, ...]:
    _assert_endpoints_on_grid(r)
    return tuple(r.allows(v) for v in GRID)


def _assert_endpoints_on_grid(r: Range) -> None:
    for spans in (r._rel.spans, r._pre.spans):
        for lo, hi in spans:
            assert lo in GRID_SET, f"{lo} of {r!r} is off the grid; the grid checks would be unsound"
            assert hi is None or hi in GRID_SET, f"{hi} of {r!r} is off the grid"


def _assert_canonical(s: _IntervalSet, prerelease_kind: bool) -> None:
    previous_end: Version | None = None
    for index, (lo, hi) in enumerate(s.spans):
        assert lo >= s.floor
        assert lo.is_prerelease == prerelease_kind
        assert hi is None or (hi.is_prerelease == prerelease_kind and lo < hi)
        if index:
            assert previous_end is not None and previous_end < lo, "spans must be sorted, apart and merged"
        previous_end = hi
        if hi is None:
            assert index == len(s.spans) - 1


# ---------------------------------------------------------------------------- set algebra


@SETTINGS
@given(ranges, ranges, versions())
def test_operations_are_pointwise(a: Range, b: Range, v: Version) -> None:
    in_a, in_b = a.allows(v), b.allows(v)
    assert a.intersect(b).allows(v) == (in_a and in_b)
    assert a.union(b).allows(v) == (in_a or in_b)
    assert a.complement().allows(v) == (not in_a)
    assert a.difference(b).allows(v) == (in_a and not in_b)


@SETTINGS
@given(ranges, ranges)
def test_operations_are_pointwise_on_the_grid(a: Range, b: Range) -> None:
    in_a, in_b = members(a), members(b)
    assert members(a.intersect(b)) == tuple(x and y for x, y in zip(in_a, in_b))
    assert members(a.union(b)) == tuple(x or y for x, y in zip(in_a, in_b))
    assert members(a.complement()) == tuple(not x for x in in_a)
    assert members(a.difference(b)) == tuple(x and not y for x, y in zip(in_a, in_b))


@SETTINGS
@given(ranges, ranges)
def test_allows_all_and_allows_any_match_the_grid(a: Range, b: Range) -> None:
    in_a, in_b = members(a), members(b)
    assert a.allows_all(b) == all(x for x, y in zip(in_a, in_b) if y)
    assert a.allows_any(b) == any(x and y for x, y in zip(in_a, in_b))
    assert a.allows_all(a) and a.allows_all(Range.empty()) and Range.any().allows_all(a)


@SETTINGS
@given(ranges, ranges)
def test_de_morgan_and_complement_laws(a: Range, b: Range) -> None:
    assert a.union(b).complement() == a.complement().intersect(b.complement())
    assert a.intersect(b).complement() == a.complement().union(b.complement())
    assert a.complement().complement() == a
    assert a.difference(b) == a.intersect(b.complement())
    assert a.union(a.complement()).is_any()
    assert a.intersect(a.complement()).is_empty()
    assert a.intersect(b) == b.intersect(a) and a.union(b) == b.union(a)


@SETTINGS
@given(ranges)
def test_is_empty_and_is_any_are_exact(r: Range) -> None:
    in_r = members(r)
    assert r.is_empty() == (not any(in_r))
    assert r.is_any() == all(in_r)


@SETTINGS
@given(ranges, ranges)
def test_equality_is_same_membership(a: Range, b: Range) -> None:
    same = members(a) == members(b)
    assert (a == b) == same
    if same:
        assert hash(a) == hash(b)


@SETTINGS
@given(ranges)
def test_representation_is_canonical_and_normalization_idempotent(r: Range) -> None:
    _assert_canonical(r._rel, prerelease_kind=False)
    _assert_canonical(r._pre, prerelease_kind=True)
    for s in (r._rel, r._pre):
        again = _IntervalSet(s.floor, s.spans)
        assert again == s and again.spans == s.spans
    assert r.union(Range.empty()) == r and r.intersect(Range.any()) == r


@SETTINGS
@given(ranges)
def test_computed_comparator_string_reparses_to_the_same_set(r: Range) -> None:
    rebuilt = Range(r._rel, r._pre)  # drop any parsed text: exercise the renderer
    try:
        text = rebuilt.to_comparator_string()
    except ValueError:
        # npm cannot express prereleases across several tuples, nor "* || <prerelease>"
        assert any(hi is None or hi > Version(lo.major, lo.minor, lo.patch + 1, (0,)) for lo, hi in r._pre.spans) or (
            r._rel.is_everything() and r._pre.spans
        )
        return
    assert Range.parse(text) == r
    assert str(rebuilt)  # always renders something readable


# ---------------------------------------------------------------------------- npm semantics


_COMPARATOR = re.compile(r"(<=|>=|<|>)?(.*)")


def npm_satisfies(comparator_string: str):
    """node-semver's Range.test/testSet, transcribed, over a desugared comparator string."""
    alternatives = []
    for alternative in comparator_string.split("||"):
        comparators = []
        for text in alternative.split(" "):
            if text in ("", "*"):
                continue  # node's ANY comparator: passes everything, names no tuple
            match = _COMPARATOR.fullmatch(text)
            assert match
            comparators.append((match[1] or "", Version.parse(match[2])))
        alternatives.append(comparators)

    def test(v: Version) -> bool:
        for comparators in alternatives:
            if not all(_compare(v, op, bound) for op, bound in comparators):
                continue
            if not v.is_prerelease:
                return True
            if any(b.is_prerelease and b.release_tuple == v.release_tuple for _, b in comparators):
                return True
        return False

    return test


def _compare(v: Version, op: str, bound: Version) -> bool:
    return {"": v == bound, "<": v < bound, "<=": v <= bound, ">": v > bound, ">=": v >= bound}[op]


@SETTINGS
@given(range_texts)
def test_parsed_ranges_match_npm_satisfies_on_the_grid(text: str) -> None:
    r = Range.parse(text)
    comparators = desugar(text)
    satisfies = npm_satisfies(comparators)
    for v in GRID:
        assert r.allows(v) == satisfies(v), (text, comparators, str(v))
    assert str(r) == " ".join(text.split())
    assert Range.parse(comparators) == r


# ---------------------------------------------------------------------------- versions


def _spec_compare(a: Version, b: Version) -> int:
    """SemVer 2.0.0 §11, written out independently of Version's sort key."""
    if a.release_tuple != b.release_tuple:
        return -1 if a.release_tuple < b.release_tuple else 1
    if not a.prerelease or not b.prerelease:
        return (not a.prerelease) - (not b.prerelease)
    for x, y in zip(a.prerelease, b.prerelease):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int) != isinstance(y, int):
            return -1 if isinstance(x, int) else 1
        return -1 if str(x) < str(y) else 1
    return (len(a.prerelease) > len(b.prerelease)) - (len(a.prerelease) < len(b.prerelease))


@SETTINGS
@given(versions(), versions())
def test_version_order_follows_the_spec(a: Version, b: Version) -> None:
    expected = _spec_compare(a, b)
    assert (a < b, a == b, a > b) == (expected < 0, expected == 0, expected > 0)
    assert (a <= b) == (expected <= 0) and (a >= b) == (expected >= 0)
    if a == b:
        assert hash(a) == hash(b)


@SETTINGS
@given(versions())
def test_version_text_round_trip(v: Version) -> None:
    again = Version.parse(str(v))
    assert again == v and again.build == v.build and str(again) == str(v)
    assert Range.exact(v).allows(v)
    assert Range.exact(v) == Range.parse(str(v))
