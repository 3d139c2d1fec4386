"""`skillpm outdated`: current, newest within range, newest overall."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from skillpm.ops.project import Project
from skillpm.ops.resolve import resolve


@dataclass
class Row:
    name: str
    current: str | None
    compatible: str | None  # what `skillpm update` would pick
    latest: str | None  # the newest non-yanked release, ranges ignored
    direct: bool

    @property
    def is_outdated(self) -> bool:
        return self.current != self.latest

    def to_json(self) -> dict:
        return {**asdict(self), "outdated": self.is_outdated}


def outdated(project: Project, *, offline: bool = False) -> list[Row]:
    resolved = resolve(
        project.manifest.skills,
        root=project.root,
        registries=project.manifest.registries,
        locked=project.locked,
        update_all=True,
        offline=offline,
    )
    compatible = {p.entry.name: p.entry.version for p in resolved.planned}
    current = {e.name: e.version for e in project.locked}
    direct = set(resolved.sources.parents) - {n for n, parent in resolved.sources.parents.items() if parent is not None}
    rows = []
    for name in sorted(set(current) | set(compatible)):
        source = resolved.sources.sources.get(name)
        latest = None
        if source is not None:
            releases = [r.version for r in source.releases() if not r.yanked]
            stable = [v for v in releases if not v.is_prerelease] or releases
            latest = str(max(stable)) if stable else None
        rows.append(Row(name, current.get(name), compatible.get(name), latest, name in direct))
    return rows
