"""Counters a solve reports: what the search cost, never how it was timed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SolveStats:
    """Work done by one `solve` call.

    decisions: versions tentatively chosen (the root's own decision included).
    conflicts: conflict resolutions (each time an incompatibility was satisfied).
    propagations: derivations added by unit propagation.
    backtracks: times the partial solution jumped back to an earlier level.
    versions_calls / dependencies_calls: questions actually sent to the provider.
    seconds: wall time of the whole solve (for humans; never assert on it).
    """

    decisions: int = 0
    conflicts: int = 0
    propagations: int = 0
    backtracks: int = 0
    incompatibilities: int = 0
    versions_calls: int = 0
    dependencies_calls: int = 0
    seconds: float = 0.0

    @property
    def provider_calls(self) -> int:
        return self.versions_calls + self.dependencies_calls
