"""The solver against a brute-force solver on small random universes.

Universes have up to 4 packages of up to 4 versions each (some prereleases,
some yanked), random dependencies with ranges drawn from a fixed pool, and
sometimes a dependency on a package that doesn't exist. The brute force tries
every assignment of "absent or one selectable version" to every package.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillpm.resolver import SolveFailure, solve
from skillpm.semver import Range, Version

from .conftest import MemoryProvider

PACKAGES = ["a", "b", "c", "d"]
GHOST = "ghost"  # never in any universe
VERSION_POOL = ["1.0.0", "1.1.0", "1.2.0-beta.1", "1.2.0", "2.0.0-rc.1", "2.0.0", "2.1.0", "3.0.0"]
RANGE_POOL = [
    # weighted towards ranges that some pool version satisfies
    "*",
    "*",
    "^1.0.0",
    "^1.0.0",
    "^1.1.0",
    "^2.0.0",
    "^2.0.0",
    ">=1.1.0",
    "<2.0.0",
    "1.0.0",
    "2.1.0",
    "~1.1.0",
    ">=1.0.0 <1.2.0",
    "1.0.0 || ^2.0.0",
    "^1.2.0-beta.1",
    "^2.0.0-rc.1",
    ">=3.0.0",
    "^4.0.0",
    ">2.0.0 <1.0.0",  # empty
]

PROPERTY_SETTINGS = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


_PARSED_RANGES = {text: Range.parse(text) for text in RANGE_POOL}
_PARSED_VERSIONS = {text: Version.parse(text) for text in VERSION_POOL}


def _matching(target_versions: list[str]) -> list[str]:
    """Pool ranges that allow at least one of the target's versions."""
    parsed = [_PARSED_VERSIONS[v] for v in target_versions]
    return [r for r in RANGE_POOL if any(_PARSED_RANGES[r].allows(v) for v in parsed)]


def build_universe(rnd: random.Random):
    """A random (root, universe, yanked) case. Built from one hypothesis-drawn
    Random: drawing every choice separately made generation cost more than the
    solving and the brute force together."""
    names = PACKAGES[: rnd.randint(2, 4)]
    ghost = rnd.random() < 0.2
    listed = {}
    for name in names:
        fewest = rnd.choice([0, 1, 2, 2, 2, 2, 2, 2, 2, 2])  # mostly 2..4 versions
        listed[name] = rnd.sample(VERSION_POOL, rnd.randint(fewest, 4))

    def requirement(target: str) -> str:
        # Mostly a range some version of the target satisfies, sometimes any.
        good = _matching(listed.get(target, []))
        if good and rnd.random() < 0.75:
            return rnd.choice(good)
        return rnd.choice(RANGE_POOL)

    universe: dict[str, dict[str, dict[str, str]]] = {}
    yanked: set[tuple[str, str]] = set()
    targets_pool = names + ([GHOST] if ghost else [])
    for name in names:
        universe[name] = {}
        for v in listed[name]:
            targets = rnd.sample(targets_pool, rnd.randint(0, min(3, len(targets_pool))))
            universe[name][v] = {t: requirement(t) for t in targets}
            if rnd.random() < 1 / 15:
                yanked.add((name, v))
    root_names = rnd.sample(names, rnd.randint(1, 2))
    root = {n: requirement(n) for n in root_names}
    return root, universe, yanked


def universes():
    # A seed rather than st.randoms(): hypothesis biases its Random towards
    # simple values, which starves the cases with real conflicts. Shrinking a
    # seed means nothing, but a failure still names its reproducible seed.
    return st.integers(0, 2**32 - 1).map(lambda seed: build_universe(random.Random(seed)))


def _parse(root, universe):
    root_r = {n: Range.parse(r) for n, r in root.items()}
    uni = {
        n: {Version.parse(v): {d: Range.parse(r) for d, r in deps.items()} for v, deps in vs.items()}
        for n, vs in universe.items()
    }
    return root_r, uni


def _reachable(root_r, uni, chosen: dict[str, Version]) -> set[str]:
    seen: set[str] = set()
    stack = list(root_r)
    while stack:
        p = stack.pop()
        if p in seen or p not in chosen:
            continue
        seen.add(p)
        stack.extend(uni[p][chosen[p]])
    return seen


def _valid(root_r, uni, chosen: dict[str, Version]) -> bool:
    for name, rng in root_r.items():
        if name not in chosen or not rng.allows(chosen[name]):
            return False
    for p, v in chosen.items():
        for d, rng in uni[p][v].items():
            if d not in chosen or not rng.allows(chosen[d]):
                return False
    return _reachable(root_r, uni, chosen) == set(chosen)


def brute_force(root_r, uni, yanked) -> list[dict[str, Version]]:
    names = sorted(uni)
    options = [[None] + [v for v in uni[n] if (n, str(v)) not in yanked_strs(yanked)] for n in names]
    out = []
    for combo in itertools.product(*options):
        chosen = {n: v for n, v in zip(names, combo) if v is not None}
        if _valid(root_r, uni, chosen):
            out.append(chosen)
    return out


def yanked_strs(yanked):
    return {(p, str(Version.parse(v))) for p, v in yanked}


def _universe_reachable(root_r, uni) -> set[str]:
    """Packages reachable from the root through any version's dependencies."""
    seen: set[str] = set()
    stack = list(root_r)
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        for deps in uni.get(p, {}).values():
            stack.extend(deps)
    return seen


@PROPERTY_SETTINGS
@given(universes())
def test_agrees_with_brute_force(case):
    root, universe, yanked = case
    root_r, uni = _parse(root, universe)
    solutions = brute_force(root_r, uni, yanked)

    provider = MemoryProvider(universe, yanked)
    try:
        result = solve(root_r, provider)
    except SolveFailure as failure:
        assert not solutions, f"solver failed but {solutions[0]} works:\n{failure.explanation}"
        assert failure.explanation.strip()
        assert "version solving failed" in failure.explanation
        outcome = None
    else:
        chosen = result.versions
        assert solutions, f"solver found {chosen} but brute force found nothing"
        assert _valid(root_r, uni, chosen), f"invalid solution {chosen}"
        assert all((p, str(v)) not in yanked_strs(yanked) for p, v in chosen.items())
        assert result.dependencies == {p: uni[p][v] for p, v in chosen.items()}
        outcome = chosen

    # Laziness: each question asked at most once, only about reachable packages.
    assert all(n == 1 for n in provider.version_calls.values())
    assert all(n == 1 for n in provider.dependency_calls.values())
    reachable = _universe_reachable(root_r, uni)
    assert set(provider.version_calls) <= reachable
    assert {p for p, _ in provider.dependency_calls} <= set(provider.version_calls)

    # Deterministic: a second run gives the same answer.
    again = MemoryProvider(universe, yanked)
    try:
        second = solve(root_r, again).versions
    except SolveFailure:
        second = None
    assert second == outcome


@settings(PROPERTY_SETTINGS, max_examples=600)
@given(universes(), st.data())
def test_locks_never_change_satisfiability(case, data):
    """Locks are preferences: with any lock, the answer (solvable or not) is the
    same, every kept lock is honoured, and the result is still valid."""
    root, universe, yanked = case
    root_r, uni = _parse(root, universe)
    locked = {}
    for name, vs in universe.items():
        if vs and data.draw(st.booleans()):
            locked[name] = Version.parse(data.draw(st.sampled_from(sorted(vs))))
    unlock = set(data.draw(st.lists(st.sampled_from(sorted(universe)), max_size=2)))

    def run(**kw):
        try:
            return solve(root_r, MemoryProvider(universe, yanked), **kw).versions
        except SolveFailure:
            return None

    # A locked yanked version stays available, so compare with a brute force
    # that withholds only the other yanked versions.
    still_yanked = {(p, v) for p, v in yanked if locked.get(p) != Version.parse(v)}
    solvable = bool(brute_force(root_r, uni, still_yanked))
    kept = run(locked=locked, unlock=unlock)
    assert solvable == (kept is not None)
    if kept is not None:
        # A yanked version is allowed only where it is the locked one.
        for p, v in kept.items():
            if (p, str(v)) in yanked_strs(yanked):
                assert locked.get(p) == v
        # Valid, counting the locked yanked versions as available.
        assert _valid(root_r, uni, kept)
