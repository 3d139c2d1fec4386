"""Three ways to reach the same registry files: a folder, HTTP(S), a git repository.

Each backend answers `read(rel)` (the bytes of config.json, index/<id> or
index.json; None when the file does not exist) and `archive(ref)` (the bytes
of an archive, `ref` being the dl template filled in: relative to the
registry base, or an absolute http(s) URL).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

from skillpm.errors import SourceError
from skillpm.registries.client import Auth, request

#: Largest index file or config.json accepted (an index line is ~300 bytes).
MAX_INDEX_BYTES = 16 * 1024 * 1024


def _is_http(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def fetch_url_archive(url: str, *, auth: Auth | None, offline: bool, max_bytes: int, label: str) -> bytes:
    if offline:
        raise SourceError(f"{label}: not in the cache, and --offline forbids downloading it", hint="run once without --offline to fill the cache")
    answer = request("GET", url, auth=auth, max_bytes=max_bytes, what=f"downloading {label}")
    if answer.status != 200:
        raise SourceError(f"downloading {label}: HTTP {answer.status} from {_shown(url)}")
    return answer.content


def _shown(url: str) -> str:
    from skillpm.spec import redact_url

    return redact_url(url)


class FolderBackend:
    kind = "folder"

    def __init__(self, root: Path, *, offline: bool = False) -> None:
        self.root = root
        self.offline = offline

    def _path(self, rel: str) -> Path:
        from skillpm.digest import check_relpath

        try:
            check_relpath(rel)
        except Exception:
            raise SourceError(f"registry {self.root}: {rel!r} is not a path inside the registry") from None
        return self.root / rel

    def read(self, rel: str) -> bytes | None:
        if not self.root.is_dir():
            raise SourceError(f"registry folder {self.root} does not exist")
        try:
            return self._path(rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def archive(self, ref: str, *, auth: Auth | None, max_bytes: int, label: str) -> bytes:
        if _is_http(ref):
            return fetch_url_archive(ref, auth=None, offline=self.offline, max_bytes=max_bytes, label=label)
        p = self._path(ref)
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            raise SourceError(f"{label}: the archive {p} is missing from the registry") from None
        if size > max_bytes:
            raise SourceError(f"{label}: the archive is {size} bytes, over the limit of {max_bytes}")
        return p.read_bytes()


class HttpBackend:
    kind = "http"

    def __init__(self, base_url: str, *, auth: Auth | None, offline: bool = False) -> None:
        from skillpm.registries.index_cache import IndexCache

        self.base_url = base_url
        self.auth = auth
        self.offline = offline
        self.cache = IndexCache(base_url)
        self._seen: dict[str, bytes | None] = {}

    def read(self, rel: str) -> bytes | None:
        if rel in self._seen:
            return self._seen[rel]
        cached, etag = self.cache.get(rel)
        if self.offline:
            if cached is None:
                raise SourceError(
                    f"offline: {rel} of the registry {self.base_url} is not in the cache",
                    hint="run once without --offline to fill the cache",
                )
            self._seen[rel] = cached
            return cached
        url = urljoin(self.base_url, rel)
        headers = {"Accept": "application/json, */*"}
        if cached is not None and etag:
            headers["If-None-Match"] = etag
        answer = request("GET", url, auth=self.auth, headers=headers, max_bytes=MAX_INDEX_BYTES, what=f"GET {_shown(url)}")
        if answer.status == 304 and cached is not None:
            body: bytes | None = cached
        elif answer.status == 200:
            body = answer.content
            self.cache.put(rel, body, answer.headers.get("etag"))
        elif answer.status in (404, 410):
            self.cache.drop(rel)
            body = None
        elif answer.status in (401, 403):
            from skillpm.registries.client import error_detail

            raise SourceError(
                f"GET {_shown(url)}: {error_detail(answer)}",
                hint="this registry needs a token: run `skillpm login --registry <name>` or set SKILLPM_TOKEN_<NAME>",
            )
        else:
            raise SourceError(f"GET {_shown(url)}: unexpected HTTP {answer.status}")
        self._seen[rel] = body
        return body

    def archive(self, ref: str, *, auth: Auth | None, max_bytes: int, label: str) -> bytes:
        url = ref if _is_http(ref) else urljoin(self.base_url, ref)
        return fetch_url_archive(url, auth=self.auth, offline=self.offline, max_bytes=max_bytes, label=label)


class GitBackend:
    """A registry kept in a git repository: the files of its default branch.

    Uses the git sources' cache (skillpm.sources.git.mirror): one bare mirror
    per remote under cache_dir()/git/, shared with git skill sources, fetched
    once per run, nothing checked out or executed; file contents are fetched
    only for the files read (partial mirrors). `--offline` reads the mirror
    as last fetched.
    """

    kind = "git"

    def __init__(self, url: str, *, offline: bool = False) -> None:
        self.url = url
        self.offline = offline
        self._commit: str | None = None
        self._mirror = None

    @property
    def mirror(self):
        from skillpm.sources.git.mirror import Mirror

        if self._mirror is None:
            self._mirror = Mirror(self.url, offline=self.offline)
        return self._mirror

    def _fail(self, exc: Exception) -> SourceError:
        from skillpm.sources.git.mirror import NotCachedError

        if isinstance(exc, NotCachedError):
            return SourceError(
                f"offline: the git registry {_shown(self.url)} was never fetched (not in the cache)",
                hint="run once without --offline to fill the cache",
            )
        if isinstance(exc, SourceError):
            return SourceError(f"git registry {_shown(self.url)}: {exc.message}", hint=exc.hint)
        return SourceError(f"git registry {_shown(self.url)}: {exc}")

    def head(self) -> str:
        """The commit of the default branch (fetched once per run)."""
        if self._commit is None:
            from skillpm.sources.git.command import GitFailed
            from skillpm.sources.git.remote import default_branch

            try:
                self.mirror.sync()
                branch, commit = default_branch(self.url, offline=self.offline)
                self.mirror.set_head(branch)
                self.mirror.ensure_commit(commit)
            except (SourceError, GitFailed) as e:
                raise self._fail(e) from None
            self._commit = commit
        return self._commit

    def sync(self) -> None:
        self.head()

    def read(self, rel: str) -> bytes | None:
        from skillpm.digest import check_relpath
        from skillpm.sources.git.command import GitFailed

        check_relpath(rel)
        commit = self.head()
        folder, _, name = rel.rpartition("/")
        try:
            entries = self.mirror.tree_entries(commit, folder)
            oid = next((e[2] for e in entries or () if e[3] == name and e[1] == "blob"), None)
            if oid is None:
                return None
            self.mirror.ensure_blobs(f"{commit}:{folder}" if folder else commit, only={oid}, what=f"{rel} of {_shown(self.url)}")
            return self.mirror.read_blobs([oid])[oid]
        except (SourceError, GitFailed) as e:
            raise self._fail(e) from None

    def archive(self, ref: str, *, auth: Auth | None, max_bytes: int, label: str) -> bytes:
        if _is_http(ref):
            return fetch_url_archive(ref, auth=None, offline=self.offline, max_bytes=max_bytes, label=label)
        data = self.read(ref)
        if data is None:
            raise SourceError(f"{label}: the archive {ref} is missing from the git registry {_shown(self.url)}")
        if len(data) > max_bytes:
            raise SourceError(f"{label}: the archive is {len(data)} bytes, over the limit of {max_bytes}")
        return data


def http_scheme(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")
