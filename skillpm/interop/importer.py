"""`skillpm import`: turn another installer's lock into skills.toml and skills.lock.

Each entry becomes a spec (skills_lock.py says what the files hold):

* a recorded commit (a 40-hex `ref`/`pinnedRef`), or the commit found by
  looking up the recorded folder tree id (`skillFolderHash`) in the
  repository's history  ->  `{ git = URL, path = ..., rev = <commit> }`;
* a recorded branch or tag  ->  `{ git = URL, path = ..., branch|tag = ... }`;
* nothing recorded  ->  `{ git = URL, path = ... }` (versions from tags, else
  the default branch);
* `sourceType = "local"`  ->  `{ path = ... }`.

A missing `skillPath` is found by name among the repository's skills. The
specs then go through the normal resolve and lock path (the lock pins exact
commits and digests); nothing is installed: the folders the other tool made
are not skillpm's, so `skillpm install --force` takes them over (keeping a
backup). Entries that cannot be mapped are reported with the reason.

`[install] targets` gains the agents the other tool installed for (kept as
written, missing ones appended): the agents the lock records (skills_lock.py),
and every agent whose skills folder, for this scope, already holds one of the
imported skills (`npx skills` records no agents in a project lock, but leaves
`.claude/skills/<name>` and the like). An agent whose folder is the install dir
needs no target; an agent skillpm has no target for is named in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import SkillpmError, SourceError
from skillpm.interop.skills_lock import ForeignSkill, parse_foreign_lock
from skillpm.spec import GitSpec, PathSpec, Spec, check_git_url, check_ref, redact_url

MAX_HISTORY = 5000


@dataclass
class Imported:
    key: str  # the skills.toml key
    foreign: str  # the name in the foreign lock
    spec: Spec
    how: str  # how the pin was determined


@dataclass
class ImportReport:
    kind: str  # "project" | "user"
    source_file: Path
    imported: list[Imported] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)  # (agent target added to [install] targets, why)
    unknown_agents: list[str] = field(default_factory=list)  # agents the lock names that skillpm has no target for


def commit_with_tree(url: str, path: str, tree: str, ref: str | None, *, offline: bool = False) -> str | None:
    """The newest commit whose `path` folder is the git tree `tree` (searching `ref`, else every branch and tag)."""
    from skillpm.sources.git.command import GitFailed
    from skillpm.sources.git.mirror import Mirror

    mirror = Mirror(url, offline=offline)
    mirror.sync()
    revs = ["--all"]
    if ref:
        check_ref(ref)
        if mirror.resolve_commit(ref):
            revs = ["--end-of-options", ref]
    try:
        out = mirror.git("rev-list", f"--max-count={MAX_HISTORY}", "--missing=allow-any", *revs, *(["--", path] if path else []))
        commits = out.decode().split()
        if not commits:
            return None
        batch = "".join(f"{c}:{path}\n" if path else f"{c}^{{tree}}\n" for c in commits).encode()
        lines = mirror.git("cat-file", "--batch-check=%(objectname)", input=batch).decode().splitlines()
    except GitFailed:
        return None
    for commit, line in zip(commits, lines):
        if line.strip() == tree:
            return commit
    return None


def _find_path(f: ForeignSkill, *, offline: bool) -> str:
    from skillpm.sources.git.discovery import discover

    found = discover(GitSpec(url=f.url or ""), f.commit or f.ref, offline=offline)
    exact = [d for d in found if d.name == f.name] or [d for d in found if (d.path.rsplit("/", 1)[-1] or "") == f.name]
    if not exact:
        names = ", ".join(sorted(d.name for d in found)) or "none"
        raise SourceError(f"no skill named {f.name!r} in {redact_url(f.url or '')} (its skills: {names})")
    return exact[0].path


def map_git(f: ForeignSkill, *, offline: bool = False) -> tuple[GitSpec, str]:
    """The git spec for one foreign entry and how its pin was found. Raises SkillpmError."""
    from skillpm.sources.git import GitSource
    from skillpm.sources.git.remote import remote_refs

    assert f.url is not None
    url = check_git_url(f.url)
    if f.ref:
        check_ref(f.ref)
    path = f.path if f.path is not None else _find_path(f, offline=offline)
    commit, how = f.commit, "commit recorded in the lock"
    if commit is None and f.tree:
        commit = commit_with_tree(url, path, f.tree, f.ref, offline=offline)
        how = "commit found from the recorded folder tree id"
    if commit is not None:
        spec = GitSpec(url=url, path=path, rev=commit)
    elif f.ref:
        refs = remote_refs(url, offline=offline)
        if f.ref in refs.tags:
            spec, how = GitSpec(url=url, path=path, tag=f.ref), f"tag {f.ref} (no commit recorded)"
        elif f.ref in refs.heads:
            spec, how = GitSpec(url=url, path=path, branch=f.ref), f"branch {f.ref} (no commit recorded)"
        else:
            raise SourceError(f"{f.ref!r} is neither a tag nor a branch of {redact_url(url)}")
    else:
        spec, how = GitSpec(url=url, path=path), "newest release (no commit recorded)"
        if f.tree:
            how = "newest release (the recorded folder tree id is not in the history)"
    GitSource(spec, offline=offline).releases()  # reachable, and the pin exists
    return spec, how


def map_local(f: ForeignSkill) -> tuple[PathSpec, str]:
    base = Path(f.local_path or "").expanduser()
    folder = base / f.path if f.path else base
    if not (folder / "SKILL.md").is_file():
        hits = sorted(p.parent for p in base.glob(f"**/{f.name}/SKILL.md")) if base.is_dir() else []
        if not hits:
            raise SourceError(f"no SKILL.md for {f.name!r} under {folder}")
        folder = hits[0]
    return PathSpec(str(folder.resolve())), "local folder"


def import_lock(project, lock_file: Path, *, offline: bool = False) -> ImportReport:  # noqa: ANN001 - Project
    """Add every mappable entry of `lock_file` to the project's manifest and lock (install nothing).

    Mapping the entries reads remotes and needs no project lock; writing
    skills.toml and skills.lock is `skillpm.ops.sync.lock_new_specs`, under it.
    """
    from skillpm.ops.progress import step, tick
    from skillpm.ops.sync import lock_new_specs

    try:
        text = lock_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SkillpmError(f"{lock_file}: not found", hint="give the path of a skills-lock.json or .skill-lock.json") from None
    kind, foreign = parse_foreign_lock(text, str(lock_file))
    report = ImportReport(kind=kind, source_file=lock_file)
    new: dict[str, Spec] = {}
    present: list[tuple[ForeignSkill, str]] = []  # (entry, skills.toml key) imported now or already there
    with step("Importing", total=len(foreign)):
        for f in foreign:
            tick(f.name)
            if f.problem:
                report.skipped.append((f.name, f.problem))
                continue
            try:
                spec, how = map_local(f) if f.source_type == "local" else map_git(f, offline=offline)
                key, spec = _manifest_key(spec, project.root)
            except SkillpmError as e:
                report.skipped.append((f.name, str(e)))
                continue
            if key in project.manifest.skills or key in new:
                report.skipped.append((f.name, f"{key!r} is already in {project.manifest.path.name}"))
                if key in project.manifest.skills:
                    present.append((f, key))
                continue
            new[key] = spec
            present.append((f, key))
            report.imported.append(Imported(key, f.name, spec, how))
    if not present:
        return report

    def add_targets(fresh, text: str) -> str:  # noqa: ANN001 - Project
        """The [install] targets edit, made in the same transaction as the skills."""
        from skillpm.manifest import add_install_targets

        report.targets, report.unknown_agents = implied_targets(fresh, present)
        if not report.targets:
            return text
        return add_install_targets(text, [name for name, _ in report.targets], in_pyproject=fresh.manifest.in_pyproject)

    done = lock_new_specs(project, new, offline=offline, edit_manifest=add_targets)
    report.warnings.extend(done.notes + done.warnings)
    report.changes = done.changes
    return report


def implied_targets(project, present: list[tuple[ForeignSkill, str]]) -> tuple[list[tuple[str, str]], list[str]]:  # noqa: ANN001 - Project
    """([(target, why)], unknown agent names): the agent targets the other
    tool's install implies that the manifest lacks (see the module doc)."""
    from skillpm.ops.targets import target_folder
    from skillpm.targets import TARGETS, canonical_name, get_target, same_dir

    found: dict[str, str] = {}
    unknown: list[str] = []
    for f, _key in present:
        for agent in f.agents:
            name = canonical_name(agent)
            if name is None:
                if agent not in unknown:
                    unknown.append(agent)
            else:
                found.setdefault(name, f"the lock lists agent {agent!r}")
    names = sorted({n for f, key in present for n in (f.name, key) if _plain_name(n)})
    for t in TARGETS:
        folder = target_folder(project, t)
        for n in names:
            if (folder / n).is_symlink() or (folder / n).exists():
                found.setdefault(t.name, f"{_shown(folder / n, project.root)} exists")
                break
    configured = set(project.manifest.targets)
    out = []
    for t in TARGETS:  # the table's order
        if t.name in found and t.name not in configured and not same_dir(target_folder(project, get_target(t.name)), project.install_dir):
            out.append((t.name, found[t.name]))
    return out, unknown


def _plain_name(name: str) -> bool:
    from skillpm.fs import is_plain_name

    return is_plain_name(name)


def _shown(path: Path, root: Path) -> str:
    import os

    for base, prefix in ((root, ""), (Path.home(), "~/")):
        try:
            rel = os.path.relpath(path, base)
        except ValueError:
            continue
        if not rel.startswith(".."):
            return prefix + Path(rel).as_posix()
    return str(path)


def _manifest_key(spec: Spec, root: Path) -> tuple[str, Spec]:
    """(skills.toml key, spec as written there): a local folder is named by its
    SKILL.md and recorded relative to the project."""
    if not isinstance(spec, PathSpec):
        return spec.name, spec
    from skillpm.skill import load_skill
    from skillpm.sources.path import relative_location

    folder = Path(spec.path)
    info, _ = load_skill(folder)
    return info.name, PathSpec(relative_location(folder, root))
