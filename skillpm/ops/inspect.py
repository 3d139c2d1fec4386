"""Read-only questions about a project: list, verify, tree, why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from skillpm.installer import SkillStatus
from skillpm.ops.project import Project


@dataclass
class Verification:
    skills: list[tuple[str, str, SkillStatus]] = field(default_factory=list)  # name, version, status
    unexpected_folders: list[str] = field(default_factory=list)
    targets: list = field(default_factory=list)  # TargetCheck per configured agent target (skillpm/targets.py)
    pending: bool = False  # an interrupted install waits for recovery: nothing else is judged

    @property
    def ok(self) -> bool:
        return (
            not self.pending
            and not self.unexpected_folders
            and all(st.state == "ok" for _, _, st in self.skills)
            and all(not t.problems for t in self.targets)
        )

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "pending": self.pending,
            "skills": [
                {"name": n, "version": v, **{k: val for k, val in asdict(st).items() if k != "name"}}
                for n, v, st in self.skills
            ],
            "unexpected_folders": self.unexpected_folders,
            "targets": [t.to_json() for t in self.targets],
        }


def verify(project: Project) -> Verification:
    """Recompute every installed skill's digest against the lock."""
    installer = project.installer()
    result = Verification()
    if installer.pending():  # half-moved folders are neither modified nor missing
        result.pending = True
        return result
    state = installer.read_state()  # once, not once per skill
    for entry in project.locked:
        result.skills.append((entry.name, entry.version, installer.status(entry, state)))
    result.unexpected_folders = installer.unmanaged(project.locked)
    from skillpm.ops.targets import check_project_targets

    result.targets = check_project_targets(project)
    return result


def listing(project: Project) -> list[dict]:
    installer = project.installer()
    rows = []
    direct = _direct_names(project)
    state = installer.read_state()
    for e in project.locked:
        rows.append(
            {
                "name": e.name,
                "version": e.version,
                "folder": e.folder,
                "source": e.source,
                "direct": e.name in direct,
                "state": installer.status(e, state).state,
            }
        )
    return rows


def _direct_names(project: Project) -> set[str]:
    from skillpm.ops.resolve import root_key

    return {root_key(k, s) for k, s in project.manifest.skills.items()}


def tree(project: Project) -> list[str]:
    """The dependency tree as indented lines, cycles marked with (*)."""
    by_name = project.lock.by_name() if project.lock else {}
    lines: list[str] = []

    def walk(name: str, depth: int, seen: tuple[str, ...]) -> None:
        e = by_name.get(name)
        label = f"{name} {e.version}" if e else f"{name} (not locked)"
        if name in seen:
            lines.append("  " * depth + label + " (*)")
            return
        lines.append("  " * depth + label)
        for dep in (e.dependencies if e else []):
            walk(dep, depth + 1, (*seen, name))

    for name in sorted(_direct_names(project)):
        walk(name, 0, ())
    return lines


def tree_json(project: Project) -> list[dict]:
    """The dependency tree as nested objects; a skill already on the path is marked "cycle"."""
    by_name = project.lock.by_name() if project.lock else {}

    def node(name: str, seen: tuple[str, ...]) -> dict:
        e = by_name.get(name)
        out: dict = {"name": name, "version": e.version if e else None, "locked": e is not None}
        if name in seen:
            out["cycle"] = True
            return out
        out["dependencies"] = [node(dep, (*seen, name)) for dep in (e.dependencies if e else [])]
        return out

    return [node(name, ()) for name in sorted(_direct_names(project))]


def why(project: Project, target: str) -> list[list[str]]:
    """Every chain from the project to `target` (by name or folder)."""
    by_name = project.lock.by_name() if project.lock else {}
    folders = {e.folder: e.name for e in by_name.values()}
    target = target if target in by_name else folders.get(target, target)
    chains: list[list[str]] = []

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            return
        path = [*path, name]
        if name == target:
            chains.append(path)
            return
        for dep in by_name[name].dependencies if name in by_name else []:
            walk(dep, path)

    for name in sorted(_direct_names(project)):
        walk(name, [])
    return chains
