"""Git sources: versions from tags, monorepos, pins, one shared cache.

Public API (see docs/git-sources.md):

    GitSource(spec, *, offline=False, strict=False)      the Source for a GitSpec
    materialize_locked(url, path, commit, dest, *, offline=False)
    check_tag(url, tag, locked_commit, *, name=None, offline=False)  -> TagMovedError
    prefetch(sources, *, max_workers=8, files=True) -> {redacted url: error | None}
    prefetch_releases([(source, release) | (url, path, commit)], ...) -> {redacted url: error | None}
    discover(spec_or_url, commit=None, *, offline=False) -> [DiscoveredSkill]
    git_cache_dir(), clean_cache(), reset_run_state()
"""

from skillpm.sources.git.discovery import DiscoveredSkill, discover
from skillpm.sources.git.mirror import Mirror, NotCachedError, clean_cache, git_cache_dir, reset_run_state
from skillpm.sources.git.remote import TagMovedError, check_tag, default_branch, remote_refs
from skillpm.sources.git.source import GitSource, materialize_locked, prefetch, prefetch_releases
from skillpm.sources.git.tags import RemoteRefs, TagVersion, skill_tag_versions, version_for_tag

__all__ = [
    "DiscoveredSkill",
    "GitSource",
    "Mirror",
    "NotCachedError",
    "RemoteRefs",
    "TagMovedError",
    "TagVersion",
    "check_tag",
    "clean_cache",
    "default_branch",
    "discover",
    "git_cache_dir",
    "materialize_locked",
    "prefetch",
    "prefetch_releases",
    "remote_refs",
    "reset_run_state",
    "skill_tag_versions",
    "version_for_tag",
]
