"""What skillpm keeps of registries between runs.

    cache_dir()/registry/<slug of the base URL>/<rel>        index files, config.json, index.json
    cache_dir()/registry/<slug of the base URL>/<rel>.etag   the ETag they came with
    cache_dir()/archives/sha256/<hex>.tar.gz                  archives, by the sha256 of their bytes

Index files are revalidated once per run with If-None-Match (a 304 costs no
body); `--offline` reads them as they are. Archives never change for a given
digest, so a cached one is used without asking the network (its digest is
checked again on every read).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from skillpm.errors import SourceError


def registry_cache(base_url: str) -> Path:
    from skillpm.cache import cache_dir, slug

    return cache_dir() / "registry" / slug(base_url)


def _safe_rel(rel: str) -> str:
    from skillpm.digest import check_relpath

    return check_relpath(rel)


class IndexCache:
    """Index files of one HTTP registry, with their ETags."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.folder = registry_cache(base_url)

    def path(self, rel: str) -> Path:
        return self.folder / _safe_rel(rel)

    def get(self, rel: str) -> tuple[bytes | None, str | None]:
        """(cached body, its ETag), or (None, None).

        The ETag is only returned when the body still has the digest recorded
        with it, so a damaged cache entry is fetched in full again.
        """
        p = self.path(rel)
        try:
            body = p.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None, None
        etag = None
        with contextlib.suppress(OSError, ValueError):
            tag, digest = p.with_name(p.name + ".etag").read_text(encoding="utf-8").split("\n")[:2]
            if tag and digest == hashlib.sha256(body).hexdigest():
                etag = tag
        return body, etag

    def put(self, rel: str, body: bytes, etag: str | None) -> None:
        p = self.path(rel)
        tag = p.with_name(p.name + ".etag")
        tag.unlink(missing_ok=True)
        write_cache_file(p, body)
        if etag and "\n" not in etag:
            write_cache_file(tag, f"{etag}\n{hashlib.sha256(body).hexdigest()}\n".encode())

    def drop(self, rel: str) -> None:
        p = self.path(rel)
        p.unlink(missing_ok=True)
        p.with_name(p.name + ".etag").unlink(missing_ok=True)


def write_cache_file(path: Path, data: bytes) -> None:
    """Replace a cache file atomically, without fsync: every cached byte is
    re-checked when read (archives by their sha256, index files by the digest
    stored with their ETag), so a file lost in a crash only costs a download.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- #
# archives


def _hex(cksum: str) -> str:
    algo, _, hexd = cksum.partition(":")
    if algo != "sha256" or len(hexd) != 64:
        raise SourceError(f"unsupported checksum {cksum!r} (expected sha256:<hex>)")
    return hexd


def archive_path(cksum: str) -> Path:
    from skillpm.cache import cache_dir

    return cache_dir() / "archives" / "sha256" / f"{_hex(cksum)}.tar.gz"


def cached_archive(cksum: str) -> bytes | None:
    """The cached archive with this sha256, or None (a damaged copy is removed)."""
    p = archive_path(cksum)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != _hex(cksum):
        with contextlib.suppress(OSError):
            os.unlink(p)
        return None
    return data


def store_archive(cksum: str, data: bytes) -> None:
    """Cache archive bytes already checked against `cksum`."""
    p = archive_path(cksum)
    if not p.exists():
        write_cache_file(p, data)


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
