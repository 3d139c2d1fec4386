"""Table tests for skillpm.semver: versions, ranges, set algebra, messages, rendering."""

from __future__ import annotations

import pytest

from skillpm.errors import SkillpmError
from skillpm.semver import InvalidRange, InvalidVersion, Range, Version, desugar

V = Version.parse
R = Range.parse


# ---------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("text", "fields", "canonical"),
    [
        ("1.2.3", (1, 2, 3, (), ()), "1.2.3"),
        ("0.0.0", (0, 0, 0, (), ()), "0.0.0"),
        ("v1.2.3", (1, 2, 3, (), ()), "1.2.3"),
        ("  1.2.3\n", (1, 2, 3, (), ()), "1.2.3"),
        ("1.2.3-alpha.1", (1, 2, 3, ("alpha", 1), ()), "1.2.3-alpha.1"),
        ("1.2.3-0.3.7", (1, 2, 3, (0, 3, 7), ()), "1.2.3-0.3.7"),
        ("1.2.3-x-y-z.--", (1, 2, 3, ("x-y-z", "--"), ()), "1.2.3-x-y-z.--"),
        ("1.2.3-1a", (1, 2, 3, ("1a",), ()), "1.2.3-1a"),
        ("1.2.3+build.5", (1, 2, 3, (), ("build", "5")), "1.2.3+build.5"),
        ("1.2.3+001", (1, 2, 3, (), ("001",)), "1.2.3+001"),
        ("1.2.3-alpha.1+build.5", (1, 2, 3, ("alpha", 1), ("build", "5")), "1.2.3-alpha.1+build.5"),
        ("9007199254740991.0.0", (2**53 - 1, 0, 0, (), ()), "9007199254740991.0.0"),
    ],
)
def test_version_parse(text: str, fields: tuple, canonical: str) -> None:
    v = V(text)
    assert (v.major, v.minor, v.patch, v.prerelease, v.build) == fields
    assert str(v) == canonical
    assert V(str(v)) == v


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.2", 'invalid version "1.2": expected MAJOR.MINOR.PATCH like 1.2.0'),
        ("1", 'invalid version "1": expected MAJOR.MINOR.PATCH like 1.0.0'),
        ("01.2.3", 'invalid version "01.2.3": numbers must not have leading zeros (1.2.3, not 01.02.03)'),
        ("1.2.3-01", None),
        ("1.2.3-", None),
        ("1.2.3-a..b", None),
        ("1.2.3+", None),
        ("1.2.3+a..b", None),
        ("V1.2.3", None),
        ("=1.2.3", 'invalid version "=1.2.3": a version has no operator; operators belong in ranges'),
        ("1.2.3beta", None),
        ("1.2.3.4", None),
        ("", None),
        ("1.2.٣", None),  # a non-ASCII digit
        ("9007199254740992.0.0", 'invalid version "9007199254740992.0.0": 9007199254740992 is larger '
         "than the largest supported number 9007199254740991"),
        ("1.0.0-" + "a" * 251, None),  # 257 characters
        (None, "invalid version None: expected a string like 1.2.3"),
        (123, "invalid version 123: expected a string like 1.2.3"),
    ],
)
def test_version_parse_errors(text: object, message: str | None) -> None:
    with pytest.raises(InvalidVersion) as caught:
        V(text)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, SkillpmError) and isinstance(error, ValueError)
    assert "\n" not in str(error)
    if message is not None:
        assert str(error) == message


def test_version_length_limit_is_256() -> None:
    assert str(V("1.0.0-" + "a" * 250)) == "1.0.0-" + "a" * 250
    with pytest.raises(InvalidVersion, match="longer than 256 characters"):
        V("1.0.0-" + "a" * 251)


# SemVer 2.0.0 §11: each entry is smaller than the next.
PRECEDENCE_CHAIN = [
    "0.0.0-0",
    "0.0.0",
    "0.9.9",
    "1.0.0-0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1-0",
    "1.0.1",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "10.0.0",
]


@pytest.mark.parametrize("i", range(len(PRECEDENCE_CHAIN) - 1))
def test_precedence_chain(i: int) -> None:
    lower, upper = V(PRECEDENCE_CHAIN[i]), V(PRECEDENCE_CHAIN[i + 1])
    assert lower < upper and upper > lower and lower <= upper and lower != upper
    assert not upper < lower


def test_precedence_sorts_whole_chain() -> None:
    shuffled = [V(t) for t in reversed(PRECEDENCE_CHAIN)]
    assert [str(v) for v in sorted(shuffled)] == PRECEDENCE_CHAIN


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0.0+a", "1.0.0"), ("1.0.0+a", "1.0.0+b"), ("1.0.0-rc.1+x.y", "1.0.0-rc.1"), ("v1.0.0+1", "1.0.0+2")],
)
def test_build_metadata_ignored(a: str, b: str) -> None:
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))
    assert not V(a) < V(b) and not V(b) < V(a)
    assert len({V(a), V(b)}) == 1
    assert R(b).allows(V(a)) and Range.exact(V(a)).allows(V(b))


def test_version_helpers() -> None:
    v = V("1.2.3-rc.1+b")
    assert v.is_prerelease and not V("1.2.3").is_prerelease
    assert v.release_tuple == (1, 2, 3)
    assert (v.next_patch(), v.next_minor(), v.next_major()) == (V("1.2.4"), V("1.3.0"), V("2.0.0"))
    assert repr(v) == "Version('1.2.3-rc.1+b')"


def test_version_constructor_normalizes_and_validates() -> None:
    assert Version(1, 2, 3, ["alpha", "7"]) == V("1.2.3-alpha.7")  # type: ignore[arg-type]
    assert Version(1, 2, 3, ("alpha", "7")).prerelease == ("alpha", 7)
    for bad in [(-1, 0, 0), (1, True, 0), (1, 0, "3")]:
        with pytest.raises(InvalidVersion):
            Version(*bad)  # type: ignore[arg-type]
    for prerelease in [("",), ("01",), ("a.b",), (-1,)]:
        with pytest.raises(InvalidVersion):
            Version(1, 0, 0, prerelease)
    with pytest.raises(InvalidVersion):
        Version(1, 0, 0, (), ("bad+",))
    with pytest.raises(AttributeError):
        V("1.2.3").major = 2  # type: ignore[misc]


def test_version_compares_only_with_versions() -> None:
    assert V("1.0.0") != "1.0.0"
    with pytest.raises(TypeError):
        V("1.0.0") < "2.0.0"  # type: ignore[operator]


# ---------------------------------------------------------------------------- desugaring


@pytest.mark.parametrize(
    ("text", "comparators"),
    [
        ("^1.2.3", ">=1.2.3 <2.0.0-0"),
        ("^0.2.3", ">=0.2.3 <0.3.0-0"),
        ("^0.0.3", ">=0.0.3 <0.0.4-0"),
        ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
        ("^0", "<1.0.0-0"),
        ("~1.2.3", ">=1.2.3 <1.3.0-0"),
        ("~1.2", ">=1.2.0 <1.3.0-0"),
        ("~1", ">=1.0.0 <2.0.0-0"),
        ("~>1.2.3", ">=1.2.3 <1.3.0-0"),
        ("1.x", ">=1.0.0 <2.0.0-0"),
        ("1.2.X", ">=1.2.0 <1.3.0-0"),
        ("*", "*"),
        ("", "*"),
        ("1", ">=1.0.0 <2.0.0-0"),
        ("1.2", ">=1.2.0 <1.3.0-0"),
        ("1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        (">1.2", ">=1.3.0"),
        ("<=1.2", "<1.3.0-0"),
        ("1 - 2", ">=1.0.0 <3.0.0-0"),
        ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
        ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
        (">=1.0.0 <2.0.0 || >=3", ">=1.0.0 <2.0.0||>=3.0.0"),
        ("^1.2.3+build", ">=1.2.3 <2.0.0-0"),
        # Cargo: a comma is AND
        (">=1.0, <2.0", ">=1.0.0 <2.0.0-0"),
        (">=1.0,<2.0", ">=1.0.0 <2.0.0-0"),
        ("^1.2, <1.5", ">=1.2.0 <2.0.0-0 <1.5.0-0"),
        ("1 - 2, <1.5 || 3", ">=1.0.0 <3.0.0-0 <1.5.0-0||>=3.0.0 <4.0.0-0"),
        (">=1.0.0, >=1.0.0", ">=1.0.0"),
    ],
)
def test_desugar(text: str, comparators: str) -> None:
    assert desugar(text) == comparators
    assert R(text).to_comparator_string() == comparators


# ---------------------------------------------------------------------------- membership


@pytest.mark.parametrize(
    ("text", "yes", "no"),
    [
        ("^1.2.3", ["1.2.3", "1.9.9", "1.2.3+b"], ["1.2.2", "2.0.0", "2.0.0-0", "1.5.0-beta", "1.2.3-beta"]),
        ("^1.2.3-beta.2", ["1.2.3-beta.2", "1.2.3-beta.10", "1.2.3", "1.4.0"], ["1.2.3-beta.1", "1.2.4-beta"]),
        ("*", ["0.0.0", "99.0.0"], ["1.0.0-0"]),
        (">=1.0, <2.0", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.0", "1.5.0-rc.1"]),
        (">=1.0.0-rc.1, <2.0", ["1.0.0-rc.2", "1.5.0"], ["1.0.1-rc.1", "2.0.0-rc.1"]),
        ("1.0.0-rc.1 || 2.x", ["1.0.0-rc.1", "2.5.0"], ["1.0.0-rc.2", "1.0.0"]),
    ],
)
def test_allows(text: str, yes: list[str], no: list[str]) -> None:
    r = R(text)
    for t in yes:
        assert r.allows(V(t)), t
        assert V(t) in r
    for t in no:
        assert not r.allows(V(t)), t


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (">=1.2.3 <", '"<" is not a version or comparator'),
        ("1.x.5", '"1.x.5" is not a version or comparator'),
        ("^01.2.3", '"^01.2.3" is not a version or comparator'),
        ("blerg", '"blerg" is not a version or comparator'),
        ("^9007199254740991.0.0", "9007199254740992.0.0-0 has a number larger than 9007199254740991"),
        (">=1.0,", '"," must separate two comparators'),
        (", <2", '"," must separate two comparators'),
        (">=1.0,, <2", '"," must separate two comparators'),
    ],
)
def test_range_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidRange) as caught:
        R(text)
    message = str(caught.value)
    assert message.startswith(f'invalid range "{text}": ')
    assert fragment in message
    assert message.endswith("(accepted: ^1.2.3, ~1.2, 1.x, >=1.0.0 <2.0.0, 1.0.0 - 2.0.0, a || b, >=1.0, <2.0)")
    assert "\n" not in message
    assert isinstance(caught.value, SkillpmError) and isinstance(caught.value, ValueError)


def test_range_rejects_non_strings() -> None:
    with pytest.raises(InvalidRange, match="expected a string"):
        R(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- special sets


def test_any_empty_exact() -> None:
    anything, nothing = Range.any(), Range.empty()
    assert anything.is_any() and not anything.is_empty()
    assert nothing.is_empty() and not nothing.is_any()
    assert anything.complement() == nothing and nothing.complement() == anything
    for t in ["0.0.0-0", "0.0.0", "1.0.0-rc.1", "3.2.1"]:
        assert anything.allows(V(t)) and not nothing.allows(V(t))

    # npm's "*" is every release but no prerelease: a different set from any()
    star = R("*")
    assert star != anything and not star.is_any()
    assert star.allows(V("1.0.0")) and not star.allows(V("1.0.0-rc.1"))
    assert anything.allows_all(star) and not star.allows_all(anything)

    for t in ["1.2.3", "1.2.3-rc.1", "0.0.0-0"]:
        exact = Range.exact(V(t))
        assert exact.allows(V(t))
        assert str(exact) == t
        assert exact == R(t)  # npm's bare version means the same set
    exact = Range.exact(V("1.2.3"))
    for t in ["1.2.2", "1.2.4", "1.2.3-rc.1", "1.2.4-0"]:
        assert not exact.allows(V(t))
    assert Range.exact(V("1.2.3+b")) == Range.exact(V("1.2.3"))
    assert str(Range.exact(V("1.2.3+b"))) == "1.2.3"
    assert not Range.exact(V("1.2.3-rc.1")).allows(V("1.2.3-rc.1.0"))


def test_null_set_parses_empty() -> None:
    assert R("<0.0.0-0").is_empty()
    assert R(">x").is_empty()
    assert R(">=2.0.0 <1.0.0").is_empty()
    assert R(">1.0.0 <1.0.1").is_empty()
    assert R(">1.0.0 <1.0.1-0").is_empty()  # no version lies between 1.0.0 and 1.0.1-0
    assert R(">=1.0.0-rc.1 <1.0.0-rc.1").is_empty()
    assert not R(">=1.0.0-rc.1 <=1.0.0-rc.1").is_empty()


# ---------------------------------------------------------------------------- set algebra


def test_set_algebra_examples() -> None:
    caret1 = R("^1.0.0")
    assert caret1.intersect(R(">=1.5.0")) == R(">=1.5.0 <2.0.0")
    assert caret1.union(R("^2.0.0")) == R(">=1.0.0 <3.0.0")
    assert caret1.difference(R("1.5.x")) == R(">=1.0.0 <1.5.0 || >=1.6.0 <2.0.0")
    assert caret1.intersect(R("^2.0.0")).is_empty()
    assert caret1.allows_all(R("~1.2.3")) and not R("~1.2.3").allows_all(caret1)
    assert caret1.allows_any(R(">=1.9.9")) and not caret1.allows_any(R(">=2"))
    assert R("1.x || 3.x").complement() == R("<1.0.0 || >=2.0.0 <3.0.0 || >=4.0.0").union(
        Range.any().difference(R("*"))
    )
    # prereleases follow npm's rule inside each parsed range
    with_pre = R(">=1.0.0-rc.1 <2.0.0")
    assert with_pre.intersect(R("^1.0.0")) == R(">=1.0.0 <2.0.0")
    assert with_pre.difference(R("^1.0.0")) == R(">=1.0.0-rc.1 <1.0.0")


def test_equality_is_by_set_not_text() -> None:
    assert R("^1.2") == R(">=1.2.0 <2.0.0-0") == R(">=1.2, <2") == R("1.2 - 1") == R("1.2.x || >=1.3 <2")
    assert hash(R("^1.2")) == hash(R(">=1.2, <2"))
    assert R(">=1.0.0 <2.0.0") == R(">=1.0.0 <2.0.0-0")  # no prerelease of 2.0.0 is reachable
    assert R(">1.2.3") == R(">=1.2.4")
    assert R("<=1.2.3") == R("<1.2.4")
    assert R("^1.2") != R("^1.3")
    assert R("1.2.3") != "1.2.3"


def test_ops_keep_operand_identity_when_result_equals_it() -> None:
    caret = R("^1.0.0")
    assert caret.intersect(R("*")) is caret
    assert caret.union(R("^1.2.0")) is caret
    assert R("^1.2.0").intersect(caret).__str__() == "^1.2.0"
    assert caret.difference(R("^3")) is caret


# ---------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("text", "shown"),
    [("^1.0.0", "^1.0.0"), ("  >=1.0,   <2.0 ", ">=1.0, <2.0"), (">= 1.2\t<2", ">= 1.2 <2"), ("", "*")],
)
def test_str_of_parsed_range_is_user_text(text: str, shown: str) -> None:
    assert str(R(text)) == shown
    assert repr(R(text)) == f"Range.parse({shown!r})"


@pytest.mark.parametrize(
    ("build", "shown"),
    [
        (lambda: Range.any(), "any"),
        (lambda: Range.empty(), "<empty>"),
        (lambda: R("^1.0.0").intersect(R("^2.0.0")), "<empty>"),
        (lambda: R(">=1.0.0").intersect(R("<2.0.0")), ">=1.0.0 <2.0.0"),
        (lambda: R("1.x").intersect(R(">=1.5")), ">=1.5.0 <2.0.0"),
        (lambda: R("^1").union(R("^3")), ">=1.0.0 <2.0.0 || >=3.0.0 <4.0.0"),
        (lambda: R("^1").complement().intersect(R("*")), "<1.0.0 || >=2.0.0"),
        (lambda: R("*").difference(R("1.2.3")), "<1.2.3 || >=1.2.4"),
        (lambda: R("1.2.3 || 1.2.4").union(R("1.2.5")), ">=1.2.3 <1.2.6"),
        (lambda: R("1.2.3 || 2.0.0").intersect(R(">=1")), "1.2.3 || 2.0.0"),
        (lambda: R(">=1.0.0-rc.1 <2").difference(R("*")), ">=1.0.0-rc.1 <1.0.0"),
        (lambda: Range.exact(V("1.0.0-rc.1")).union(Range.exact(V("1.0.0-rc.2"))), "1.0.0-rc.1 || 1.0.0-rc.2"),
        (lambda: R("*").complement(), "any prerelease"),
        (lambda: R("^1").complement(), "<1.0.0 || >=2.0.0 || any prerelease"),
        (lambda: Range.any().difference(Range.exact(V("1.0.0-rc.1"))),
         "* || prerelease <1.0.0-rc.1 || prerelease >1.0.0-rc.1"),
    ],
)
def test_str_of_computed_range(build, shown: str) -> None:
    assert str(build()) == shown


@pytest.mark.parametrize(
    "build",
    [
        lambda: R(">=1.0.0").intersect(R("<2.0.0")),
        lambda: R("^1").union(R("^3")),
        lambda: R("*").difference(R("1.2.3")),
        lambda: R(">=1.0.0-rc.1 <2").difference(R("*")),
        lambda: R(">=1.0.0-rc.1 <2").difference(R("1.0.0-rc.5")),
        lambda: Range.exact(V("1.0.0-rc.1")).union(Range.exact(V("3.0.0"))),
        lambda: Range.empty(),
    ],
)
def test_comparator_string_of_computed_range_reparses_to_same_set(build) -> None:
    r = build()
    assert R(r.to_comparator_string()) == r


@pytest.mark.parametrize(
    "build",
    [lambda: Range.any(), lambda: R("*").complement(), lambda: R("*").union(Range.exact(V("1.0.0-rc.1")))],
)
def test_comparator_string_refuses_sets_npm_cannot_express(build) -> None:
    with pytest.raises(ValueError, match="npm range syntax cannot express"):
        build().to_comparator_string()
