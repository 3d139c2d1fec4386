"""skillpm.semver against node-semver's own fixture tables.

The tables are vendored in tests/conformance/semver/ with node-semver's ISC
license (see its README.md and LICENSE), so these tests run in every clone.
skillpm implements npm's default mode, so a row applies when its options are
missing, `false`, or an object with neither `loose` nor `includePrerelease`
truthy.  Rows for loose / includePrerelease mode are collected as skipped with
that reason, so the count of out-of-scope rows stays visible.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.semver import InvalidRange, InvalidVersion, Range, Version, desugar

FIXTURES = Path(__file__).resolve().parents[1] / "conformance" / "semver"

_MISSING = object()


def _applies(options: object) -> bool:
    """The README's rule: npm's default mode only.

    A `null` options argument is node-semver's default mode too (parseOptions(null)
    returns {}), so those rows apply.
    """
    if options is _MISSING or options is False or options is None:
        return True
    if isinstance(options, dict):
        return not options.get("loose") and not options.get("includePrerelease")
    return False


def _rows(name: str, options_at: int | None) -> list:
    """Every row of a table as pytest params; out-of-scope rows are marked skip."""
    rows = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    params = []
    for index, row in enumerate(rows):
        options = row[options_at] if options_at is not None and len(row) > options_at else _MISSING
        values = row[:options_at] if options_at is not None else row
        marks = []
        if not _applies(options):
            marks.append(pytest.mark.skip(reason=f"options {json.dumps(options)}: loose/includePrerelease mode is out of scope"))
        params.append(pytest.param(*values, marks=marks, id=f"{index}:{json.dumps(values)[:60]}"))
    return params


def _satisfies(range_text: object, version_text: object) -> bool:
    """npm's satisfies(): an invalid range or version satisfies nothing."""
    try:
        return Range.parse(range_text).allows(Version.parse(version_text))  # type: ignore[arg-type]
    except (InvalidRange, InvalidVersion):
        return False


@pytest.mark.parametrize(("range_text", "version_text"), _rows("range-include.json", 2))
def test_range_include(range_text: str, version_text: str) -> None:
    assert Range.parse(range_text).allows(Version.parse(version_text))


@pytest.mark.parametrize(("range_text", "version_text"), _rows("range-exclude.json", 2))
def test_range_exclude(range_text: object, version_text: object) -> None:
    assert not _satisfies(range_text, version_text)


@pytest.mark.parametrize(("range_text", "expected"), _rows("range-parse.json", 2))
def test_range_parse(range_text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InvalidRange):
            Range.parse(range_text)
        return
    assert desugar(range_text) == expected
    # node's own second check: the desugared text parses to the same thing
    assert Range.parse(range_text) == Range.parse(expected)
    assert desugar(expected) == expected


@pytest.mark.parametrize(("greater", "lesser"), _rows("comparisons.json", 2))
def test_comparisons(greater: str, lesser: str) -> None:
    a, b = Version.parse(greater), Version.parse(lesser)
    assert a > b and b < a and a >= b and b <= a
    assert a != b
    assert a == Version.parse(greater) and b == Version.parse(lesser)
    assert sorted([a, b]) == [b, a]


@pytest.mark.parametrize(("left", "right"), _rows("equality.json", 2))
def test_equality(left: str, right: str) -> None:
    a, b = Version.parse(left), Version.parse(right)
    assert a == b and not a < b and not b < a
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("text", "major", "minor", "patch", "prerelease", "build"), _rows("valid-versions.json", None)
)
def test_valid_versions(text: str, major: int, minor: int, patch: int, prerelease: list, build: list) -> None:
    v = Version.parse(text)
    assert (v.major, v.minor, v.patch) == (major, minor, patch)
    assert list(v.prerelease) == prerelease
    assert [type(ident) for ident in v.prerelease] == [type(ident) for ident in prerelease]
    assert list(v.build) == build


@pytest.mark.parametrize(("value", "reason"), _rows("invalid-versions.json", 2))
def test_invalid_versions(value: object, reason: str) -> None:
    with pytest.raises(InvalidVersion):
        Version.parse(value)  # type: ignore[arg-type]


def test_tables_are_not_empty() -> None:
    """Guard against a silently empty or renamed table."""
    for name in ("range-include", "range-exclude", "range-parse", "comparisons",
                 "equality", "valid-versions", "invalid-versions"):
        rows = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        assert rows, name
