"""Finding the skills in a repository without checking it out.

`discover(url_or_spec, commit)` lists the commit's tree in the mirror
(`git ls-tree -r --name-only`) and reports every folder holding a `SKILL.md`:
the repository root, `skills/<name>/`, and any other folder up to
MAX_DEPTH levels deep (`plugins/p/skills/x` is depth 4). Only the SKILL.md
files themselves are fetched (one request), to read each skill's name and
version.
"""

from __future__ import annotations

from dataclasses import dataclass

from skillpm.errors import SourceError
from skillpm.skill import SKILL_FILE
from skillpm.spec import GitSpec, parse_spec
from skillpm.sources.git.mirror import Mirror
from skillpm.sources.git.tags import FULL_SHA

__all__ = ["DiscoveredSkill", "discover", "MAX_DEPTH"]

MAX_DEPTH = 4


@dataclass(frozen=True)
class DiscoveredSkill:
    path: str  # folder inside the repository, "" for the root
    name: str  # frontmatter name, else the folder's (or repository's) name
    version: str | None  # raw metadata.version, if any
    description: str | None = None


def _skill_folders(files: list[str]) -> list[str]:
    folders = []
    for f in files:
        parts = f.split("/")
        if parts[-1] != SKILL_FILE:
            continue
        folder = parts[:-1]
        if len(folder) > MAX_DEPTH:
            continue
        folders.append("/".join(folder))
    return sorted(set(folders))


def discover(spec_or_url: GitSpec | str, commit: str | None = None, *, offline: bool = False) -> list[DiscoveredSkill]:
    """The skills in the repository at `commit` (default: the spec's pin or the default branch)."""
    from skillpm.skill import parse_frontmatter
    from skillpm.sources.git.source import GitSource

    if isinstance(spec_or_url, str):
        parsed = parse_spec(spec_or_url)
        if not isinstance(parsed, GitSpec):
            raise SourceError(f"{spec_or_url!r} is not a git URL")
        spec = parsed
    else:
        spec = spec_or_url
    mirror = Mirror(spec.url, offline=offline)
    path = spec.path.strip("/")
    if commit is None:
        if spec.pins():
            source = GitSource(spec, offline=offline)
            commit = _pinned_commit(source)
            path = source.path  # a web URL's ref may have taken leading parts of the path
        else:
            from skillpm.sources.git.remote import default_branch

            branch, commit = default_branch(spec.url, offline=offline)
            mirror.ensure_commit(commit)
            mirror.set_head(branch)
    elif not FULL_SHA.match(commit):
        mirror.sync()
        resolved = mirror.resolve_commit(commit)
        if resolved is None:
            raise SourceError(f"{commit!r} is not a commit of {mirror.display}")
        commit = resolved
    mirror.ensure_commit(commit)
    folders = _skill_folders(mirror.list_files(commit))
    if path:
        prefix = path + "/"
        folders = [f for f in folders if f == path or f.startswith(prefix)]
    if not folders:
        return []
    # one ls-tree for the SKILL.md blob ids, one fetch for their contents
    trees = mirror.read_trees(f"{commit}:{folder}" for folder in folders)
    blob_ids: dict[str, str] = {}
    for folder in folders:
        for _mode, name, oid in trees.get(f"{commit}:{folder}") or ():
            if name == SKILL_FILE:
                blob_ids[folder] = oid
    mirror.ensure_blobs(commit, only=set(blob_ids.values()), what=f"the SKILL.md files of {mirror.display}")
    blobs = mirror.read_blobs(blob_ids.values())
    found = []
    for folder in folders:
        fm: dict = {}
        oid = blob_ids.get(folder)
        if oid is not None:
            try:
                fm, _body, _problems = parse_frontmatter(blobs[oid].decode("utf-8", "replace"))
            except Exception:  # noqa: BLE001 - discovery lists; validation happens on install
                fm = {}
        name = fm.get("name") if isinstance(fm.get("name"), str) and fm.get("name") else None
        meta = fm.get("metadata") if isinstance(fm.get("metadata"), dict) else {}
        version = meta.get("version") if isinstance(meta.get("version"), str) else None
        desc = fm.get("description") if isinstance(fm.get("description"), str) else None
        fallback = folder.rsplit("/", 1)[-1] if folder else GitSpec(url=spec.url).name
        found.append(DiscoveredSkill(path=folder, name=name or fallback, version=version, description=desc))
    return found


def _pinned_commit(source) -> str:  # noqa: ANN001
    releases = source.releases()
    commit = releases[0].commit
    assert commit is not None
    return commit
