"""Reading the lock files of other skill installers. Pure: text in, entries out.

Two formats, both JSON maps of skill name -> entry:

* `skills-lock.json` — the project lock of `npx skills` (vercel-labs/skills,
  src/local-lock.ts): `{"version": 1, "skills": {NAME: {"source", "ref"?,
  "sourceType", "skillPath"? (newer releases), "computedHash"}}}`. `source` is
  `owner/repo` for GitHub/GitLab, a URL for other git hosts, a path for
  local skills. `computedHash` is a sha256 over the installed files (not a git
  object), so it cannot name a commit.
* `~/.agents/.skill-lock.json` — the user lock shared by `npx skills`
  (src/skill-lock.ts, `$XDG_STATE_HOME/skills/.skill-lock.json` when that is
  set) and `gh skill` (cli/cli internal/skills/lockfile): `{"version": 3,
  "skills": {NAME: {"source", "sourceType", "sourceUrl", "skillPath"?,
  "skillFolderHash", "installedAt", "updatedAt", "ref"? (npx) | "pinnedRef"? (gh),
  "pluginName"?}}, "dismissed"?, "lastSelectedAgents"?}`. `skillFolderHash`
  is the git *tree* id of the skill folder, so the commit can be found by
  looking for it in the repository's history.

The agents a skill was installed for: an entry's own `agents` list when it has
one, else the lock's `lastSelectedAgents` (the user lock of `npx skills`: the
agents picked at the last install). The project lock records none; the
importer then looks at which agent folders hold the skills.

Merge-conflicted files are read the way `npx skills` heals them: both sides
are parsed and their skills united, the incoming side winning.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from skillpm.errors import SkillpmError
from skillpm.spec import SpecError, normalize_subpath

__all__ = ["ForeignSkill", "ImportFormatError", "parse_foreign_lock", "user_lock_path", "PROJECT_LOCK", "USER_LOCK"]

PROJECT_LOCK = "skills-lock.json"
USER_LOCK = ".skill-lock.json"
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_OWNER_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_CONFLICT = re.compile(r"^<{7}( |$)", re.MULTILINE)
_NO_GIT = {
    "well-known": "a well-known HTTP skills index, not a git repository",
    "direct-url": "a single SKILL.md URL, not a git repository",
    "mintlify": "a Mintlify docs page, not a git repository",
    "huggingface": "a Hugging Face Space file, not a git repository",
    "node_modules": "a skill shipped inside an npm package (node_modules)",
}


class ImportFormatError(SkillpmError):
    """The file is not a lock file skillpm knows how to import."""


@dataclass(frozen=True)
class ForeignSkill:
    """One entry of a foreign lock, as far as skillpm can map it."""

    name: str
    source_type: str
    source: str
    url: str | None = None  # git URL to fetch from
    path: str | None = None  # the skill's folder in the repository ("" = root); None = unknown
    ref: str | None = None  # branch or tag it was installed from
    commit: str | None = None  # the commit, when the lock records one
    tree: str | None = None  # git tree id of the skill folder (user lock), to find the commit
    local_path: str | None = None  # sourceType "local"
    problem: str | None = None  # why it cannot be imported
    agents: tuple[str, ...] = ()  # the agents (npx skills names) the lock says it was installed for

    @property
    def where(self) -> str:
        return self.url or self.local_path or self.source


def user_lock_path(env: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Where `npx skills` and `gh skill` keep the user lock."""
    env = dict(os.environ) if env is None else env
    state = env.get("XDG_STATE_HOME")
    if state:
        candidate = Path(state) / "skills" / USER_LOCK
        if candidate.exists():
            return candidate
    return (home or Path.home()) / ".agents" / USER_LOCK


def _loads(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
        if _CONFLICT.search(text):
            sides = _conflict_sides(text)
            parsed = []
            for side in sides:
                try:
                    parsed.append(json.loads(side))
                except ValueError:
                    pass
            if parsed:
                data = {"version": max(int(p.get("version", 0) or 0) for p in parsed), "skills": {}}
                for p in parsed:  # ours first, theirs wins
                    data["skills"].update(p.get("skills") or {})
        if data is None:
            raise ImportFormatError(f"{where}: not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("skills"), dict):
        raise ImportFormatError(f"{where}: not a skills lock (expected an object with \"skills\")")
    return data


def _conflict_sides(text: str) -> tuple[str, str]:
    """Ours and theirs of a merge-conflicted file (one splitter for every lock skillpm reads)."""
    from skillpm.lockfile import conflict_sides

    return conflict_sides(text) or (text, text)


def _folder(skill_path: str | None) -> str | None:
    """The skill's folder in its repository from a recorded skillPath (the
    folder or its SKILL.md); None when it is not a plain relative folder."""
    if skill_path is None:
        return None
    p = skill_path.replace("\\", "/").strip()
    if p == "SKILL.md" or p.endswith("/SKILL.md"):
        p = p[: -len("SKILL.md")]
    while p.startswith("./"):
        p = p[2:]
    if p in ("", "."):
        return ""
    try:
        return normalize_subpath(skill_path, p)
    except SpecError:
        return None


def _git_url(source_type: str, source: str, source_url: str | None) -> str | None:
    if source_url and not source_url.startswith(("/", ".")):
        return source_url
    if "://" in source or source.startswith("git@"):
        return source
    if _OWNER_REPO.match(source):
        host = "gitlab.com" if source_type == "gitlab" else "github.com"
        return f"https://{host}/{source}.git"
    return None


def _agents(value: object) -> tuple[str, ...]:
    """A recorded list of agent names; anything else records none."""
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(a.strip() for a in value if isinstance(a, str) and a.strip()))


def parse_foreign_lock(text: str, where: str = "lock") -> tuple[str, list[ForeignSkill]]:
    """(kind, entries): kind is "project" (skills-lock.json) or "user" (.skill-lock.json)."""
    data = _loads(text, where)
    entries = data["skills"]
    last_selected = _agents(data.get("lastSelectedAgents"))
    user = any(isinstance(e, dict) and ("skillFolderHash" in e or "sourceUrl" in e) for e in entries.values())
    kind = "user" if user or int(data.get("version") or 0) >= 2 else "project"
    out = []
    for name, e in sorted(entries.items()):
        if not isinstance(e, dict):
            out.append(ForeignSkill(name, "?", "?", problem="entry is not an object"))
            continue
        source_type = str(e.get("sourceType") or "")
        source = str(e.get("source") or "")
        ref = e.get("pinnedRef") or e.get("ref")
        ref = ref if isinstance(ref, str) and ref else None
        tree = e.get("skillFolderHash")
        tree = tree if isinstance(tree, str) and _SHA1.match(tree) else None
        skill_path = e.get("skillPath") if isinstance(e.get("skillPath"), str) else None
        if source_type == "local":
            local = e.get("sourceUrl") if isinstance(e.get("sourceUrl"), str) and e.get("sourceUrl") else source
            out.append(ForeignSkill(name, source_type, source, local_path=local, path=_folder(skill_path)))
            continue
        if source_type in _NO_GIT:
            out.append(ForeignSkill(name, source_type, source, problem=f"sourceType {source_type!r} is {_NO_GIT[source_type]}"))
            continue
        url = _git_url(source_type, source, e.get("sourceUrl") if isinstance(e.get("sourceUrl"), str) else None)
        if url is None:
            out.append(ForeignSkill(name, source_type or "?", source, problem=f"cannot tell the git URL of source {source!r} ({source_type or 'no sourceType'})"))
            continue
        folder = _folder(skill_path)
        if skill_path is not None and folder is None:
            out.append(ForeignSkill(name, source_type, source, url=url, problem=f"unsafe skillPath {skill_path!r}"))
            continue
        commit = ref if ref and _SHA1.match(ref) else None
        out.append(
            ForeignSkill(
                name,
                source_type,
                source,
                url=url,
                path=folder,
                ref=None if commit else ref,
                commit=commit,
                tree=tree,
            )
        )
    recorded = {n: _agents(e.get("agents")) if isinstance(e, dict) else () for n, e in entries.items()}
    return kind, [replace(f, agents=recorded.get(f.name) or last_selected) for f in out]
