"""Read-only registry questions: search and info."""

from __future__ import annotations

from dataclasses import dataclass, field

from skillpm.errors import SourceError


@dataclass
class Hit:
    name: str
    version: str
    description: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "version": self.version, "description": self.description}


def _matches(term: str, *texts: str) -> bool:
    hay = " ".join(texts).lower()
    return all(word in hay for word in term.lower().split())


def search(reg, term: str) -> list[Hit]:  # noqa: ANN001
    """The API's search on HTTP registries with an `api`; index.json everywhere else."""
    api = reg.api_base() if reg.location.kind == "http" else None
    if api:
        from urllib.parse import quote

        from skillpm.registries.client import error_detail, request

        if reg.offline:
            raise SourceError(f"offline: searching {reg.label} needs the network")
        answer = request(
            "GET",
            f"{api}v1/search?q={quote(term)}",
            auth=reg.api_auth(),
            headers={"Accept": "application/json"},
            what=f"searching {reg.label}",
        )
        if answer.status != 200:
            raise SourceError(f"searching {reg.label}: {error_detail(answer)}")
        try:
            skills = answer.json()["skills"]
            return [Hit(str(s["name"]), str(s.get("vers", "")), str(s.get("description") or "")) for s in skills]
        except (ValueError, KeyError, TypeError):
            raise SourceError(f"searching {reg.label}: the answer is not the documented JSON") from None
    entries = reg.search_entries()
    if entries is None:
        raise SourceError(
            f"{reg.label} has no index.json, so it cannot be searched",
            hint="`skillpm info ID` still works; registries built or published by skillpm have one",
        )
    hits = [Hit(e.name, e.vers, e.description) for e in entries if _matches(term, e.name, e.description)]
    exact = [h for h in hits if term in (h.name, h.name.rsplit("/", 1)[-1])]
    rest = [h for h in hits if h not in exact]
    return exact + sorted(rest, key=lambda h: h.name)


@dataclass
class Info:
    name: str
    registry: str
    lock_source: str
    description: str
    latest: str | None
    versions: list[dict] = field(default_factory=list)  # newest first: version, yanked, dependencies
    install: str = ""

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "registry": self.registry,
            "source": self.lock_source,
            "description": self.description,
            "latest": self.latest,
            "versions": self.versions,
            "install": self.install,
        }


def info(reg, ident: str, *, qualifier: str | None = None) -> Info:  # noqa: ANN001
    from skillpm.registries.protocol import check_id, latest

    check_id(ident)
    lines = reg.lines(ident)
    if not lines:
        raise SourceError(f"{ident} is not in {reg.label}", hint=f"see `skillpm search {ident.rsplit('/', 1)[-1]}`")
    top = latest(lines)
    newest = max(lines, key=lambda ln: ln.version)
    described = top or newest
    spec = f"{qualifier}:{ident}" if qualifier else ident
    versions = [
        {"version": ln.vers, "yanked": ln.yanked, "dependencies": list(ln.dependencies())}
        for ln in sorted(lines, key=lambda ln: ln.version, reverse=True)
    ]
    install = f"skillpm add {spec}@^{top.vers}" if top else f"skillpm add {spec}  (every version is yanked)"
    return Info(
        name=ident,
        registry=reg.label,
        lock_source=reg.lock_source,
        description=described.description or "",
        latest=top.vers if top else None,
        versions=versions,
        install=install,
    )
