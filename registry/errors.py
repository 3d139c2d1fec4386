"""The one error type of the server: an HTTP status and one or more details.

Every API error answers `{"errors": [{"detail": "…"}, …]}` (the shape the
client reads), with 401 no/invalid/expired token, 403 out of scope or not an
owner, 404 unknown, 409 duplicate or conflict, 413 too large, 422 invalid.
"""

from __future__ import annotations

from collections.abc import Iterable


class ApiError(Exception):
    def __init__(self, status: int, detail: str | Iterable[str]) -> None:
        details = [detail] if isinstance(detail, str) else [str(d) for d in detail]
        super().__init__("; ".join(details))
        self.status = status
        self.details = details or ["error"]

    @property
    def detail(self) -> str:
        return "; ".join(self.details)

    def body(self) -> dict:
        return {"errors": [{"detail": d} for d in self.details]}
