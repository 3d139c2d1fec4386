"""A project's agent targets: which folders, syncing after a transaction, checking, listing.

The folders come from the table in skillpm/targets.py: a project uses each
agent's project folder (`.claude/skills` ...), the global scope each agent's
user folder (`~/.claude/skills` ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skillpm.ops.project import Project
from skillpm.targets import TARGETS, Target, TargetCheck, TargetSync, check_targets, get_target, same_dir, sync_targets


def target_folder(project: Project, target: Target) -> Path:
    """The folder `target` links into for this project: the agent's user folder
    in the global scope, its project folder otherwise."""
    return target.user_dir() if project.scope == "global" else target.project_dir(project.root)


def target_dirs(project: Project) -> list[tuple[str, Path]]:
    """(name, folder) of every target the manifest configures, for the project's scope."""
    out = []
    for name in project.manifest.targets:
        target = get_target(name)
        out.append((target.name, target_folder(project, target)))
    return out


def sync_project_targets(
    project: Project,
    entries,  # noqa: ANN001 - LockedSkill list
    *,
    force: bool = False,
    backup_dir: Path | Callable[[], Path] | None = None,
) -> list[TargetSync]:
    """After a committed transaction: link (or copy) `entries` into every configured target.

    `force` (`install --force`): what is in the way in a target (a folder
    skillpm did not create, a copy edited in place) is backed up and replaced;
    the backups go to `backup_dir`, by default a new folder under the cache's
    `backups/` (made only when something is backed up).
    """
    known = [target_folder(project, t) for t in TARGETS]
    if force and backup_dir is None:
        backup_dir = new_backup_dir
    wanted, outside = _split_outside(project)
    results = sync_targets(
        project.install_dir, entries, wanted, mode=project.manifest.link, known=known, force=force, backup_dir=backup_dir
    )
    return results + [TargetSync(name, folder, problems=[_OUTSIDE]) for name, folder in outside]


_OUTSIDE = "reached through a symbolic link that leaves the project; not touched (remove the link, or use the global scope)"


def _split_outside(project: Project) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
    """A project's targets, and those a link sends out of the project (never written)."""
    from skillpm.ops.project import inside

    wanted, outside = [], []
    for name, folder in target_dirs(project):
        (wanted if project.scope == "global" or inside(folder, project.root) else outside).append((name, folder))
    return wanted, outside


def new_backup_dir() -> Path:
    """A new backups folder for the target entries one sync replaces."""
    from skillpm.cache import new_backup_dir as new

    return new("targets")


def check_project_targets(project: Project) -> list[TargetCheck]:
    wanted, outside = _split_outside(project)
    checks = check_targets(project.install_dir, project.locked, wanted)
    return checks + [TargetCheck(name, folder, problems=[("*", _OUTSIDE)]) for name, folder in outside]


def describe(project: Project | None, *, root: Path | None = None) -> list[dict]:
    """Every known target: configured?, detected?, its project and user folders.

    `root`: the project folder to look for agent folders in when `project` is
    None. A project's own root replaces it; the global scope looks in no
    project at all (agent folders in the current project say nothing about
    the user's global targets), only at each agent's config and user folders.
    With a project, every row also has `folder` (the one this scope links
    into) and `reads_install_dir` (that folder is the install dir itself).
    """
    if project is not None:
        root = project.root if project.scope == "project" else None
    configured = set(project.manifest.targets) if project is not None else set()
    rows = []
    for t in TARGETS:
        project_dir = t.project_dir(root) if root is not None else Path(t.project)
        user_dir = t.user_dir()
        row = {
            "name": t.name,
            "title": t.title,
            "configured": t.name in configured,
            "detected": t.detected(root),
            "project_dir": str(project_dir),
            "user_dir": str(user_dir),
            "config_dir": str(t.config_dir()),
            "aliases": list(t.aliases),
            "docs": list(t.docs),
        }
        if project is not None:
            folder = target_folder(project, t)
            row["folder"] = str(folder)
            row["reads_install_dir"] = same_dir(folder, project.install_dir)
            if t.name in configured:
                row["linked_into"] = str(folder)
                row["is_install_dir"] = row["reads_install_dir"]
        rows.append(row)
    return rows


def summarize(results: list[TargetSync], base: Path | None = None) -> tuple[list[str], list[str]]:
    """(info lines, warning lines) for the CLI."""
    info, warnings = [], []
    for r in results:
        where = _short(r.folder, base)
        if r.skipped:
            continue
        parts = []
        if r.linked:
            parts.append(f"linked {len(r.linked)}")
        if r.copied:
            parts.append(f"copied {len(r.copied)}")
        if r.updated:
            parts.append(f"updated {len(r.updated)}")
        if r.removed:
            parts.append(f"removed {len(r.removed)}")
        if r.taken_over:
            parts.append(f"took over {len(r.taken_over)}")
        if parts:
            info.append(f"{r.target}: {', '.join(parts)} in {where}/")
        for skill, backup in sorted(r.backups.items()):
            how = "replaced" if skill in r.taken_over else "removed"
            info.append(f"{r.target}: {how} {where}/{skill}; the {how} copy was kept at {backup}")
        for p in r.problems:
            warnings.append(f"{r.target} ({where}/): {p}")
    return info, warnings


def _short(folder: Path, base: Path | None) -> str:
    import os

    if base is not None:
        try:
            rel = os.path.relpath(folder, base)
        except ValueError:
            return str(folder)
        if not rel.startswith(".."):
            return rel
    home = str(Path.home())
    s = str(folder)
    return "~" + s[len(home):] if s.startswith(home + os.sep) else s
