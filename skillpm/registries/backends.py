"""Three ways to reach the same registry files: a folder, HTTP(S), a git repository.

Each backend answers `read(rel)` (the bytes of config.json, index/<id> or
index.json; None when the file does not exist) and `archive(ref)` (the bytes
of an archive, `ref` being the dl template filled in: relative to the
registry base, or an absolute http(s) URL).
"""

from __future__ import annotations

import os
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

    The repository is mirrored (bare, nothing checked out, nothing executed)
    under cache_dir()/registry/<slug>/mirror.git and fetched once per run;
    `--offline` uses the mirror as it is.
    """

    kind = "git"

    def __init__(self, url: str, *, offline: bool = False) -> None:
        from skillpm.registries.index_cache import registry_cache

        self.url = url
        self.offline = offline
        self.mirror = registry_cache("git+" + url) / "mirror.git"
        self._synced = False

    def _git(self, *args: str, git_dir: Path | None = None, check: bool = True):
        from skillpm.sources.git.command import GitFailed, run_git

        try:
            return run_git(list(args), git_dir=git_dir, urls=[self.url], offline=self.offline)
        except GitFailed as e:
            if not check:
                return None
            raise SourceError(f"git registry {_shown(self.url)}: {e}") from None

    def sync(self) -> None:
        """Clone or fetch the mirror (once per run)."""
        if self._synced:
            return
        from skillpm.fs import file_lock

        with file_lock(self.mirror.with_name("mirror.lock"), what=f"the git mirror of {_shown(self.url)}"):
            if self.offline:
                if not (self.mirror / "HEAD").exists():
                    raise SourceError(
                        f"offline: the git registry {_shown(self.url)} was never fetched",
                        hint="run once without --offline to fill the cache",
                    )
            elif (self.mirror / "HEAD").exists():
                self._git("fetch", "--prune", "--quiet", "origin", git_dir=self.mirror)
                self._update_head()
            else:
                tmp = self.mirror.with_name(f"mirror.tmp{os.getpid()}")
                if tmp.exists():
                    import shutil

                    shutil.rmtree(tmp)
                tmp.parent.mkdir(parents=True, exist_ok=True)
                self._git("clone", "--mirror", "--quiet", "--", self.url, str(tmp))
                os.replace(tmp, self.mirror)
        self._synced = True

    def _update_head(self) -> None:
        """Follow the remote's default branch if it changed (best effort)."""
        proc = self._git("ls-remote", "--symref", "origin", "HEAD", git_dir=self.mirror, check=False)
        if proc is None:
            return
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                ref = line[5:].split("\t", 1)[0]
                self._git("symbolic-ref", "HEAD", ref, git_dir=self.mirror, check=False)

    def read(self, rel: str) -> bytes | None:
        from skillpm.digest import check_relpath

        check_relpath(rel)
        self.sync()
        proc = self._git("cat-file", "blob", f"HEAD:{rel}", git_dir=self.mirror, check=False)
        return None if proc is None else proc.stdout

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
