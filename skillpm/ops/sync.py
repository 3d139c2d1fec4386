"""The operations that change a project: install, add, remove, lock, update.

Each runs under the install dir's file lock, first finishes or undoes any
interrupted transaction, and writes manifest, lock and folders in one
installer transaction.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import LockfileError, SkillpmError, UsageError
from skillpm.fs import atomic_write
from skillpm.installer import Outcome, Planned
from skillpm.lockfile import LockedSkill, dump_lock
from skillpm.manifest import edit_skills, spec_to_entry
from skillpm.ops.project import Project, load_project
from skillpm.ops.resolve import (
    UNKNOWN_DIGEST,
    Resolved,
    is_pinned,
    requirement,
    resolve,
    root_key,
    spec_identity,
)
from skillpm.sources.base import Release, Source
from skillpm.spec import GitSpec, PathSpec, RegistrySpec, Spec, parse_spec, redact_url


@dataclass
class Report:
    """What an operation did, for the CLI to print."""

    outcome: Outcome | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # name, old, new
    stats: object = None
    recovered_targets: list = field(default_factory=list)  # targets synced after finishing an interrupted install
    wrote_lock: bool = False  # `lock`: skills.lock's bytes changed
    blocked: list = field(default_factory=list)  # update --dry-run: installer.Conflicts the real run would stop at

    @property
    def ok(self) -> bool:
        """False when folders were left in conflict: the install dir is not the lock."""
        return self.outcome is None or self.outcome.ok


@contextlib.contextmanager
def locked_project(project: Project, report: Report | None = None) -> Iterator[Project]:
    """Hold the project's lock (shared by every process on the machine); undo or
    finish an interrupted transaction first (and say so in `report`), and
    delete the temp files of writes that were killed."""
    from skillpm.fs import remove_stale_temps

    installer = project.installer()
    with installer.lock():
        from skillpm.installer import COMPLETED

        done = installer.recover(hold=True)
        fresh = project.reload()
        remove_stale_temps(fresh.root, [fresh.manifest.path.name, fresh.lock_path.name])
        remove_stale_temps(installer.state_dir, ["state.json", "targets.json", ".gitignore"])
        if done:
            fresh.notes.append(done)
            if report is not None:
                report.notes.append(done)
            if done == COMPLETED:  # the folders moved: agent targets follow them, then the transaction closes
                from skillpm.ops.targets import sync_project_targets

                targets = sync_project_targets(fresh, fresh.locked)
                installer.finish()
                if report is not None:
                    report.recovered_targets = targets
        yield fresh


def lock_drift(project: Project) -> str | None:
    """Why skills.lock does not satisfy the manifest, or None when it does."""
    from skillpm.semver import Version

    if project.lock is None:
        # a project with no skills needs no lock: `init` then `install --frozen` is fine
        return "there is no skills.lock" if project.manifest.skills else None
    by_name = project.lock.by_name()
    roots = []
    for name, spec in project.manifest.skills.items():
        key = root_key(name, spec)
        roots.append(key)
        entry = by_name.get(key)
        if entry is None:
            return f"{key} is in {project.manifest.path.name} but not in skills.lock"
        if not _entry_matches_spec(entry, spec, project.root, project.manifest.registries):
            return f"{key}: skills.lock has {entry.source} but {project.manifest.path.name} asks for {spec}"
        if not is_pinned(spec) and not requirement(spec).allows(Version.parse(entry.version)):
            return f"{key}: locked version {entry.version} does not satisfy {spec.range}"
    changed = _changed_local_skill(project)
    if changed:
        return changed
    reachable: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in reachable:
            continue
        reachable.add(name)
        entry = by_name.get(name)
        if entry is None:
            return f"{name} is required but not locked"
        stack.extend(entry.dependencies)
    extra = sorted(set(by_name) - reachable)
    if extra:
        return f"{extra[0]} is locked but nothing in {project.manifest.path.name} requires it"
    return None


def _changed_local_skill(project: Project) -> str | None:
    """A local path skill whose folder no longer has the locked digest: the lock is
    stale (a checkout elsewhere would fail `install --frozen` on the digest)."""
    from skillpm.digest import tree_digest
    from skillpm.errors import SkillpmError

    for entry in project.locked:
        if entry.kind != "path":
            continue
        folder = project.root / entry.location
        try:
            digest = tree_digest(folder)
        except (OSError, SkillpmError):
            return f"{entry.name}: its folder {entry.location} is missing or unreadable"
        if digest != entry.integrity:
            return f"{entry.name}: the local skill in {entry.location} changed since skills.lock was written"
    return None


def _entry_matches_spec(entry: LockedSkill, spec: Spec, root: Path, registries: dict[str, str]) -> bool:
    if isinstance(spec, PathSpec):
        from skillpm.sources.path import relative_location

        return entry.kind == "path" and entry.location == relative_location((root / Path(spec.path).expanduser()).resolve(), root)
    if isinstance(spec, GitSpec):
        if entry.kind != "git" or entry.location != redact_url(spec.url) or (entry.path or "") != spec.path:
            return False
        if spec.tag and entry.tag != spec.tag:
            return False
        if spec.branch and entry.branch != spec.branch:
            return False
        if spec.rev and not (entry.commit or "").startswith(spec.rev):
            return False
        return True
    if entry.kind != "registry":
        return False
    from skillpm.errors import SourceError
    from skillpm.registries.locations import location_for, parse_location

    location, _ = location_for(spec.registry, registries, root=root)
    try:
        locked = parse_location(entry.location, root=root)
    except SourceError:
        return False
    # the same registry however spelled: a lock's ./vendor/registry/ is the folder configured as /abs/…/vendor/registry
    return locked.key == location.key


def source_from_lock(entry: LockedSkill, project: Project, *, offline: bool = False) -> tuple[Source, Release]:
    """Rebuild the source of a lock entry, to fetch exactly what was locked."""
    from skillpm.semver import Version

    version = Version.parse(entry.version)
    release = Release(
        version=version,
        tag=entry.tag,
        branch=entry.branch,
        commit=entry.commit,
        checksum=entry.checksum,
        integrity=entry.integrity,
    )
    if entry.kind == "path":
        from skillpm.sources.path import PathSource

        return PathSource(PathSpec(entry.location), project.root), release
    if entry.kind == "git":
        from skillpm.sources.git import GitSource

        spec = GitSpec(url=_git_url(entry, project), path=entry.path or "", tag=entry.tag, branch=entry.branch, rev=entry.commit)
        return GitSource(spec, offline=offline), release
    from skillpm.sources.registry import registry_source_from_lock

    return registry_source_from_lock(entry, project, offline=offline), release


def _git_url(entry: LockedSkill, project: Project) -> str:
    """The lock holds URLs without credentials; prefer the manifest's own spelling."""
    for spec in project.manifest.skills.values():
        if isinstance(spec, GitSpec) and redact_url(spec.url) == entry.location:
            return spec.url
    return entry.location


def _lock_sources(project: Project, *, offline: bool) -> Callable[[list[LockedSkill]], dict]:
    """For the installer: the sources of exactly the lock entries its plan fetches
    (a no-op install asks no remote anything); every digest is checked."""

    def prepare(entries: list[LockedSkill]) -> dict:
        out = {}
        for entry in entries:
            if entry.kind == "git" and entry.tag and entry.commit:  # only what is fetched again asks the remote
                from skillpm.sources.git import check_tag

                check_tag(_git_url(entry, project), entry.tag, entry.commit, name=entry.name, offline=offline)
            out[entry.folder] = source_from_lock(entry, project, offline=offline)
        git_items = [out[e.folder] for e in entries if e.kind == "git"]
        if git_items and not offline:
            from skillpm.sources.git import prefetch_releases

            prefetch_releases(git_items)  # one request per remote; errors resurface per skill
        return out

    return prepare


def _write_lock_only(project: Project, entries: list[LockedSkill]) -> bool:
    """Write skills.lock; False (and no write) when its bytes would not change."""
    text = dump_lock(entries)
    if project.lock_text == text:
        return False
    atomic_write(project.lock_path, text)
    return True


def _resolve(project: Project, specs: dict[str, Spec], *, unlock=None, update_all=False, offline=False) -> Resolved:
    from skillpm.ops.progress import step

    with step("Resolving"):
        return resolve(
            specs,
            root=project.root,
            registries=project.manifest.registries,
            locked=project.locked or project.salvaged,
            unlock=unlock,
            update_all=update_all,
            offline=offline,
        )


def _apply(
    project: Project,
    planned: list[Planned],
    *,
    force: bool,
    manifest_text: str | None = None,
    frozen: bool = False,
    refuse: str | None = None,
    prepare: Callable[[list[LockedSkill]], dict] | None = None,
) -> Outcome:
    """One transaction: the install dir, skills.toml and skills.lock (only files
    whose bytes change; --frozen writes neither), then the agent targets.

    `refuse` (see Installer.apply): by default (`add`, `remove`, `update`)
    nothing changes when a folder whose lock entry this command changes holds
    local edits; `install` applies the rest ("never"); `install --frozen`
    changes nothing on any conflict ("any"). Agent targets are taken over
    (foreign entries replaced, with backups) only by `install --force`.
    """
    from skillpm.ops.progress import Ticking, step
    from skillpm.ops.targets import sync_project_targets

    def files(entries: list[LockedSkill]) -> list[tuple[Path, str]]:
        if frozen:
            return []
        writes = [(project.manifest.path, manifest_text)] if manifest_text is not None else []
        return [*writes, (project.lock_path, dump_lock(entries))]

    planned = [
        Planned(entry=p.entry, source=Ticking(p.source, p.entry.name), release=p.release, check_integrity=p.check_integrity)
        if p.source is not None
        else p
        for p in planned
    ]
    if prepare is not None:
        inner = prepare

        def prepare(entries: list[LockedSkill]) -> dict:
            return {f: (Ticking(src, f), rel) for f, (src, rel) in inner(entries).items()}

    with step("Installing"):
        installer = project.installer()
        changing = _changing_folders(project.locked, [p.entry for p in planned]) if refuse is None else refuse
        outcome = installer.apply(planned, force=force, refuse=changing, files=files, hold=True, prepare=prepare)
    # after the commit point: agent targets follow the install dir (failures are reported, not raised)
    # a folder kept for its local edits keeps its links too: agents still see what the user kept
    try:
        outcome.targets = sync_project_targets(project, [*outcome.entries, *outcome.kept], force=force and refuse is not None)
    finally:
        installer.finish()  # killed before this (no finally runs), recovery syncs the targets again
    return outcome


def _changing_folders(old: list[LockedSkill], new: list[LockedSkill]) -> set[str]:
    """The folders whose lock entry goes from `old` to `new` changes (added, moved or dropped)."""
    before = {e.folder: e for e in old}
    after = {e.folder: e for e in new}
    return {f for f in set(before) | set(after) if before.get(f) != after.get(f)}


def install(project: Project, *, frozen: bool = False, force: bool = False, offline: bool = False) -> Report:
    report = Report()
    with locked_project(project, report) as project:
        drift = lock_drift(project)
        if drift and frozen:
            raise LockfileError(
                f"skills.lock is out of date with {project.manifest.path.name}: {drift}",
                hint="run `skillpm lock` and commit skills.lock; --frozen changes nothing",
            )
        # local path skills change in place: re-read them (no network for them) unless frozen
        if drift or (not frozen and any(e.kind == "path" for e in project.locked)):
            resolved = _resolve(project, project.manifest.skills, offline=offline)
            report.warnings.extend(resolved.sources.warnings)
            report.stats = resolved.stats
            planned = resolved.planned
        else:
            planned = [Planned(entry=e) for e in project.locked]
        report.outcome = _apply(project, planned, force=force, frozen=frozen, refuse="any" if frozen else "never",
                                prepare=_lock_sources(project, offline=offline))
    return report


def _pin_web_ref(spec: GitSpec, entry: LockedSkill) -> GitSpec:
    """A web URL's `ref` is a tag or a branch, and its path may have been split
    differently; the manifest records what the source resolved it to."""
    from dataclasses import replace

    pin = {"tag": entry.tag} if entry.tag else {"branch": entry.branch} if entry.branch else {"rev": entry.commit}
    return replace(spec, ref=None, path=entry.path or "", **pin)


class SelectionNeeded(UsageError):
    """A repository holds several skills and the user named none."""


def add(
    project: Project,
    spec_texts: list[str],
    *,
    cwd: Path,
    force: bool = False,
    offline: bool = False,
    skills: list[str] | None = None,
    all_skills: bool = False,
    choose: Callable[[str, list], list] | None = None,
) -> Report:
    """Add specs to the manifest and install them.

    A git spec without a path is searched for skills: one is taken as is,
    several need `skills` (names), `all_skills`, or `choose(url, found)`
    (the CLI's prompt on a terminal); otherwise SelectionNeeded (exit 2).
    """
    report = Report()
    with locked_project(project, report) as project:
        new: dict[str, Spec] = {}
        for text in spec_texts:
            spec = parse_spec(text)
            if isinstance(spec, GitSpec) and redact_url(spec.url) != spec.url:
                report.warnings.append(
                    f"credentials in {redact_url(spec.url)} were used for this run but not written to skills.toml or skills.lock; "
                    "configure a git credential helper (or SSH) for later runs"
                )
            if (skills or all_skills) and not (isinstance(spec, GitSpec) and not spec.path):
                raise UsageError(
                    f"--skill and --all pick skills from a git repository; {text!r} names one skill already",
                    hint="drop the flag, or give the repository URL without #path=",
                )
            if isinstance(spec, GitSpec) and not spec.path:
                named = _discover(spec, skills or [], all_skills, choose, offline)
            else:
                named = [_name_new_spec(spec, project, cwd)]
            for name, spec in named:
                if name in new and spec_identity(new[name], project.root) != spec_identity(spec, project.root):
                    raise UsageError(f"two specs name the skill {name!r}: {new[name]} and {spec}")
                new[name] = spec
        specs = {k: v for k, v in project.manifest.skills.items() if k not in new}
        specs.update(new)
        unlock = {root_key(k, s) for k, s in new.items()}
        resolved = _resolve(project, specs, unlock=unlock, offline=offline)
        report.warnings.extend(resolved.sources.warnings)
        report.stats = resolved.stats
        locked_now = {p.entry.name: p.entry for p in resolved.planned}
        versions = {name: e.version for name, e in locked_now.items()}
        set_entries = {}
        for name, spec in new.items():
            if isinstance(spec, GitSpec) and spec.ref:
                spec = _pin_web_ref(spec, locked_now[root_key(name, spec)])
            key, value = spec_to_entry(spec)
            if isinstance(spec, RegistrySpec) and spec.range is None:
                value = f"^{versions[spec.name]}"
            set_entries[key or name] = value
        text = edit_skills(project.manifest_text, in_pyproject=project.manifest.in_pyproject, set_entries=set_entries)
        report.outcome = _apply(project, resolved.planned, force=force, manifest_text=text)
    return report


def _discover(spec: GitSpec, wanted: list[str], all_skills: bool, choose, offline: bool) -> list[tuple[str, Spec]]:
    from dataclasses import replace

    from skillpm.errors import SourceError
    from skillpm.sources.git import discover

    found = discover(spec, offline=offline)
    where = redact_url(spec.url)
    if not found:
        raise SourceError(f"{where}: no SKILL.md found (looked at the root, skills/ and folders up to 4 levels deep)")
    if wanted:
        by_key = {d.name: d for d in found} | {d.path: d for d in found if d.path}
        missing = [w for w in wanted if w not in by_key]
        if missing:
            raise UsageError(f"{where} has no skill named {missing[0]!r}", hint="it holds: " + _describe_found(found))
        picked = [by_key[w] for w in wanted]
    elif all_skills or len(found) == 1:
        picked = found
    elif choose is not None:
        picked = choose(where, found)
    else:
        raise SelectionNeeded(
            f"{where} holds {len(found)} skills: {_describe_found(found)}",
            hint="add --skill NAME (repeatable) or --all",
        )
    return [(d.name, replace(spec, path=d.path) if d.path else spec) for d in picked]


def _describe_found(found: list) -> str:
    return ", ".join(f"{d.name} ({d.path or 'root'})" for d in found)


def _name_new_spec(spec: Spec, project: Project, cwd: Path) -> tuple[str, Spec]:
    if isinstance(spec, PathSpec):
        from skillpm.skill import load_skill
        from skillpm.sources.path import relative_location

        folder = (cwd / Path(spec.path).expanduser()).resolve()
        if not folder.is_dir():
            raise UsageError(f"{spec.path}: no such folder", hint="give the path of a folder holding a SKILL.md")
        info, _ = load_skill(folder)
        return info.name, PathSpec(relative_location(folder, project.root))
    return spec.name, spec


def remove(project: Project, names: list[str], *, force: bool = False, offline: bool = False) -> Report:
    report = Report()
    with locked_project(project, report) as project:
        keys = _manifest_keys(project, names)
        specs = {k: v for k, v in project.manifest.skills.items() if k not in keys}
        resolved = _resolve(project, specs, offline=offline)
        report.warnings.extend(resolved.sources.warnings)
        text = edit_skills(project.manifest_text, in_pyproject=project.manifest.in_pyproject, remove=keys)
        report.outcome = _apply(project, resolved.planned, force=force, manifest_text=text)
    return report


def _manifest_keys(project: Project, names: list[str]) -> list[str]:
    """The manifest keys `names` mean. A name no longer in the manifest whose
    folder skillpm still holds (kept for its local edits) means no key: the
    transaction then deals with its folder (`--force` deletes it, with a backup)."""
    folders = {e.name: e.folder for e in project.locked}
    kept = project.installer().read_state()
    kept_names = {f for f in kept if f not in folders.values()}
    kept_names |= {r.name for f, r in kept.items() if f not in folders.values()}
    keys = []
    for wanted in names:
        match = [
            k
            for k, s in project.manifest.skills.items()
            if wanted in (k, root_key(k, s), folders.get(root_key(k, s)))
        ]
        if not match and wanted in kept_names:
            continue
        if not match:
            known = ", ".join(sorted(project.manifest.skills)) or "none"
            raise UsageError(f"{wanted!r} is not in {project.manifest.path.name} (its skills: {known})")
        keys.extend(match)
    return keys


def lock(project: Project, *, offline: bool = False) -> Report:
    """Resolve and write skills.lock; install nothing."""
    report = Report()
    with locked_project(project, report) as project:
        if project.salvaged:
            report.notes.append(
                "skills.lock had merge conflicts: keeping the versions either side locked where "
                f"{project.manifest.path.name} still allows them (the higher one where the sides differ)"
            )
        elif project.lock_error:
            report.notes.append(f"ignored the unreadable skills.lock ({project.lock_error}); regenerating it from {project.manifest.path.name}")
        resolved = _resolve(project, project.manifest.skills, offline=offline)
        report.warnings.extend(resolved.sources.warnings)
        report.stats = resolved.stats
        entries = learn_digests(resolved.planned)
        report.wrote_lock = _write_lock_only(project, entries)
        report.changes = _diff(project.locked or project.salvaged, entries)
    return report


def learn_digests(planned: list[Planned]) -> list[LockedSkill]:
    """Fetch what the lock needs a digest for, into a temporary folder."""
    from skillpm.digest import tree_digest

    entries = []
    with tempfile.TemporaryDirectory(prefix="skillpm-lock-") as tmp:
        for i, plan in enumerate(planned):
            entry = plan.entry
            if (entry.integrity == UNKNOWN_DIGEST or not plan.check_integrity) and plan.source is not None:
                dest = Path(tmp) / str(i)
                plan.source.materialize(plan.release, dest)
                entry = entry.model_copy(update={"integrity": tree_digest(dest)})
            entries.append(entry)
    return entries


def update(project: Project, names: list[str], *, dry_run: bool = False, force: bool = False, offline: bool = False) -> Report:
    report = Report()
    with locked_project(project, report) as project:
        if names:
            known = {e.name for e in project.locked} | {root_key(k, s) for k, s in project.manifest.skills.items()}
            folders = {e.folder: e.name for e in project.locked}
            unlock = set()
            for n in names:
                if n in known:
                    unlock.add(n)
                elif n in folders:
                    unlock.add(folders[n])
                else:
                    raise UsageError(f"{n!r} is not a skill of this project", hint="see `skillpm list`")
            resolved = _resolve(project, project.manifest.skills, unlock=unlock, offline=offline)
        else:
            resolved = _resolve(project, project.manifest.skills, update_all=True, offline=offline)
        report.warnings.extend(resolved.sources.warnings)
        report.stats = resolved.stats
        new_entries = [p.entry for p in resolved.planned]
        report.changes = _diff(project.locked, new_entries)
        if dry_run:  # what the real run would stop at
            report.blocked = project.installer().blocked(new_entries, _changing_folders(project.locked, new_entries), force=force)
        else:
            report.outcome = _apply(project, resolved.planned, force=force)
    return report


def _diff(old: list[LockedSkill], new: list[LockedSkill]) -> list[tuple[str, str | None, str | None]]:
    before = {e.name: e for e in old}
    after = {e.name: e for e in new}
    changes = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None or a.version != b.version or (a.commit and b.commit and a.commit != b.commit):
            changes.append((name, _label(a), _label(b)))
    return changes


def _label(e: LockedSkill | None) -> str | None:
    if e is None:
        return None
    return f"{e.version} ({e.commit[:12]})" if e.commit else e.version


def lock_new_specs(
    project: Project,
    new: dict[str, Spec],
    *,
    offline: bool = False,
    edit_manifest: Callable[[Project, str], str] | None = None,
) -> Report:
    """Add `new` (skills.toml key -> spec, keys not yet in the manifest) to
    skills.toml and skills.lock; install nothing (`skillpm import`).

    Under the project's lock: resolves the manifest's skills plus `new` (the
    new ones unlocked, the rest kept at their locked versions), learns the
    digests the lock needs, then writes skills.toml and skills.lock in one
    journaled transaction (both or neither). `edit_manifest(project, text)`
    may change skills.toml's new text further in the same transaction
    (`import` adds the agent targets the other tool used).
    `report.changes` lists what changed in the lock.
    """
    report = Report()
    with locked_project(project, report) as project:
        taken = [k for k in new if k in project.manifest.skills]
        if taken:
            raise UsageError(f"already in {project.manifest.path.name}: {', '.join(sorted(taken))}")
        if not new:
            if edit_manifest is not None:
                text = edit_manifest(project, project.manifest_text)
                project.installer().commit_files([(project.manifest.path, text)])
            return report
        specs = dict(project.manifest.skills)
        specs.update(new)
        resolved = _resolve(project, specs, unlock={root_key(k, s) for k, s in new.items()}, offline=offline)
        report.warnings.extend(resolved.sources.warnings)
        report.stats = resolved.stats
        entries = learn_digests(resolved.planned)
        set_entries = {}
        for key, spec in new.items():
            override, value = spec_to_entry(spec)
            set_entries[override or key] = value
        text = edit_skills(project.manifest_text, in_pyproject=project.manifest.in_pyproject, set_entries=set_entries)
        if edit_manifest is not None:
            text = edit_manifest(project, text)
        project.installer().commit_files([(project.manifest.path, text), (project.lock_path, dump_lock(entries))])
        report.changes = _diff(project.locked, entries)
    return report


def init(root: Path, *, install_dir: str | None = None) -> Path:
    from skillpm.manifest import DEFAULT_INSTALL_DIR, MANIFEST_NAME, initial_text

    path = root / MANIFEST_NAME
    if path.exists():
        raise SkillpmError(f"{path} already exists", hint="edit it, or use `skillpm add` to add skills")
    atomic_write(path, initial_text(install_dir or DEFAULT_INSTALL_DIR))
    return path


__all__ = ["Report", "add", "init", "install", "lock", "lock_drift", "load_project", "remove", "update"]
