"""Benchmark the PubGrub resolver on a synthetic universe.

    python bench/bench_resolve.py [--packages 1000] [--versions 20] [--seed 1]

The universe: packages in layers (deep dependency chains, layer k depends on
layer k+1), each with `versions` versions (majors 1..4 x minors), every
version depending on two or three packages of the next layer with a caret on
a major. Forced backtracking: the newest majors of a few mid-chain packages
require a range nothing satisfies, and the root pins a shared package that the
newest versions of a top-level package conflict with. A solution exists.

Prints the solver's wall time and counters next to a baseline: the time to
merely enumerate every (package, version, dependencies) of the universe once
through the same provider. Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skillpm.resolver import Candidate, PackageNotFound, SolveFailure, solve  # noqa: E402
from skillpm.semver import Range, Version  # noqa: E402


class Universe:
    """An in-memory provider over pre-parsed data, counting calls."""

    def __init__(self, data: dict[str, dict[Version, dict[str, Range]]]) -> None:
        self.data = data
        self.calls = 0

    def versions(self, package: str) -> list[Candidate]:
        self.calls += 1
        if package not in self.data:
            raise PackageNotFound(package)
        return [Candidate(v) for v in self.data[package]]

    def dependencies(self, package: str, version: Version) -> dict[str, Range]:
        self.calls += 1
        return self.data[package][version]


def build(n_packages: int, n_versions: int, seed: int) -> tuple[dict[str, Range], Universe]:
    rng = random.Random(seed)
    layers = 50
    per_layer = max(1, n_packages // layers)
    names = [f"pkg-{i:04d}" for i in range(n_packages)]
    layer_of = {name: min(i // per_layer, layers - 1) for i, name in enumerate(names)}
    by_layer: dict[int, list[str]] = {}
    for name in names:
        by_layer.setdefault(layer_of[name], []).append(name)

    minors = max(1, n_versions // 4)
    version_texts = [f"{major}.{minor}.0" for major in range(1, 5) for minor in range(minors)][:n_versions]
    parsed: dict[str, Range] = {}

    def rng_of(text: str) -> Range:
        if text not in parsed:
            parsed[text] = Range.parse(text)
        return parsed[text]

    # Mid-chain packages whose two newest majors need something impossible.
    poisoned = set()
    for layer in (layers // 4, layers // 2, 3 * layers // 4):
        poisoned.update(rng.sample(by_layer[layer], min(2, len(by_layer[layer]))))
    data: dict[str, dict[Version, dict[str, Range]]] = {}
    for name in names:
        layer = layer_of[name]
        nxt = by_layer.get(layer + 1, [])
        targets = rng.sample(nxt, min(len(nxt), rng.choice([2, 2, 3]))) if nxt else []
        # Each target's required major depends on our major (runs of equal deps).
        shift = {t: -1 if rng.random() < 0.03 else 0 for t in targets}
        versions: dict[Version, dict[str, Range]] = {}
        for text in version_texts:
            major = int(text.split(".")[0])
            deps = {t: rng_of(f"^{max(1, major + shift[t])}.0.0") for t in targets}
            if name in poisoned and major >= 3:
                deps["pkg-0000"] = rng_of("^9.0.0")  # no such version
            versions[Version.parse(text)] = deps
        data[name] = versions

    # The shared package the root pins: newest majors of a top package disagree.
    data["shared"] = {Version.parse(t): {} for t in ("1.0.0", "1.1.0", "2.0.0", "2.1.0")}
    top = by_layer[0][0]
    for v, deps in data[top].items():
        deps["shared"] = rng_of("^2.0.0" if v.major >= 3 else "^1.0.0")

    root = {name: Range.parse("*") for name in by_layer[0][:5]}
    root["shared"] = Range.parse("^1.0.0")
    return root, Universe(data)


def enumerate_once(universe: Universe) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    for package in list(universe.data):
        for candidate in universe.versions(package):
            universe.dependencies(package, candidate.version)
            count += 1
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    root, universe = build(args.packages, args.versions, args.seed)
    built = time.perf_counter() - t0
    baseline, listed = enumerate_once(Universe(universe.data))

    majors: dict[int, int] = {}
    start = time.perf_counter()
    try:
        result = solve(root, universe)
    except SolveFailure as failure:
        wall = time.perf_counter() - start
        outcome = "FAILED:\n" + failure.explanation
        stats = failure.stats
    else:
        wall = time.perf_counter() - start
        outcome = f"solved: {len(result.versions)} packages chosen"
        stats = result.stats
        for v in result.versions.values():
            majors[v.major] = majors.get(v.major, 0) + 1
    print(f"universe: {args.packages} packages x {args.versions} versions ({listed} package versions), built in {built:.2f}s")
    print(f"baseline (enumerate every package, version and deps once): {baseline * 1000:.1f} ms")
    print(f"resolve: {wall:.3f} s  ({outcome})")
    if majors:
        print(f"  chosen majors: {dict(sorted(majors.items()))}")
    print(
        f"  decisions={stats.decisions} conflicts={stats.conflicts} propagations={stats.propagations} "
        f"backtracks={stats.backtracks} incompatibilities={stats.incompatibilities}"
    )
    print(
        f"  provider calls={universe.calls} (versions={stats.versions_calls}, dependencies={stats.dependencies_calls})"
    )
    print(f"  resolve / baseline = {wall / baseline:.0f}x")


if __name__ == "__main__":
    main()
