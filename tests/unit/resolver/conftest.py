"""In-memory universes for the resolver tests.

A universe is `{"pkg": {"1.0.0": {"dep": "^1.0"}, ...}, ...}`; `yanked` is a
set of (package, version) pairs. The provider counts every call so tests can
check the solver's laziness.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from skillpm.resolver import Candidate, PackageNotFound
from skillpm.semver import Range, Version


class MemoryProvider:
    def __init__(self, universe: Mapping[str, Mapping[str, Mapping[str, str]]], yanked: set[tuple[str, str]] = frozenset()):
        self.universe = {
            name: {Version.parse(v): {d: Range.parse(r) for d, r in deps.items()} for v, deps in versions.items()}
            for name, versions in universe.items()
        }
        self.yanked = {(p, Version.parse(v)) for p, v in yanked}
        self.version_calls: Counter[str] = Counter()
        self.dependency_calls: Counter[tuple[str, Version]] = Counter()

    def versions(self, package: str) -> Sequence[Candidate]:
        self.version_calls[package] += 1
        if package not in self.universe:
            raise PackageNotFound(package)
        return [Candidate(v, yanked=(package, v) in self.yanked) for v in self.universe[package]]

    def dependencies(self, package: str, version: Version) -> Mapping[str, Range]:
        self.dependency_calls[(package, version)] += 1
        return self.universe[package][version]


def ranges(reqs: Mapping[str, str]) -> dict[str, Range]:
    return {name: Range.parse(text) for name, text in reqs.items()}


def versions(pins: Mapping[str, str]) -> dict[str, Version]:
    return {name: Version.parse(text) for name, text in pins.items()}


@pytest.fixture
def make_provider():
    return MemoryProvider
