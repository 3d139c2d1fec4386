"""Asking a remote which branches and tags it has: one `git ls-remote` per run.

`remote_refs(url)` runs `git ls-remote --symref --tags --heads <url>` once per
process and remembers the answer; versions are read from it without cloning.
The default branch is not part of that answer (git sends HEAD only when no
--heads/--tags filter is given), so `default_branch(url)` asks a second time
(`--symref … HEAD`, which names the branch and its commit), only for
repositories that need it (no version tags and no pin).
"""

from __future__ import annotations

import threading

from skillpm.errors import SourceError
from skillpm.spec import GitSpec, check_ref
from skillpm.sources.git.command import GitFailed, check_url, display_url, run_git
from skillpm.sources.git.tags import FULL_SHA, RemoteRefs, parse_ls_remote

__all__ = ["remote_refs", "default_branch", "check_tag", "forget_remote_refs", "TagMovedError"]

_lock = threading.Lock()
_refs: dict[str, RemoteRefs] = {}
_heads: dict[str, tuple[str, str]] = {}
_url_locks: dict[str, threading.Lock] = {}


class TagMovedError(SourceError):
    """A locked tag now names another commit."""


def forget_remote_refs() -> None:
    with _lock:
        _refs.clear()
        _heads.clear()


def _url_lock(url: str) -> threading.Lock:
    with _lock:
        return _url_locks.setdefault(url, threading.Lock())


def _ls_remote(url: str, *options: str, patterns: tuple[str, ...] = ()) -> str:
    try:
        proc = run_git(["ls-remote", "--symref", *options, "--end-of-options", url, *patterns], urls=[url])
    except GitFailed as exc:
        display = display_url(url)
        raise SourceError(
            f"cannot list the tags and branches of {display}: {exc.summary}",
            hint=f"check the URL, your network and your git credentials (try `git ls-remote {display}`)",
        ) from None
    return proc.stdout.decode("utf-8", "replace")


def remote_refs(url: str, *, offline: bool = False, refresh: bool = False) -> RemoteRefs:
    """The remote's tags and branches (memoised for the run). Offline: the mirror's."""
    check_url(url)
    if offline:
        from skillpm.sources.git.mirror import Mirror

        return Mirror(url, offline=True).local_refs()
    with _url_lock(url):
        if not refresh:
            with _lock:
                cached = _refs.get(url)
            if cached is not None:
                return cached
        refs = parse_ls_remote(_ls_remote(url, "--tags", "--heads"))
        with _lock:
            _refs[url] = refs
        return refs


def default_branch(url: str, *, offline: bool = False) -> tuple[str, str]:
    """(name, commit) of the remote's default branch."""
    display = check_url(url)
    if offline:
        from skillpm.sources.git.mirror import Mirror

        local = Mirror(url, offline=True).local_refs()
        if local.head and local.head_commit:
            return local.head, local.head_commit
        heads = local.heads
    else:
        with _lock:
            if url in _heads:
                return _heads[url]
        with _url_lock(url):
            full = parse_ls_remote(_ls_remote(url, patterns=("HEAD",)))
        if full.head and full.head_commit:  # the usual answer: no second request
            result = (full.head, full.head_commit)
            with _lock:
                _heads[url] = result
            return result
        heads = remote_refs(url).heads
        if full.head and full.head in heads:
            result = (full.head, heads[full.head])
            with _lock:
                _heads[url] = result
            return result
    # servers that do not report HEAD's target (dumb HTTP, old daemons)
    for guess in ("main", "master"):
        if guess in heads:
            return guess, heads[guess]
    if len(heads) == 1:
        return next(iter(heads.items()))
    if not heads:
        raise SourceError(f"{display} has no branches (an empty repository?)")
    raise SourceError(
        f"cannot tell the default branch of {display}",
        hint="pin one with #branch=NAME",
    )


def check_tag(
    url: object,
    tag: str | None = None,
    locked_commit: str | None = None,
    *,
    name: str | None = None,
    offline: bool = False,
) -> None:
    """Raise TagMovedError if `tag` of `url` no longer names `locked_commit`.

    `url` may also be a lock entry (anything with `source`/`location`, `tag`,
    `commit` and `name`); entries without a tag are not checked. Offline there
    is nothing to compare with: the check is skipped.
    """
    if not isinstance(url, str):
        entry = url
        location = getattr(entry, "location", None) or str(getattr(entry, "source", "")).split("+", 1)[-1]
        tag = tag or getattr(entry, "tag", None)
        locked_commit = locked_commit or getattr(entry, "commit", None)
        name = name or getattr(entry, "name", None)
        url = location
        if not tag or not locked_commit:
            return
    if tag is None or locked_commit is None:
        raise TypeError("check_tag needs a tag and the locked commit")
    assert isinstance(url, str)
    display = check_url(url)
    check_ref(tag)
    if offline:
        return
    refs = remote_refs(url)
    now = refs.tags.get(tag)
    who = name or _default_name(url)
    if now is None:
        raise TagMovedError(
            f"tag {tag} of {display} no longer exists (it was {locked_commit[:12]} when locked)",
            hint=f"run `skillpm update {who}` to pick another version",
        )
    if FULL_SHA.match(locked_commit.lower()) and now != locked_commit.lower():
        raise TagMovedError(
            f"tag moved: {tag} of {display} was {locked_commit[:12]} when locked, now {now[:12]}; "
            f"run `skillpm update {who}` to accept it"
        )


def _default_name(url: str) -> str:
    return GitSpec(url=url).name
