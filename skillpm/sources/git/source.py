"""GitSource: skills from git repositories, versions from tags.

    releases()      one `git ls-remote` (no clone): the tags that are versions of
                    this skill (see tags.py), or the single pinned / default-branch
                    commit when there are none or the spec pins one
    dependencies()  SKILL.md (+ metadata.json) read from the mirror at the commit
    materialize()   `git archive` of the skill's folder at the commit, extracted safely
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from skillpm.errors import SkillpmError, SourceError
from skillpm.skill import SIDECAR_FILE, SKILL_FILE
from skillpm.sources.base import Release, Source
from skillpm.spec import GitSpec, check_ref, normalize_subpath
from skillpm.sources.git.command import GitFailed, check_url, display_url
from skillpm.sources.git.mirror import Mirror, NotCachedError
from skillpm.sources.git.remote import check_tag, default_branch, remote_refs
from skillpm.sources.git.tags import FULL_SHA, RemoteRefs, resolve_web_ref, skill_tag_versions, version_for_tag

__all__ = ["GitSource", "materialize_locked", "prefetch", "prefetch_releases", "read_skill_at"]



class GitSource(Source):
    """One git spec: `url`, optional `path` inside the repository, optional pin."""

    def __init__(self, spec: GitSpec, *, offline: bool = False, strict: bool = False) -> None:
        self.display_url = check_url(spec.url)
        for value in spec.pins().values():
            check_ref(value)
        self.spec = spec
        self.url = spec.url
        self.path = normalize_subpath(str(spec), spec.path) if spec.path else ""
        self.offline = offline
        self.strict = strict
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self._releases: list[Release] | None = None
        self._infos: dict[str, object] = {}
        self._checked: set[str] = set()
        self._mirror: Mirror | None = None

    # ---- identity ------------------------------------------------------------ #

    @property
    def name(self) -> str:
        """The skill's default package key (folder name or repository name)."""
        if self.path:
            return self.path.rsplit("/", 1)[-1]
        return self.spec.name

    @property
    def lock_source(self) -> str:
        return "git+" + self.display_url

    @property
    def mirror(self) -> Mirror:
        if self._mirror is None:
            self._mirror = Mirror(self.url, offline=self.offline)
        return self._mirror

    def _where(self, commit: str | None = None, label: str | None = None) -> str:
        s = self.display_url
        if self.path:
            s += f"#path={self.path}"
        if label:
            s += f" ({label})"
        elif commit:
            s += f" at {commit[:12]}"
        return s

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    # ---- releases -------------------------------------------------------------- #

    def refs(self) -> RemoteRefs:
        return remote_refs(self.url, offline=self.offline)

    def releases(self) -> list[Release]:
        with self._lock:
            if self._releases is None:
                self._releases = self._compute_releases()
            return list(self._releases)

    def _compute_releases(self) -> list[Release]:
        spec = self.spec
        if spec.rev:
            # (a lock entry gives the commit plus the tag or branch it came from)
            return [self._rev_release(spec.rev, tag=spec.tag, branch=spec.branch)]
        refs = self.refs()
        if spec.ref:
            hit = resolve_web_ref(refs, spec.ref, self.path)
            if hit is None:
                raise SourceError(
                    f"{spec.ref!r} is neither a tag nor a branch of {self.display_url}",
                    hint="check the URL; for a commit use #rev=<sha>",
                )
            kind, name, path = hit
            self.path = path
            if kind == "tag":
                return [self._tag_release(refs, name)]
            if kind == "branch":
                return [self._branch_release(refs, name)]
            return [self._rev_release(name)]
        if spec.tag:
            return [self._tag_release(refs, spec.tag)]
        if spec.branch:
            return [self._branch_release(refs, spec.branch)]
        tagged = skill_tag_versions(refs.tags, self.path)
        if tagged:
            return [Release(version=tv.version, tag=tv.tag, commit=tv.commit) for tv in tagged]
        branch, commit = default_branch(self.url, offline=self.offline)
        if not self.offline:
            self.mirror.ensure_commit(commit)
            self.mirror.set_head(branch)
        return [Release(version=self._declared_version(commit), branch=branch, commit=commit)]

    def _tag_release(self, refs: RemoteRefs, tag: str) -> Release:
        commit = refs.tags.get(tag)
        if commit is None:
            raise SourceError(f"tag {tag} not found in {self.display_url}", hint="list tags with `git ls-remote --tags <url>`")
        version = version_for_tag(tag, self.path)
        if version is None:
            version = self._declared_version(commit)
        return Release(version=version, tag=tag, commit=commit)

    def _branch_release(self, refs: RemoteRefs, branch: str) -> Release:
        commit = refs.heads.get(branch)
        if commit is None:
            raise SourceError(f"branch {branch} not found in {self.display_url}")
        return Release(version=self._declared_version(commit), branch=branch, commit=commit)

    def _rev_release(self, rev: str, *, tag: str | None = None, branch: str | None = None) -> Release:
        mirror = self.mirror
        mirror.sync()
        commit = mirror.resolve_commit(rev.lower())
        if commit is None and FULL_SHA.match(rev.lower()) and not self.offline:
            # not on any branch or tag we have: maybe fetchable by id, but then
            # it is unreachable, which the check below reports precisely
            with mirror.locked():
                mirror._fetch_commit(rev.lower())
            commit = mirror.resolve_commit(rev.lower())
        if commit is None:
            if self.offline:
                raise NotCachedError(f"commit {rev} of {self.display_url}")
            raise SourceError(
                f"rev {rev} not found in {self.display_url}",
                hint="give a commit that is on a branch or tag of the repository",
            )
        if not mirror.reachable(commit):
            raise SourceError(
                f"rev {rev} ({commit[:12]}) of {self.display_url} is not reachable from any branch or tag",
                hint="pin a commit that is on a branch or tag (unreachable commits can vanish in garbage collection)",
            )
        version = version_for_tag(tag, self.path) if tag else None
        if version is None:
            version = self._declared_version(commit)
        return Release(version=version, tag=tag, branch=branch, commit=commit)

    def _declared_version(self, commit: str):  # noqa: ANN202 - Version
        from skillpm.semver import InvalidVersion, Version

        info = self._info(commit)
        raw = info.version
        if raw:
            try:
                return Version.parse(raw)
            except (InvalidVersion, ValueError):
                self._warn(f"{self._where(commit)}: metadata.version {raw!r} is not SemVer; using 0.0.0")
        return Version.parse("0.0.0")

    # ---- reading SKILL.md ------------------------------------------------------- #

    def _info(self, commit: str):  # noqa: ANN202 - SkillInfo
        with self._lock:
            if commit in self._infos:
                return self._infos[commit]
        self.mirror.ensure_commit(commit)
        info, problems = read_skill_at(self.mirror, commit, self.path, folder_name=self.name)
        for p in problems:
            if not p.is_error:
                self._warn(f"{self._where(commit)}: {p}")
        if info is None:
            first = next((p for p in problems if p.is_error), None)
            raise SourceError(f"{self._where(commit)}: not a valid skill: {first.field + ': ' + first.message if first else 'unreadable SKILL.md'}")
        with self._lock:
            self._infos[commit] = info
        return info

    def _check_declared(self, release: Release, raw: str | None = None, *, known: bool = False) -> None:
        """Warn (or fail when strict) if SKILL.md's metadata.version disagrees with the tag.

        `raw` is the declared version when the caller already has it (`known`).
        """
        if not release.tag or not release.commit:
            return
        key = f"{release.tag}\0{release.commit}"
        if key in self._checked:
            return
        from skillpm.semver import InvalidVersion, Version

        if not known:
            raw = self._info(release.commit).version
        if raw:
            try:
                same = Version.parse(raw) == release.version
            except (InvalidVersion, ValueError):
                same = False
            if not same:
                msg = (
                    f"{self._where(label='tag ' + release.tag)}: SKILL.md declares metadata.version {raw} "
                    f"but the tag says {release.version}; the tag wins"
                )
                if self.strict:
                    raise SourceError(msg, hint="make the tag and metadata.version agree")
                self._warn(msg)
        self._checked.add(key)

    def dependencies(self, release: Release) -> tuple[str, ...]:
        if release.commit is None:
            raise SourceError(f"{self.display_url}: release {release.version} has no commit")
        info = self._info(release.commit)
        self._check_declared(release)
        return tuple(info.dependencies)

    def skill_name(self, release: Release) -> str:
        """The SKILL.md `name` at that commit: the folder it installs into."""
        if release.commit is None:
            return self.name
        return self._info(release.commit).name

    # ---- installing ----------------------------------------------------------- #

    def materialize(self, release: Release, dest: Path) -> None:
        if release.commit is None or not FULL_SHA.match(release.commit):
            raise SourceError(f"{self.display_url}: release {release.version} has no full commit id")
        self.mirror.ensure_commit(release.commit)
        with self._lock:
            info = self._infos.get(release.commit)
        if info is not None or not release.tag:
            self._check_declared(release)
            self.mirror.export(release.commit, self.path, Path(dest))
            return
        # SKILL.md not read yet (installing from a lock): check the exported copy
        # instead of fetching it separately
        self.mirror.export(release.commit, self.path, Path(dest))
        try:
            self._check_declared(release, _declared_version_in(Path(dest)), known=True)
        except SkillpmError:
            import shutil

            shutil.rmtree(dest, ignore_errors=True)
            raise

    def candidates(self) -> list[Release]:
        """The releases the spec's range allows (all when it has none), newest first."""
        releases = self.releases()
        if self.spec.range:
            from skillpm.semver import Range

            allowed = Range.parse(self.spec.range)
            releases = [r for r in releases if allowed.allows(r.version)]
        return releases

    def check_tag(self, tag: str, locked_commit: str) -> None:
        """Raise TagMovedError if `tag` no longer names `locked_commit` (ops: install from lock)."""
        check_tag(self.url, tag, locked_commit, name=self.name, offline=self.offline)


# --------------------------------------------------------------------------- #


def read_skill_at(mirror: Mirror, commit: str, path: str, *, folder_name: str | None = None):  # noqa: ANN201
    """Parse SKILL.md (+ metadata.json) of folder `path` at `commit` with skill.read_skill.

    Only those two files are fetched (in a partial mirror). Returns (info, problems).
    """
    from dataclasses import replace

    from skillpm.skill import read_skill

    where = f"{mirror.display}{'#path=' + path if path else ''} at {commit[:12]}"
    prefix = f"{commit}:{path}/" if path else f"{commit}:"
    names = {f: prefix + f for f in (SKILL_FILE, "skill.md", SIDECAR_FILE)}
    objs = None
    if not mirror.fresh:
        try:  # usually everything is in the mirror already: one process
            objs = mirror.cat_objects([f"{commit}:{path}", *names.values()])
        except GitFailed:  # a partial mirror without these file contents yet
            objs = None
    if objs is None or objs.get(f"{commit}:{path}") is None:
        entries = mirror.read_trees([f"{commit}:{path}"]).get(f"{commit}:{path}")
        if entries is None:
            raise SourceError(f"{where}: no folder {path!r} in the repository")
        wanted = {name: oid for mode, name, oid in entries if name in names and mode.startswith("100")}
        treeish = f"{commit}:{path}" if path else commit
        if wanted:
            mirror.ensure_blobs(treeish, only=set(wanted.values()), what=f"SKILL.md of {where}")
        objs = mirror.cat_objects(names.values())
    files = {f: objs[n][1] for f, n in names.items() if objs.get(n) is not None and objs[n][0] == "blob"}
    if SKILL_FILE not in files and "skill.md" not in files:
        raise SourceError(
            f"{where}: no SKILL.md {'in ' + path if path else 'at the repository root'}",
            hint="point #path= at a folder holding a SKILL.md",
        )
    name = folder_name or (path.rsplit("/", 1)[-1] if path else "skill")
    if not path:
        # a repository-root skill: its folder is named after the skill, not the repo
        declared = _declared_name(files.get(SKILL_FILE) or files["skill.md"])
        if declared:
            name = declared
    with tempfile.TemporaryDirectory(prefix="skillpm-git-") as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        for fname, data in files.items():
            (folder / fname).write_bytes(data)
        info, problems = read_skill(folder, strict=False)
    # problems name the temp folder: show the repository location instead
    fixed = [replace(p, path=p.path.replace(str(folder), where)) for p in problems]
    return info, fixed


def _declared_version_in(folder: Path) -> str | None:
    """The version an exported skill declares, read as the resolve path reads it
    (read_skill: metadata.version, else metadata.json). None if unreadable."""
    from skillpm.skill import read_skill

    info, _problems = read_skill(folder, strict=False)
    return info.version if info is not None else None


def _declared_name(data: bytes) -> str | None:
    import re

    from skillpm.skill import parse_frontmatter

    try:
        fm, _body, _problems = parse_frontmatter(data.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - read_skill reports the real problem
        return None
    name = fm.get("name") if isinstance(fm, dict) else None
    return name if isinstance(name, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name) else None


def materialize_locked(url: str, path: str, commit: str, dest: Path, *, offline: bool = False) -> None:
    """Install exactly `commit` (from a lock file): fetch it by id if the mirror lacks it."""
    display = check_url(url)
    commit = commit.lower()
    if not FULL_SHA.match(commit):
        raise SourceError(f"lock entry for {display}: {commit!r} is not a full 40-hex commit id")
    path = normalize_subpath(display, path) if path else ""
    mirror = Mirror(url, offline=offline)
    mirror.ensure_commit(commit, by_id_first=True)
    mirror.export(commit, path, Path(dest))


def prefetch(sources: Iterable[Source], *, max_workers: int = 8, files: bool = True) -> dict[str, SkillpmError | None]:
    """Get ready to resolve and install without further network round trips.

    For every distinct git remote, in parallel (one thread per remote): list its
    refs, create or update its mirror, and fetch in ONE request the SKILL.md
    and metadata.json of every candidate release of every source (and, with
    `files`, all files of each source's newest candidate, the likely install).
    Afterwards releases() and dependencies() read only the local mirror.

    Returns {redacted URL: None or the first error}; errors are raised again by
    the sources themselves when used, so callers may ignore the result.
    """
    group: dict[str, list[GitSource]] = {}
    for s in sources:
        if isinstance(s, GitSource) and not s.offline:
            group.setdefault(s.url, []).append(s)
    results: dict[str, SkillpmError | None] = {}
    if not group:
        return results

    def one(url: str) -> SkillpmError | None:
        first: SkillpmError | None = None
        try:
            remote_refs(url)
            mirror = group[url][0].mirror
            mirror.sync()
            metadata: list[tuple[str, str]] = []
            whole: list[tuple[str, str]] = []
            for src in group[url]:
                try:
                    cands = [r for r in src.candidates() if r.commit]
                except SkillpmError as exc:
                    first = first or exc
                    continue
                metadata += [(r.commit, src.path) for r in cands]  # type: ignore[misc]
                if files and cands:
                    whole.append((cands[0].commit, src.path))  # type: ignore[arg-type]
            mirror.prefetch_files(metadata, whole)
        except SkillpmError as exc:
            return exc
        return first

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(group))), thread_name_prefix="skillpm-git") as pool:
        futures = {display_url(url): pool.submit(one, url) for url in group}
        for display, fut in futures.items():
            results[display] = fut.result()
    return results


def prefetch_releases(
    items: Iterable[tuple[Source, Release] | tuple[str, str, str]], *, max_workers: int = 8, offline: bool = False
) -> dict[str, SkillpmError | None]:
    """Fetch all files of exactly the releases about to be installed: one request per remote.

    `items` are (GitSource, Release) pairs after resolving, or (url, path,
    commit) triples from a lock file; anything else is ignored. Commits missing
    from a mirror are fetched first (by id, as materialize_locked does).
    Afterwards materialize()/materialize_locked() of these only read the cache.
    Returns {redacted URL: None or the error}, like prefetch().
    """
    by_url: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        if len(item) == 2:
            src, rel = item  # type: ignore[misc]
            if not isinstance(src, GitSource) or src.offline or not rel.commit:
                continue
            url, path, commit = src.url, src.path, rel.commit
        else:
            url, path, commit = item  # type: ignore[misc]
        if offline or not FULL_SHA.match(str(commit).lower()):
            continue
        by_url.setdefault(url, []).append((str(commit).lower(), normalize_subpath(display_url(url), path) if path else ""))
    results: dict[str, SkillpmError | None] = {}
    if not by_url:
        return results

    def one(url: str) -> SkillpmError | None:
        try:
            mirror = Mirror(url)
            for commit in dict.fromkeys(c for c, _p in by_url[url]):
                mirror.ensure_commit(commit, by_id_first=True)
            mirror.prefetch_files([], by_url[url])
        except SkillpmError as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(by_url))), thread_name_prefix="skillpm-git") as pool:
        futures = {display_url(url): pool.submit(one, url) for url in by_url}
        for display, fut in futures.items():
            results[display] = fut.result()
    return results
