"""Table-driven resolver scenarios on in-memory universes.

Each row: the root's requirements, a universe, optional locks/yanks, and either
the expected solution or the expected failure (phrases its explanation must
contain, or its exact text). pub's doc/solver.md examples are reproduced with
the same package names; "root" there is "the project" here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from skillpm.resolver import SolveFailure, solve

from .conftest import MemoryProvider, ranges, versions


@dataclass
class Scenario:
    id: str
    root: dict[str, str]
    universe: dict[str, dict[str, dict[str, str]]]
    expect: dict[str, str] | None = None  # the solution (None: must fail)
    mentions: list[str] = field(default_factory=list)  # phrases the explanation must contain
    explanation: str | None = None  # the exact explanation
    locked: dict[str, str] | None = None
    unlock: list[str] | None = None
    yanked: set[tuple[str, str]] = field(default_factory=set)
    root_name: str = "the project"
    max_conflicts: int | None = None
    max_decisions: int | None = None


def many(n: int, deps: dict[str, str], *, last_free: bool = False) -> dict[str, dict[str, str]]:
    """Versions 1.0.0 .. n.0.0 of a package, each declaring `deps` (the oldest
    declaring nothing when last_free)."""
    out = {f"{i}.0.0": dict(deps) for i in range(1, n + 1)}
    if last_free:
        out["1.0.0"] = {}
    return out


LINEAR_EXPLANATION = (
    "Because every version of foo depends on bar ^2.0.0 which depends on baz ^3.0.0, "
    "every version of foo requires baz ^3.0.0.\n"
    "So, because the project depends on both baz ^1.0.0 and foo ^1.0.0, version solving failed."
)

BRANCHING_EXPLANATION = """\
    Because foo <1.1.0 depends on a ^1.0.0 which depends on b ^2.0.0, foo <1.1.0 requires b ^2.0.0.
(1) So, because foo <1.1.0 depends on b ^1.0.0, foo <1.1.0 is forbidden.

    Because foo >=1.1.0 depends on x ^1.0.0 which depends on y ^2.0.0, foo >=1.1.0 requires y ^2.0.0.
    And because foo >=1.1.0 depends on y ^1.0.0, foo >=1.1.0 is forbidden.
    And because foo <1.1.0 is forbidden (1), foo is forbidden.
    So, because the project depends on foo ^1.0.0, version solving failed."""

DOCKER_EXPLANATION = (
    "Because docker-python-best-practices >=1.2.0 depends on docker/basics ^2.0.0 and the project "
    "depends on docker/basics ^1.0.0, docker-python-best-practices >=1.2.0 is forbidden.\n"
    "So, because the project depends on docker-python-best-practices ^1.2.0, version solving failed."
)


SCENARIOS = [
    # ---- pub's doc/solver.md examples ------------------------------------------------
    Scenario(
        "pub-no-conflicts",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {"bar": "^1.0.0"}}, "bar": {"1.0.0": {}, "2.0.0": {}}},
        expect={"foo": "1.0.0", "bar": "1.0.0"},
        max_conflicts=0,
    ),
    Scenario(
        "pub-avoiding-conflict-during-decision-making",
        {"foo": "^1.0.0", "bar": "^1.0.0"},
        {
            "foo": {"1.1.0": {"bar": "^2.0.0"}, "1.0.0": {}},
            "bar": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
        },
        expect={"foo": "1.0.0", "bar": "1.1.0"},
        max_conflicts=0,
    ),
    Scenario(
        "pub-performing-conflict-resolution",
        {"foo": ">=1.0.0"},
        {
            "foo": {"2.0.0": {"bar": "^1.0.0"}, "1.0.0": {}},
            "bar": {"1.0.0": {"foo": "^1.0.0"}},
        },
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "pub-conflict-resolution-with-a-partial-satisfier",
        {"foo": "^1.0.0", "target": "^2.0.0"},
        {
            "foo": {"1.1.0": {"left": "^1.0.0", "right": "^1.0.0"}, "1.0.0": {}},
            "left": {"1.0.0": {"shared": ">=1.0.0"}},
            "right": {"1.0.0": {"shared": "<2.0.0"}},
            "shared": {"2.0.0": {}, "1.0.0": {"target": "^1.0.0"}},
            "target": {"2.0.0": {}, "1.0.0": {}},
        },
        expect={"foo": "1.0.0", "target": "2.0.0"},
    ),
    Scenario(
        # shared 0.5.0 makes the bad run ">=1.0.0 <2.0.0": only left's and right's
        # requirements together satisfy it, so the satisfier really is partial.
        "partial-satisfier-needs-both-assignments",
        {"foo": "^1.0.0", "target": "^2.0.0"},
        {
            "foo": {"1.1.0": {"left": "^1.0.0", "right": "^1.0.0"}, "1.0.0": {}},
            "left": {"1.0.0": {"shared": ">=1.0.0"}},
            "right": {"1.0.0": {"shared": "<2.0.0"}},
            "shared": {"0.5.0": {}, "2.0.0": {}, "1.0.0": {"target": "^1.0.0"}},
            "target": {"2.0.0": {}, "1.0.0": {}},
        },
        expect={"foo": "1.0.0", "target": "2.0.0"},
    ),
    Scenario(
        "pub-linear-error-reporting",
        {"foo": "^1.0.0", "baz": "^1.0.0"},
        {
            "foo": {"1.0.0": {"bar": "^2.0.0"}},
            "bar": {"2.0.0": {"baz": "^3.0.0"}},
            "baz": {"1.0.0": {}, "3.0.0": {}},
        },
        explanation=LINEAR_EXPLANATION,
    ),
    Scenario(
        "pub-branching-error-reporting",
        {"foo": "^1.0.0"},
        {
            "foo": {"1.0.0": {"a": "^1.0.0", "b": "^1.0.0"}, "1.1.0": {"x": "^1.0.0", "y": "^1.0.0"}},
            "a": {"1.0.0": {"b": "^2.0.0"}},
            "b": {"1.0.0": {}, "2.0.0": {}},
            "x": {"1.0.0": {"y": "^2.0.0"}},
            "y": {"1.0.0": {}, "2.0.0": {}},
        },
        explanation=BRANCHING_EXPLANATION,
    ),
    Scenario(
        "direct-and-transitive-requirement-clash",
        {"docker-python-best-practices": "^1.2.0", "docker/basics": "^1.0.0"},
        {
            "docker-python-best-practices": {
                "1.0.0": {"docker/basics": "^1.0.0"},
                "1.1.0": {"docker/basics": "^1.0.0"},
                "1.2.0": {"docker/basics": "^2.0.0"},
                "1.3.0": {"docker/basics": "^2.0.0"},
            },
            "docker/basics": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
        },
        explanation=DOCKER_EXPLANATION,
    ),
    # ---- plain graphs --------------------------------------------------------------
    Scenario("empty-root", {}, {"foo": {"1.0.0": {}}}, expect={}),
    Scenario(
        "newest-allowed",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.4.2": {}, "1.10.0": {}, "2.0.0": {}}},
        expect={"foo": "1.10.0"},
    ),
    Scenario(
        "chain",
        {"a": "*"},
        {"a": {"1.0.0": {"b": "^1.0.0"}}, "b": {"1.0.0": {"c": "~1.2.0"}}, "c": {"1.2.0": {}, "1.2.5": {}, "1.3.0": {}}},
        expect={"a": "1.0.0", "b": "1.0.0", "c": "1.2.5"},
    ),
    Scenario(
        "diamond",
        {"a": "^1.0.0", "b": "^1.0.0"},
        {
            "a": {"1.0.0": {"c": "^1.0.0"}},
            "b": {"1.0.0": {"c": ">=1.1.0 <1.3.0"}},
            "c": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}, "1.3.0": {}},
        },
        expect={"a": "1.0.0", "b": "1.0.0", "c": "1.2.0"},
        max_conflicts=0,
    ),
    Scenario(
        "diamond-newest-fails-backtrack",
        {"a": "*", "b": "*"},
        {
            "a": {"1.0.0": {"c": "^1.0.0"}, "2.0.0": {"c": "^2.0.0"}},
            "b": {"1.0.0": {"c": "^1.0.0"}},
            "c": {"1.0.0": {}, "2.0.0": {}},
        },
        expect={"a": "1.0.0", "b": "1.0.0", "c": "1.0.0"},
    ),
    Scenario(
        "deep-backtrack-newest-first-fails",
        {"app": "*"},
        {
            "app": {"1.0.0": {"lib": "*", "util": "^1.0.0"}},
            "lib": {
                "1.0.0": {"core": "^1.0.0"},
                "2.0.0": {"core": "^2.0.0"},
                "3.0.0": {"core": "^3.0.0"},
            },
            "core": {"1.0.0": {}, "2.0.0": {"util": "^2.0.0"}, "3.0.0": {"util": "^2.0.0"}},
            "util": {"1.0.0": {}, "2.0.0": {}},
        },
        expect={"app": "1.0.0", "lib": "1.0.0", "core": "1.0.0", "util": "1.0.0"},
    ),
    Scenario(
        "unreached-packages-are-not-selected",
        {"a": "^1.0.0"},
        {"a": {"1.0.0": {}, "2.0.0": {"b": "*"}}, "b": {"1.0.0": {}}, "c": {"1.0.0": {}}},
        expect={"a": "1.0.0"},
    ),
    # ---- many versions failing for one reason ------------------------------------------
    Scenario(
        "hundred-versions-all-need-the-impossible",
        {"big": "*"},
        {"big": many(100, {"dep": "^1.0.0"}), "dep": {"2.0.0": {}}},
        mentions=["every version of big depends on dep ^1.0.0", "no versions of dep match ^1.0.0", "big is forbidden"],
        max_conflicts=5,
        max_decisions=5,
    ),
    Scenario(
        "hundred-versions-only-the-oldest-works",
        {"big": "*"},
        {"big": many(100, {"dep": "^1.0.0"}, last_free=True), "dep": {"2.0.0": {}}},
        expect={"big": "1.0.0"},
        max_conflicts=5,
        max_decisions=5,
    ),
    Scenario(
        "hundred-versions-behind-a-conflict-with-the-root",
        {"big": "*", "shared": "^1.0.0"},
        {"big": many(100, {"shared": "^2.0.0"}, last_free=True), "shared": {"1.0.0": {}, "2.0.0": {}}},
        expect={"big": "1.0.0", "shared": "1.0.0"},
        max_conflicts=5,
        max_decisions=6,
    ),
    # ---- missing things -------------------------------------------------------------
    Scenario(
        "missing-package-direct",
        {"ghost": "^1.0.0"},
        {},
        explanation="Because the project depends on ghost ^1.0.0 which doesn't exist, version solving failed.",
    ),
    Scenario(
        "missing-package-transitive",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {"ghost": "*"}}},
        mentions=["every version of foo depends on ghost", "which doesn't exist", "the project depends on foo ^1.0.0"],
    ),
    Scenario(
        "missing-package-avoided-by-older-version",
        {"foo": "*"},
        {"foo": {"1.0.0": {}, "2.0.0": {"ghost": "^1.0.0"}}},
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "missing-version-range",
        {"foo": "^2.0.0"},
        {"foo": {"1.0.0": {}, "1.5.0": {}}},
        explanation=(
            "Because the project depends on foo ^2.0.0 and no versions of foo match ^2.0.0, version solving failed."
        ),
    ),
    Scenario(
        "missing-version-range-transitive",
        {"foo": "*"},
        {"foo": {"1.0.0": {"bar": "^2.0.0"}}, "bar": {"1.0.0": {}}},
        mentions=["every version of foo depends on bar ^2.0.0", "no versions of bar match ^2.0.0"],
    ),
    Scenario(
        "package-without-versions",
        {"foo": "*"},
        {"foo": {}},
        mentions=["the project depends on foo and no versions of foo are available"],
    ),
    Scenario(
        "empty-range-direct",
        {"foo": ">2.0.0 <1.0.0"},
        {"foo": {"1.0.0": {}}},
        explanation=(
            "Because the project depends on foo >2.0.0 <1.0.0 (a range no version can match), version solving failed."
        ),
    ),
    Scenario(
        "empty-range-transitive",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {"bar": ">2.0.0 <1.0.0"}}, "bar": {"1.0.0": {}}},
        explanation=(
            "Because the project depends on foo ^1.0.0 and every version of foo depends on bar >2.0.0 <1.0.0 "
            "(a range no version can match), version solving failed."
        ),
    ),
    Scenario(
        "empty-range-avoided-by-older-version",
        {"foo": "*"},
        {"foo": {"1.0.0": {}, "2.0.0": {"bar": ">2.0.0 <1.0.0"}}, "bar": {"1.0.0": {}}},
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "unsatisfiable-chain",
        {"a": "^1.0.0", "d": "^1.0.0"},
        {
            "a": {"1.0.0": {"b": "^1.0.0"}},
            "b": {"1.0.0": {"c": "^1.0.0"}},
            "c": {"1.0.0": {"d": "^2.0.0"}},
            "d": {"1.0.0": {}, "2.0.0": {}},
        },
        mentions=["a", "b ^1.0.0", "c ^1.0.0", "d ^2.0.0", "d ^1.0.0", "version solving failed"],
    ),
    Scenario(
        "declared-ranges-are-quoted-as-written",
        {"foo": "1.0.0 || ^2.0.0", "bar": "^1.0.0"},
        {
            "foo": {"1.0.0": {"bar": "^2.0.0 || ^3.0.0"}, "2.0.0": {"bar": "^2.0.0 || ^3.0.0"}},
            "bar": {"1.0.0": {}, "2.0.0": {}},
        },
        explanation=(
            "Because every version of foo depends on bar ^2.0.0 || ^3.0.0 and the project depends on bar ^1.0.0, "
            "foo is forbidden.\n"
            "So, because the project depends on foo 1.0.0 || ^2.0.0, version solving failed."
        ),
    ),
    Scenario(
        "custom-root-name",
        {"foo": "^3.0.0"},
        {"foo": {"1.0.0": {}}},
        root_name="skills.toml",
        mentions=["skills.toml depends on foo ^3.0.0"],
    ),
    # ---- cycles and self-dependencies ---------------------------------------------------
    Scenario(
        "cycle",
        {"a": "*"},
        {"a": {"1.0.0": {"b": "^1.0.0"}}, "b": {"1.0.0": {"a": "^1.0.0"}}},
        expect={"a": "1.0.0", "b": "1.0.0"},
    ),
    Scenario(
        "cycle-with-conflict",
        {"a": "*"},
        {
            "a": {"1.0.0": {"b": "^1.0.0"}, "2.0.0": {"b": "^2.0.0"}},
            "b": {"1.0.0": {"a": "^1.0.0"}, "2.0.0": {"a": "^1.0.0"}},
        },
        expect={"a": "1.0.0", "b": "1.0.0"},
    ),
    Scenario(
        "cycle-unsatisfiable",
        {"a": "^2.0.0"},
        {"a": {"2.0.0": {"b": "*"}}, "b": {"1.0.0": {"a": "^1.0.0"}}},
        mentions=["every version of a depends on b which depends on a ^1.0.0, a is forbidden"],
    ),
    Scenario(
        "self-dependency-is-ignored",
        {"a": "*"},
        {"a": {"1.0.0": {"a": "^1.0.0"}}},
        expect={"a": "1.0.0"},
    ),
    Scenario(
        "self-dependency-excluding-itself-forbids-that-version",
        {"c": ">=1.1.0"},
        {"a": {"2.1.0": {"a": "^1.1.0"}}, "c": {"2.0.0": {}, "3.0.0": {"a": "^2.0.0"}}},
        expect={"c": "2.0.0"},
    ),
    Scenario(
        "self-dependency-excluding-itself-deeper",
        {"b": "^1.2.0-beta.1"},
        {"b": {"1.2.0-beta.1": {}, "1.2.0": {"c": "<2.0.0"}}, "c": {"1.2.0": {"c": "~1.1.0"}}},
        expect={"b": "1.2.0-beta.1"},
    ),
    Scenario(
        "self-dependency-explained",
        {"a": "*"},
        {"a": {"1.0.0": {"a": "^2.0.0"}}},
        mentions=["a 1.0.0 depends on a ^2.0.0"],
    ),
    # ---- locks ---------------------------------------------------------------------
    Scenario(
        "locked-version-kept",
        {"foo": "^1.0.0", "bar": "*"},
        {"foo": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}}, "bar": {"1.0.0": {}, "2.0.0": {}}},
        locked={"foo": "1.1.0", "bar": "1.0.0"},
        expect={"foo": "1.1.0", "bar": "1.0.0"},
    ),
    Scenario(
        "locked-with-empty-unlock-keeps-all",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0": {}}},
        locked={"foo": "1.0.0"},
        unlock=[],
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "locked-version-no-longer-allowed",
        {"foo": "^2.0.0"},
        {"foo": {"1.0.0": {}, "2.0.0": {}, "2.1.0": {}}},
        locked={"foo": "1.0.0"},
        expect={"foo": "2.1.0"},
    ),
    Scenario(
        "locked-version-gone-from-source",
        {"foo": "*"},
        {"foo": {"1.0.0": {}, "2.0.0": {}}},
        locked={"foo": "1.5.0"},
        expect={"foo": "2.0.0"},
    ),
    Scenario(
        "unlock-one-moves-it-and-what-must-move-with-it",
        {"app": "*", "lib": "*", "other": "*"},
        {
            "app": {"1.0.0": {"lib": "^1.0.0"}, "2.0.0": {"lib": "^2.0.0"}},
            "lib": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}, "2.1.0": {}},
            "other": {"1.0.0": {}, "1.1.0": {}},
        },
        locked={"app": "1.0.0", "lib": "1.0.0", "other": "1.0.0"},
        unlock=["app"],
        # lib must move to ^2 with app; it moves only as far as it must? No: a
        # lock is a preference, so lib takes the newest version app 2 allows.
        expect={"app": "2.0.0", "lib": "2.1.0", "other": "1.0.0"},
    ),
    Scenario(
        "unlock-one-leaves-compatible-locks-alone",
        {"app": "*", "lib": "*"},
        {
            "app": {"1.0.0": {"lib": "^1.0.0"}, "1.1.0": {"lib": "^1.0.0"}},
            "lib": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
        },
        locked={"app": "1.0.0", "lib": "1.0.0"},
        unlock=["app"],
        expect={"app": "1.1.0", "lib": "1.0.0"},
    ),
    Scenario(
        "locked-package-moves-when-an-unlocked-one-needs-it",
        {"app": "*", "lib": "*"},
        {
            "app": {"1.0.0": {}, "2.0.0": {"lib": ">=1.5.0"}},
            "lib": {"1.0.0": {}, "1.5.0": {}, "1.6.0": {}},
        },
        locked={"app": "1.0.0", "lib": "1.0.0"},
        unlock=["app"],
        expect={"app": "2.0.0", "lib": "1.6.0"},
    ),
    # ---- yanked ---------------------------------------------------------------------
    Scenario(
        "yanked-never-chosen-fresh",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0": {}}},
        yanked={("foo", "1.1.0")},
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "yanked-kept-when-locked",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}}},
        yanked={("foo", "1.1.0")},
        locked={"foo": "1.1.0"},
        expect={"foo": "1.1.0"},
    ),
    Scenario(
        "yanked-locked-but-unlocked-takes-newest",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}}},
        yanked={("foo", "1.1.0")},
        locked={"foo": "1.1.0"},
        unlock=["foo"],
        expect={"foo": "1.2.0"},
    ),
    Scenario(
        "only-yanked-versions",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0": {}}},
        yanked={("foo", "1.0.0"), ("foo", "1.1.0")},
        mentions=["no versions of foo match ^1.0.0 (1.0.0 and 1.1.0 are yanked)"],
    ),
    # ---- prereleases ------------------------------------------------------------------
    Scenario(
        "prerelease-not-chosen-for-plain-caret",
        {"foo": "^1.0.0"},
        {"foo": {"1.0.0": {}, "1.1.0-beta.1": {}, "2.0.0-rc.1": {}}},
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "prerelease-chosen-when-asked",
        {"foo": "^1.0.0-beta"},
        {"foo": {"1.0.0-alpha": {}, "1.0.0-beta.2": {}}},
        expect={"foo": "1.0.0-beta.2"},
    ),
    Scenario(
        "release-preferred-over-asked-prerelease-when-newer",
        {"foo": "^1.0.0-beta"},
        {"foo": {"1.0.0-beta.2": {}, "1.0.0": {}, "1.1.0-beta.1": {}}},
        expect={"foo": "1.0.0"},
    ),
    Scenario(
        "prerelease-the-only-version-the-range-allows",
        {"foo": ">=2.0.0-rc.1 <3.0.0"},
        {"foo": {"1.0.0": {}, "2.0.0-rc.1": {}, "3.0.0": {}}},
        expect={"foo": "2.0.0-rc.1"},
    ),
    Scenario(
        "prerelease-only-version-but-range-does-not-ask",
        {"foo": "^2.0.0"},
        {"foo": {"1.0.0": {}, "2.0.0-rc.1": {}}},
        mentions=["no versions of foo match ^2.0.0"],
    ),
    Scenario(
        "prerelease-not-chosen-through-a-derived-range",
        # After foo 2 is ruled out, bar's term is "not <2.0.0"-shaped; its
        # complement contains 1.5.0-beta, but no requirement asks for it.
        {"foo": "*", "bar": "<2.0.0 || ^3.0.0"},
        {
            "foo": {"1.0.0": {"bar": "<2.0.0"}, "2.0.0": {"bar": "^2.0.0"}},
            "bar": {"1.0.0": {}, "1.5.0-beta": {}, "2.0.0": {}},
        },
        expect={"foo": "1.0.0", "bar": "1.0.0"},
    ),
]


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.id)
def test_scenario(case: Scenario) -> None:
    provider = MemoryProvider(case.universe, case.yanked)
    kwargs = dict(
        locked=versions(case.locked) if case.locked is not None else None,
        unlock=case.unlock,
        root_name=case.root_name,
    )
    if case.expect is not None:
        result = solve(ranges(case.root), provider, **kwargs)
        assert {p: str(v) for p, v in result.versions.items()} == case.expect
        stats = result.stats
    else:
        with pytest.raises(SolveFailure) as info:
            solve(ranges(case.root), provider, **kwargs)
        text = info.value.explanation
        assert str(info.value) == text
        if case.explanation is not None:
            assert text == case.explanation
        for phrase in case.mentions:
            assert phrase in text, f"{phrase!r} not in:\n{text}"
        assert text.rstrip().endswith("version solving failed.")
        assert info.value.incompatibility.is_failure()
        stats = info.value.stats
    if case.max_conflicts is not None:
        assert stats.conflicts <= case.max_conflicts, stats
    if case.max_decisions is not None:
        assert stats.decisions <= case.max_decisions, stats
    # Lazy and cached: one question per package / per version, never repeated.
    assert all(n == 1 for n in provider.version_calls.values())
    assert all(n == 1 for n in provider.dependency_calls.values())
