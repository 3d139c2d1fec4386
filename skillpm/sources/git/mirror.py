"""The git cache: one bare mirror per remote, shared by every project of the user.

Layout (see docs/git-sources.md):

    <cache_dir>/git/<slug of the redacted URL>/        bare repository
    <cache_dir>/git/<slug of the redacted URL>.lock    cross-process lock

A mirror holds the remote's branches (`refs/heads/*`) and tags (`refs/tags/*`)
and, for commits fetched by id for a lock file, `refs/skillpm/commits/<sha>`.
It is first fetched as a partial clone (`--filter=blob:none`: commits and trees,
no file contents) where the server allows it; file contents are then fetched
per skill, only when a skill is read or installed. Servers without filter
support get a plain full mirror.

The remote URL is never written into the mirror's config (it may carry
credentials); every command is given it in the environment (GIT_CONFIG_COUNT…,
see command.git_env), so it is not on any command line either.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from skillpm.cache import cache_dir, slug
from skillpm.errors import SourceError
from skillpm.fs import atomic_write, file_lock
from skillpm.sources.git.command import GitFailed, check_url, git_args, git_env, run_git, scrub, stderr_text
from skillpm.sources.git.extract import extract_tar_stream
from skillpm.sources.git.tags import FULL_SHA, RemoteRefs

__all__ = [
    "ATTRIBUTES",
    "Mirror",
    "NotCachedError",
    "clean_cache",
    "git_cache_dir",
    "reset_run_state",
]

#: Written to every mirror's `info/attributes`, which takes precedence over any
#: `.gitattributes` inside the repository: `git archive` then never applies
#: export-subst, export-ignore, filter drivers, ident or end-of-line
#: conversion, so installed bytes are exactly the committed bytes.
ATTRIBUTES = (
    b"* -text -eol -crlf -filter -ident -export-subst -export-ignore -working-tree-encoding\n"
)

_FILTER_UNSUPPORTED = "filtering not recognized by server"


def git_cache_dir() -> Path:
    """Where the git mirrors live (`skillpm cache dir` shows its parent)."""
    return cache_dir() / "git"


def clean_cache() -> int:
    """Remove every git mirror; return how many were removed."""
    root = git_cache_dir()
    if not root.is_dir():
        return 0
    removed = 0
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.name.startswith(".tmp-"):
            with file_lock(root / f"{entry.name}.lock", what=f"the git cache {entry.name}"):
                shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    shutil.rmtree(root, ignore_errors=True)
    reset_run_state()
    return removed


def _chunks(items: list[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class NotCachedError(SourceError):
    """--offline and the cache lacks what is needed."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not in the cache; run without --offline once")


# --------------------------------------------------------------------------- #
# per-run state (one process = one run): which mirrors were fetched already


class _RunState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.synced: set[Path] = set()
        self.partial: dict[Path, bool] = {}
        self.commits: dict[Path, set[str]] = {}  # known to be in the mirror
        self.fresh: set[Path] = set()  # partial mirrors created by this run: contents mostly absent
        self.thread_locks: dict[Path, threading.RLock] = {}
        self.depth = threading.local()

    def thread_lock(self, path: Path) -> threading.RLock:
        with self.lock:
            return self.thread_locks.setdefault(path, threading.RLock())


_RUN = _RunState()


def reset_run_state() -> None:
    """Forget what this process fetched and listed (tests; long-lived processes)."""
    with _RUN.lock:
        _RUN.synced.clear()
        _RUN.partial.clear()
        _RUN.commits.clear()
        _RUN.fresh.clear()
    from skillpm.sources.git import remote

    remote.forget_remote_refs()


# --------------------------------------------------------------------------- #


class Mirror:
    """The bare mirror of one remote in the user's cache."""

    def __init__(self, url: str, *, offline: bool = False) -> None:
        self.display = check_url(url)
        self.url = url
        self.offline = offline
        root = git_cache_dir()
        self.path = root / slug(self.display)
        self.lock_path = root / f"{self.path.name}.lock"

    def __repr__(self) -> str:
        return f"Mirror({self.display!r})"

    # ---- plumbing ---------------------------------------------------------- #

    def _config(self) -> dict[str, str]:
        """Settings passed through the environment, not `-c` (the URL may hold a token)."""
        return {"remote.origin.url": self.url}

    def git(self, *args: str, input: bytes | None = None, config: Iterable[str] = (), network: bool = False) -> bytes:
        """Run git in the mirror. Without `network`, every transport is disabled, so
        a read can never turn into a lazy fetch that bypasses the mirror's lock."""
        return run_git(
            args,
            git_dir=self.path,
            config=tuple(config),
            env_config=self._config(),
            urls=[self.url],
            offline=self.offline or not network,
            input=input,
        ).stdout

    def _try(self, *args: str) -> bytes | None:
        try:
            return self.git(*args)
        except GitFailed:
            return None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive access across threads and processes (re-entrant per thread)."""
        tlock = _RUN.thread_lock(self.path)
        with tlock:
            depth = getattr(_RUN.depth, str(self.path), 0)
            setattr(_RUN.depth, str(self.path), depth + 1)
            try:
                if depth == 0:
                    with file_lock(self.lock_path, what=f"the git cache of {self.display}"):
                        yield
                else:
                    yield
            finally:
                setattr(_RUN.depth, str(self.path), depth)

    def exists(self) -> bool:
        return (self.path / "objects").is_dir() and (self.path / "HEAD").is_file()

    @property
    def synced(self) -> bool:
        """Fetched (or created) during this run."""
        return self.path in _RUN.synced

    def _mark_synced(self) -> None:
        with _RUN.lock:
            _RUN.synced.add(self.path)

    @property
    def partial(self) -> bool:
        """True when the mirror is a partial clone (file contents fetched on demand)."""
        known = _RUN.partial.get(self.path)
        if known is None:
            out = self._try("config", "--bool", "--get", "remote.origin.promisor")
            known = (out or b"").strip() == b"true"
            with _RUN.lock:
                _RUN.partial[self.path] = known
        return known

    @property
    def fresh(self) -> bool:
        """A partial mirror created by this run: reading file contents will need a fetch,
        so trying the mirror first is not worth a process."""
        return self.path in _RUN.fresh and self.partial

    def _set_partial(self, value: bool) -> None:
        with _RUN.lock:
            _RUN.partial[self.path] = value

    def _fail(self, action: str, exc: GitFailed, hint: str | None = None) -> SourceError:
        return SourceError(
            f"cannot {action} {self.display}: {exc.summary}",
            hint=hint or "check the URL, your network and your git credentials "
            f"(try `git ls-remote {self.display}`)",
        )

    # ---- creating and updating --------------------------------------------- #

    def ensure(self) -> None:
        """Make sure the mirror exists (creating it by fetching everything)."""
        if self.exists():
            return
        if self.offline:
            raise NotCachedError(f"git+{self.display}")
        with self.locked():
            if self.exists():
                return
            self._create()

    def sync(self, *, force: bool = False) -> None:
        """Bring branches and tags up to date, once per run (unless forced)."""
        if self.offline:
            self.ensure()
            return
        if self.synced and not force:
            return
        with self.locked():
            if self.synced and not force:
                return
            if not self.exists():
                self._create()
            else:
                self._fetch_refs()

    def _create(self) -> None:
        root = self.path.parent
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{self.path.name}-", dir=root))
        try:
            self._init(tmp)
            partial = True
            try:
                err = self._initial_fetch(tmp, filtered=True)
            except GitFailed:
                # Some servers (and proxies) fail outright on a filter request:
                # start again with a plain full mirror.
                shutil.rmtree(tmp, ignore_errors=True)
                self._init(tmp)
                partial = False
                try:
                    self._initial_fetch(tmp, filtered=False)
                except GitFailed as exc:
                    raise self._fail("fetch", exc) from None
            else:
                if _FILTER_UNSUPPORTED in err:
                    partial = False  # git fell back to a full fetch by itself
            if not partial:
                for key in ("remote.origin.promisor", "remote.origin.partialclonefilter", "extensions.partialclone"):
                    with contextlib.suppress(GitFailed):
                        run_git(["config", "--unset-all", key], git_dir=tmp)
            if os.path.lexists(self.path):  # debris of an interrupted run (not a mirror)
                shutil.rmtree(self.path, ignore_errors=True)
            os.replace(tmp, self.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._set_partial(partial)
        if partial:
            with _RUN.lock:
                _RUN.fresh.add(self.path)
        self._mark_synced()

    def _init(self, where: Path) -> None:
        run_git(["init", "--quiet", "--bare", "--template=", "--end-of-options", str(where)])
        for key, value in (
            ("remote.origin.fetch", "+refs/heads/*:refs/heads/*"),
            ("remote.origin.tagOpt", "--no-tags"),
            ("core.logAllRefUpdates", "false"),
            ("skillpm.url", self.display),
        ):
            run_git(["config", key, value], git_dir=where)
        run_git(["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"], git_dir=where)
        (where / "info").mkdir(exist_ok=True)
        (where / "info" / "attributes").write_bytes(ATTRIBUTES)

    def _initial_fetch(self, where: Path, *, filtered: bool) -> str:
        args = ["fetch", "--prune", "--no-write-fetch-head"]
        if filtered:
            args.append("--filter=blob:none")
        args.append("origin")
        proc = run_git(args, git_dir=where, env_config=self._config(), urls=[self.url], offline=self.offline)
        return stderr_text(proc, [self.url])

    def _fetch_refs(self) -> None:
        try:
            self.git("fetch", "--prune", "--no-write-fetch-head", "origin", network=True)
        except GitFailed as exc:
            raise self._fail("fetch", exc) from None
        self._mark_synced()

    def _fetch_commit(self, sha: str) -> bool:
        """Fetch one commit by id (kept under refs/skillpm/commits/). False if refused."""
        try:
            self.git("fetch", "--no-tags", "--no-write-fetch-head", "origin", f"+{sha}:refs/skillpm/commits/{sha}", network=True)
        except GitFailed:
            return False
        return True

    def set_head(self, branch: str) -> None:
        """Record the remote's default branch as the mirror's HEAD (for --offline)."""
        if not self.exists() or self.offline:
            return
        want = f"refs/heads/{branch}"
        current = (self._try("symbolic-ref", "-q", "HEAD") or b"").decode().strip()
        if current != want:
            with self.locked(), contextlib.suppress(GitFailed):
                self.git("symbolic-ref", "HEAD", want)

    # ---- questions ---------------------------------------------------------- #

    def has_commit(self, sha: str) -> bool:
        """Is the commit in the mirror? (never triggers a lazy fetch)"""
        if sha in _RUN.commits.get(self.path, ()):
            return True
        if not self.exists():
            return False
        out = self._try("rev-list", "-n1", "--no-walk", "--missing=allow-any", "--end-of-options", f"{sha}^{{commit}}")
        if out and out.strip():
            with _RUN.lock:
                _RUN.commits.setdefault(self.path, set()).add(sha)
            return True
        return False

    def resolve_commit(self, rev: str) -> str | None:
        """Full commit id of a commit-ish (abbreviated id, tag, branch) or None."""
        out = self._try("rev-list", "-n1", "--no-walk", "--missing=allow-any", "--end-of-options", f"{rev}^{{commit}}")
        sha = (out or b"").decode().strip()
        return sha if FULL_SHA.match(sha) else None

    def ensure_commit(self, sha: str, *, by_id_first: bool = False) -> None:
        """Make sure `sha` (40 hex) is in the mirror, fetching as little as possible.

        Normally branches and tags are fetched (the commit is expected on one);
        `by_id_first` (installing from a lock) asks for exactly that commit first
        and falls back to fetching branches and tags if the server refuses.
        """
        self.ensure()
        if self.has_commit(sha):
            return
        if self.offline:
            raise NotCachedError(f"commit {sha[:12]} of {self.display}")
        with self.locked():
            if self.has_commit(sha):
                return
            if by_id_first and self._fetch_commit(sha) and self.has_commit(sha):
                return
            self._fetch_refs()
            if self.has_commit(sha):
                return
            if not by_id_first and self._fetch_commit(sha) and self.has_commit(sha):
                return
        raise SourceError(
            f"commit {sha[:12]} is not in {self.display} (neither on a branch or tag nor fetchable by id)",
            hint="it may have been removed by a force-push; run `skillpm update` to pick a current commit",
        )

    def reachable(self, sha: str) -> bool:
        """Is the commit on a branch or tag of the mirror?"""
        out = self._try("for-each-ref", "--count=1", f"--contains={sha}", "--format=%(refname)", "refs/heads/", "refs/tags/")
        return bool(out and out.strip())

    def local_refs(self) -> RemoteRefs:
        """Branches and tags as last fetched (what --offline resolves against)."""
        self.ensure()
        out = self.git(
            "for-each-ref", "--format=%(objectname) %(refname) %(*objectname)", "refs/heads/", "refs/tags/"
        ).decode()
        tags: dict[str, str] = {}
        heads: dict[str, str] = {}
        for line in out.splitlines():
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            oid, ref = parts[0], parts[1]
            peeled = parts[2] if len(parts) > 2 and parts[2] else oid
            if ref.startswith("refs/tags/"):
                tags[ref[len("refs/tags/") :]] = peeled
            elif ref.startswith("refs/heads/"):
                heads[ref[len("refs/heads/") :]] = oid
        head_ref = (self._try("symbolic-ref", "-q", "HEAD") or b"").decode().strip()
        head = head_ref[len("refs/heads/") :] if head_ref.startswith("refs/heads/") else None
        if head not in heads:
            head = None
        return RemoteRefs(tags=tags, heads=heads, head=head, head_commit=heads.get(head) if head else None)

    def tree_entries(self, commit: str, path: str, *, recursive: bool = False) -> list[tuple[str, str, str, str]] | None:
        """(mode, type, oid, name) of the folder `path` at `commit`; None if no such folder."""
        args = ["ls-tree", "-z"]
        if recursive:
            args.append("-r")
        args += ["--end-of-options", f"{commit}:{path}"]
        out = self._try(*args)
        if out is None:
            return None
        entries = []
        for rec in out.split(b"\0"):
            if not rec:
                continue
            meta, _, name = rec.partition(b"\t")
            mode, typ, oid = meta.decode().split(" ")
            entries.append((mode, typ, oid, name.decode("utf-8", "surrogateescape")))
        return entries

    def list_files(self, commit: str) -> list[str]:
        out = self.git("ls-tree", "-r", "-z", "--name-only", "--end-of-options", commit)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    def missing_objects(self, *treeishes: str) -> set[str]:
        """Objects under the trees not yet fetched (partial mirrors only)."""
        if not self.partial or not treeishes:
            return set()
        out = self.git("rev-list", "--objects", "--missing=print", "--end-of-options", *treeishes)
        return {line[1:].decode() for line in out.splitlines() if line.startswith(b"?")}

    def ensure_blobs(self, treeish: str | Iterable[str], only: Iterable[str] | None = None, *, what: str = "") -> None:
        """Fetch the missing file contents under `treeish` (or just `only`) in one request."""
        if not self.partial:
            return
        treeishes = [treeish] if isinstance(treeish, str) else list(treeish)
        wanted = set(only) if only is not None else None

        def missing() -> set[str]:
            m: set[str] = set()
            for chunk in _chunks(treeishes, 500):
                m |= self.missing_objects(*chunk)
            return m & wanted if wanted is not None else m

        if not treeishes or not missing():
            return
        if self.offline:
            raise NotCachedError(what or f"files of {self.display}")
        with self.locked():
            self._fetch_blobs(missing())

    def cat_objects(self, names: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """Object names (`<commit>:<path>`, ids) -> (type, raw content), None if absent.

        Reads only what is in the mirror: raises GitFailed if an object must be
        fetched first (a partial mirror's missing file contents).
        """
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        out = self.git("cat-file", "--batch", input=("\n".join(names) + "\n").encode("utf-8", "surrogateescape"))
        result: dict[str, tuple[str, bytes] | None] = {}
        pos = 0
        for name in names:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].decode("utf-8", "surrogateescape").rsplit(" ", 2)
            pos = nl + 1
            if len(header) != 3 or not header[2].isdigit() or not FULL_SHA.match(header[0]) and len(header[0]) != 64:
                result[name] = None  # "<name> missing" / "ambiguous"
                continue
            size = int(header[2])
            result[name] = (header[1], out[pos : pos + size])
            pos += size + 1
        return result

    def read_trees(self, treeishes: Iterable[str]) -> dict[str, list[tuple[str, str, str]] | None]:
        """`<commit>:<folder>` names -> [(mode, name, oid)] of that folder (None if absent).

        One `git cat-file --batch` for all of them, parsing the raw tree objects
        (trees are always in the mirror, so this never fetches anything).
        """
        result: dict[str, list[tuple[str, str, str]] | None] = {}
        for name, obj in self.cat_objects(treeishes).items():
            if obj is None or obj[0] != "tree":
                result[name] = None
                continue
            raw = obj[1]
            entries = []
            i = 0
            width = 32 if self._sha256 else 20
            while i < len(raw):
                sp = raw.index(b" ", i)
                nul = raw.index(b"\0", sp)
                mode = raw[i:sp].decode()
                entry = raw[sp + 1 : nul].decode("utf-8", "surrogateescape")
                oid = raw[nul + 1 : nul + 1 + width].hex()
                entries.append((mode.rjust(6, "0"), entry, oid))
                i = nul + 1 + width
            result[name] = entries
        return result

    @property
    def _sha256(self) -> bool:
        try:
            return "objectformat = sha256" in (self.path / "config").read_text().lower()
        except OSError:
            return False

    def prefetch_files(self, metadata: Iterable[tuple[str, str]], whole: Iterable[tuple[str, str]] = ()) -> None:
        """One request for SKILL.md + metadata.json of every (commit, folder) in
        `metadata` and every file of each (commit, folder) in `whole`."""
        metadata, whole = list(dict.fromkeys(metadata)), list(dict.fromkeys(whole))
        for commit in dict.fromkeys(c for c, _p in metadata + whole):
            self.ensure_commit(commit)
        if not self.partial:
            return
        meta_trees = [f"{c}:{p}" for c, p in metadata]
        listings = self.read_trees(meta_trees)
        ids = {
            oid
            for entries in listings.values()
            for _mode, name, oid in (entries or ())
            if name in ("SKILL.md", "skill.md", "metadata.json")
        }
        whole_trees = [f"{c}:{p}" for c, p in whole]
        existing = self.read_trees(whole_trees)
        whole_trees = [t for t in whole_trees if existing.get(t) is not None]

        def todo() -> set[str]:
            want: set[str] = set()
            for chunk in _chunks(whole_trees, 500):
                want |= self.missing_objects(*chunk)
            present_meta = [t for t in meta_trees if listings.get(t) is not None]
            for chunk in _chunks(present_meta, 500):
                want |= self.missing_objects(*chunk) & ids
            return want

        if not todo():
            return
        if self.offline:
            raise NotCachedError(f"files of {self.display}")
        with self.locked():
            self._fetch_blobs(todo())

    def _fetch_blobs(self, oids: set[str]) -> None:
        """Fetch file contents by id in one request (lock held)."""
        if not oids:
            return
        try:
            self.git(
                "fetch", "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
                "--filter=blob:none", "--stdin", "origin",
                input=("\n".join(sorted(oids)) + "\n").encode(),
                config=("fetch.negotiationAlgorithm=noop",),
                network=True,
            )
        except GitFailed:
            # The server filters but will not hand out objects by id (old
            # protocol, restrictive settings): stop being a partial clone.
            self._unpartial()

    def _unpartial(self) -> None:
        """Turn a partial mirror into a full one by fetching every object (held lock)."""
        keys = ("remote.origin.promisor", "remote.origin.partialclonefilter")
        for key in keys:
            with contextlib.suppress(GitFailed):
                self.git("config", "--unset-all", key)
        try:
            self.git("fetch", "--refetch", "--prune", "--no-write-fetch-head", "origin", network=True)
        except GitFailed as exc:
            self.git("config", "remote.origin.promisor", "true")
            self.git("config", "remote.origin.partialclonefilter", "blob:none")
            raise self._fail("fetch file contents from", exc) from None
        self._set_partial(False)

    def read_blobs(self, oids: Iterable[str]) -> dict[str, bytes]:
        """Contents of blobs already in the mirror."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return {}
        out = self.git("cat-file", "--batch", input=("\n".join(oids) + "\n").encode())
        result: dict[str, bytes] = {}
        pos = 0
        for oid in oids:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].decode().split(" ")
            pos = nl + 1
            if len(header) < 3 or header[1] == "missing":
                raise SourceError(f"{self.display}: object {oid[:12]} is missing from the git cache")
            size = int(header[2])
            result[oid] = out[pos : pos + size]
            pos += size + 1
        return result

    # ---- exporting ---------------------------------------------------------- #

    def _check_attributes(self) -> None:
        target = self.path / "info" / "attributes"
        try:
            if target.read_bytes() == ATTRIBUTES:
                return
        except OSError:
            pass
        atomic_write(target, ATTRIBUTES, mode=0o644)

    def export(self, commit: str, path: str, dest: Path) -> list[str]:
        """Write the files of folder `path` at `commit` into `dest` (must not exist).

        `git archive` of the tree `<commit>:<path>`, with the mirror's
        info/attributes neutralising every attribute that would alter bytes or
        drop files, extracted by extract_tar_stream (links etc. refused). In a
        partial mirror the archive is first tried with what is there; missing
        file contents are then fetched in one request and it is tried again.
        """
        where = f"{self.display}#{'path=' + path + '&' if path else ''}rev={commit[:12]}"
        treeish = f"{commit}:{path}" if path else commit
        self._check_attributes()
        if not self.fresh:
            try:
                return self._archive(treeish, dest, where)
            except _ArchiveFailed as first:
                if not self.partial and self.read_trees([f"{commit}:{path}"]).get(f"{commit}:{path}") is not None:
                    raise SourceError(f"{where}: git archive failed: {first}") from None
        if self.read_trees([f"{commit}:{path}"]).get(f"{commit}:{path}") is None:
            raise SourceError(f"{where}: no folder {path!r} at that commit")
        self.ensure_blobs(treeish, what=f"the files of {where}")
        try:
            return self._archive(treeish, dest, where)
        except _ArchiveFailed as exc:
            raise SourceError(f"{where}: git archive failed: {exc}") from None

    def _archive(self, treeish: str, dest: Path, where: str) -> list[str]:
        cmd = git_args(
            ["archive", "--format=tar", "--end-of-options", treeish],
            git_dir=self.path,
        )
        with tempfile.TemporaryFile() as errf:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errf,
                env=git_env(offline=True, config=self._config()),  # never a lazy fetch behind the lock's back
                cwd=self.path,
            )
            assert proc.stdout is not None
            tar_error: tarfile.TarError | None = None
            written: list[str] = []
            try:
                try:
                    written = extract_tar_stream(proc.stdout, dest, where=where)
                except tarfile.TarError as exc:
                    tar_error = exc
                proc.stdout.read()  # the end-of-archive padding; EOF once git exits
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                proc.stdout.close()
            rc = proc.wait()
            if rc != 0 or tar_error is not None:
                shutil.rmtree(dest, ignore_errors=True)
                errf.seek(0)
                err = scrub(errf.read().decode("utf-8", "replace"), [self.url])
                if rc != 0:
                    raise _ArchiveFailed(GitFailed("archive", rc, err).summary)
                raise SourceError(f"{where}: git archive produced an unreadable tar ({tar_error})")
        return written


class _ArchiveFailed(Exception):
    pass
