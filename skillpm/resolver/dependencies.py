"""Turning a version's dependencies into incompatibilities.

Adjacent versions that declare the same dependency are collapsed into one
incompatibility whose depender range covers the whole run (pub's trick): the
range starts at the first version of the run (no lower bound if that is the
oldest version) and stops before the first later version that differs (no
upper bound if the run reaches the newest). When every one of 100 versions
needs something impossible, one incompatibility says so for all of them and
the solver rules them out in one conflict instead of 100.

Laziness: widening a run means asking for the neighbours' dependencies, so it
is done only as far as the search has shown it pays. The first version tried of
a package gets incompatibilities for its own slot only. Once the package has
been backtracked over, the next version tried looks at up to 4 neighbours on
each side, the one after that 16, then 64, ... (stopping at the first
neighbour that differs). A package whose 100 versions all fail for one reason
is thus ruled out in a handful of conflicts, while a solve without conflicts
asks only about the versions it chooses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable

from .incompatibility import Incompatibility, SelfDependencyCause, dependency
from .term import Term

if TYPE_CHECKING:
    from skillpm.semver import Range, Version

    from .provider import PackageLister


def same_range(a: Range, b: Range) -> bool:
    return a is b or (a.allows_all(b) and b.allows_all(a))


def run_range(versions: list[Version], lo: int, hi: int) -> Range:
    """A range allowing versions[lo..hi] (inclusive) and no other listed version.

    It is written the way people write ranges (">=1.2.0", "<2.0.0",
    ">=1.2.0 <2.0.0", or any) and widened over unlisted versions between the
    bounds. npm's rule keeps prereleases out of such a range, so prereleases
    inside the run are added one by one.
    """
    from skillpm.semver import Range

    first, last = lo == 0, hi == len(versions) - 1
    if first and last:
        rng = Range.any()
    elif first:
        rng = Range.parse(f"<{versions[hi + 1]}")
    elif last:
        rng = Range.parse(f">={versions[lo]}")
    else:
        rng = Range.parse(f">={versions[lo]} <{versions[hi + 1]}")
    for v in versions[lo : hi + 1]:
        if not rng.allows(v):
            rng = rng.union(Range.exact(v))
    return rng


def dependency_incompatibilities(
    lister: PackageLister, package: str, version: Version, *, widen: int = 0
) -> list[Incompatibility]:
    """Incompatibilities for `version` of `package`, sorted by dependency name.

    `widen`: how many neighbouring versions on each side may be asked about
    to extend each dependency's run."""
    from skillpm.semver import Range

    deps = lister.dependencies(package, version)
    versions = lister.candidates(package)
    index = versions.index(version) if version in versions else None
    out: list[Incompatibility] = []
    for name in sorted(deps):
        rng = deps[name]
        if name == package:
            if not rng.allows(version):
                out.append(Incompatibility([Term(package, Range.exact(version))], SelfDependencyCause(rng)))
            continue
        if index is None:  # not a candidate (the solver never does this): just itself
            out.append(dependency(package, Range.exact(version), name, rng))
            continue
        lo = hi = index
        while lo > max(0, index - widen) and _declares(lister, package, versions[lo - 1], name, rng):
            lo -= 1
        while hi < min(len(versions) - 1, index + widen) and _declares(lister, package, versions[hi + 1], name, rng):
            hi += 1
        out.append(dependency(package, run_range(versions, lo, hi), name, rng))
    return out


def _declares(lister: PackageLister, package: str, version: Version, name: Hashable, rng: Range) -> bool:
    other = lister.dependencies(package, version).get(name)
    return other is not None and same_range(other, rng)
