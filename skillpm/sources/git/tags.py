"""Which tags are versions of which skill (pure: no git, no I/O).

A repository's refs come from one `git ls-remote`; this module turns them
into versions for the skill at `path`:

* skill at the repository root (`path == ""`): tags `vX.Y.Z` and `X.Y.Z`;
* skill in a subdirectory: skill-specific tags win as soon as ANY exists for it,
  in this order of precedence when two name the same version:
    1. `<path>/vX.Y.Z`   (Go's convention for modules in subdirectories)
    2. `<name>--vX.Y.Z`  (the Claude plugin marketplace convention)
    3. `<name>@X.Y.Z`    (changesets / JS monorepo convention)
  where `<name>` is the last segment of `path`; otherwise the repository-wide
  `vX.Y.Z` / `X.Y.Z` tags apply to every skill in the repository.

Tags that are not SemVer after their prefix are ignored. `vX.Y.Z` is preferred
over `X.Y.Z` when both exist for one version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from skillpm.semver import InvalidVersion, Version

__all__ = [
    "RemoteRefs",
    "TagVersion",
    "parse_ls_remote",
    "repo_tag_version",
    "skill_tag_versions",
    "version_for_tag",
    "resolve_web_ref",
    "is_hex_commitish",
    "FULL_SHA",
]

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")

#: conventions, most specific first (the order is the precedence)
GO = "path/v"
PLUGIN = "name--v"
AT = "name@"
REPO_V = "v"
REPO_BARE = "bare"


@dataclass(frozen=True)
class RemoteRefs:
    """A remote's branches and tags, as `git ls-remote` reports them."""

    tags: dict[str, str] = field(default_factory=dict)  # tag name -> commit (annotated tags peeled)
    heads: dict[str, str] = field(default_factory=dict)  # branch name -> commit
    head: str | None = None  # the default branch's name (HEAD's symref target), if known
    head_commit: str | None = None


@dataclass(frozen=True)
class TagVersion:
    version: Version
    tag: str
    commit: str
    convention: str


def parse_ls_remote(text: str) -> RemoteRefs:
    """Parse `git ls-remote [--symref]` output.

    Annotated tags appear twice: `<tag object>\\trefs/tags/T` and
    `<commit>\\trefs/tags/T^{}`; the peeled line gives the commit and wins.
    """
    tags: dict[str, str] = {}
    peeled: dict[str, str] = {}
    heads: dict[str, str] = {}
    head = head_commit = None
    for line in text.splitlines():
        if not line.strip():
            continue
        left, _, ref = line.partition("\t")
        if left.startswith("ref: "):
            if ref == "HEAD" and left[5:].startswith("refs/heads/"):
                head = left[len("ref: refs/heads/") :]
            continue
        oid = left.strip().lower()
        if not FULL_SHA.match(oid):
            continue
        if ref == "HEAD":
            head_commit = oid
        elif ref.startswith("refs/tags/"):
            name = ref[len("refs/tags/") :]
            if name.endswith("^{}"):
                peeled[name[:-3]] = oid
            else:
                tags[name] = oid
        elif ref.startswith("refs/heads/"):
            heads[ref[len("refs/heads/") :]] = oid
    for name, commit in peeled.items():
        tags[name] = commit
    return RemoteRefs(tags=tags, heads=heads, head=head, head_commit=head_commit)


def _parse(text: str) -> Version | None:
    if not text or not (text[0].isdigit() or (text[0] == "v" and text[1:2].isdigit())):
        return None
    try:
        return Version.parse(text)
    except (InvalidVersion, ValueError):
        return None


def repo_tag_version(tag: str) -> tuple[Version, str] | None:
    """A repository-wide version tag: `vX.Y.Z` or `X.Y.Z`."""
    v = _parse(tag)
    if v is None:
        return None
    return v, (REPO_V if tag.startswith("v") else REPO_BARE)


def _skill_tag_version(tag: str, path: str) -> tuple[Version, str] | None:
    name = path.rsplit("/", 1)[-1]
    if tag.startswith(path + "/"):
        rest = tag[len(path) + 1 :]
        v = _parse(rest)
        if v is not None and "/" not in rest:
            return v, GO
    if tag.startswith(name + "--"):
        v = _parse(tag[len(name) + 2 :])
        if v is not None:
            return v, PLUGIN
    if tag.startswith(name + "@"):
        v = _parse(tag[len(name) + 1 :])
        if v is not None:
            return v, AT
    return None


_RANK = {GO: 0, PLUGIN: 1, AT: 2, REPO_V: 3, REPO_BARE: 4}


def skill_tag_versions(tags: Mapping[str, str], path: str = "") -> list[TagVersion]:
    """The versions of the skill at `path`, newest first, one entry per version."""
    path = path.strip("/")
    found: list[TagVersion] = []
    if path:
        for tag, commit in tags.items():
            hit = _skill_tag_version(tag, path)
            if hit is not None:
                found.append(TagVersion(hit[0], tag, commit, hit[1]))
    if not found:
        for tag, commit in tags.items():
            hit = repo_tag_version(tag)
            if hit is not None:
                found.append(TagVersion(hit[0], tag, commit, hit[1]))
    best: dict[Version, TagVersion] = {}
    for tv in sorted(found, key=lambda t: (_RANK[t.convention], t.tag)):
        best.setdefault(tv.version, tv)
    return sorted(best.values(), key=lambda t: (t.version, str(t.version)), reverse=True)


def version_for_tag(tag: str, path: str = "") -> Version | None:
    """The version a single tag names for the skill at `path` (for `tag=` pins)."""
    path = path.strip("/")
    if path:
        hit = _skill_tag_version(tag, path)
        if hit is not None:
            return hit[0]
    hit = repo_tag_version(tag)
    if hit is not None:
        return hit[0]
    # a tag of another convention, e.g. `other/path/v1.2.0` for a pinned path
    tail = re.split(r"/|--|@", tag)[-1]
    return _parse(tail)


def is_hex_commitish(text: str) -> bool:
    return bool(_HEX.match(text))


def resolve_web_ref(refs: RemoteRefs, ref: str, path: str) -> tuple[str, str, str] | None:
    """Split a web URL's `<ref>/<path>` where the ref itself may contain slashes.

    `…/tree/feature/x/skills/foo` is parsed as ref `feature`, path `x/skills/foo`;
    try `feature`, then `feature/x`, … against the remote's tags and branches.
    Returns (kind, name, path) with kind "tag", "branch" or "rev", or None.
    Tags win over branches of the same name (as on GitHub).
    """
    segs = [s for s in path.split("/") if s] if path else []
    for i in range(len(segs) + 1):
        name = "/".join([ref, *segs[:i]])
        rest = "/".join(segs[i:])
        if name in refs.tags:
            return "tag", name, rest
        if name in refs.heads:
            return "branch", name, rest
    if is_hex_commitish(ref.lower()):
        return "rev", ref.lower(), path
    return None
