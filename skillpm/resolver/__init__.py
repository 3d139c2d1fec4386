"""A PubGrub version solver (see docs/resolver.md).

Pure: no I/O. Package facts come from a `Provider`; packages are plain strings.
"""

from .incompatibility import Incompatibility
from .provider import Candidate, PackageNotFound, Provider
from .solver import Resolution, SolveFailure, solve
from .stats import SolveStats
from .term import Term

__all__ = [
    "Candidate",
    "Incompatibility",
    "PackageNotFound",
    "Provider",
    "Resolution",
    "SolveFailure",
    "SolveStats",
    "Term",
    "solve",
]
