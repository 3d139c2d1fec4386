"""The index cache (ETags), the archive cache, and the embedded registry build."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from skillpm.errors import SourceError
from skillpm.registries import embedded, index_cache
from skillpm.registries.backends import HttpBackend

BASE = "http://r.test/"


def test_etag_revalidation_and_a_damaged_cache_entry(mock_net):
    body = b'{"skillpm-registry": 1}'
    seen = mock_net(
        lambda req: httpx.Response(304) if req.headers.get("if-none-match") == '"v1"' else httpx.Response(200, content=body, headers={"ETag": '"v1"'})
    )
    assert HttpBackend(BASE, auth=None).read("config.json") == body
    assert HttpBackend(BASE, auth=None).read("config.json") == body
    assert [r.headers.get("if-none-match") for r in seen] == [None, '"v1"']
    # a damaged body: its ETag is not trusted, the file is fetched in full
    cache = index_cache.IndexCache(BASE)
    cache.path("config.json").write_bytes(b"garbage")
    assert cache.get("config.json") == (b"garbage", None)
    assert HttpBackend(BASE, auth=None).read("config.json") == body
    assert seen[-1].headers.get("if-none-match") is None


def test_a_backend_reads_each_file_once_per_run(mock_net):
    seen = mock_net(lambda req: httpx.Response(200, content=b"x"))
    backend = HttpBackend(BASE, auth=None)
    for _ in range(3):
        backend.read("index/a/b")
    assert len(seen) == 1


def test_404_drops_the_cached_copy(mock_net):
    mock_net(lambda req: httpx.Response(200, content=b"x"))
    HttpBackend(BASE, auth=None).read("index/a/b")
    mock_net(lambda req: httpx.Response(404))
    assert HttpBackend(BASE, auth=None).read("index/a/b") is None
    with pytest.raises(SourceError, match="offline: index/a/b .* not in the cache"):
        HttpBackend(BASE, auth=None, offline=True).read("index/a/b")


def test_401_suggests_login(mock_net):
    mock_net(lambda req: httpx.Response(401, json={"errors": [{"detail": "this needs a token"}]}))
    with pytest.raises(SourceError, match="this needs a token") as e:
        HttpBackend(BASE, auth=None).read("index/a/b")
    assert "skillpm login" in str(e.value)


def test_offline_reads_the_cache_without_the_network(mock_net):
    seen = mock_net(lambda req: httpx.Response(200, content=b"cached", headers={"ETag": '"e"'}))
    HttpBackend(BASE, auth=None).read("index.json")
    seen.clear()
    assert HttpBackend(BASE, auth=None, offline=True).read("index.json") == b"cached"
    assert seen == []


def test_archive_cache_rechecks_digests():
    data = b"archive bytes"
    cksum = index_cache.sha256_of(data)
    assert index_cache.cached_archive(cksum) is None
    index_cache.store_archive(cksum, data)
    assert index_cache.cached_archive(cksum) == data
    index_cache.archive_path(cksum).write_bytes(b"tampered")
    assert index_cache.cached_archive(cksum) is None
    assert not index_cache.archive_path(cksum).exists()
    with pytest.raises(SourceError, match="unsupported checksum"):
        index_cache.archive_path("md5:abc")


def test_embedded_registry_builds_once_deterministically(tmp_path, monkeypatch):
    root = embedded.embedded_root()
    assert (root / "docker" / "docker-python-best-practices" / "SKILL.md").is_file()
    first = embedded.ensure_built()
    assert first.parent.name == "embedded" and first.name == embedded.bundle_hash(root)
    ids = [e["name"] for e in json.loads((first / "index.json").read_text())["skills"]]
    assert {"docker/basics", "docker/docker-python-best-practices", "python/package-management", "python/pytest-patterns", "skillpm/skillpm"} <= set(ids)
    stamp = (first / "config.json").stat().st_mtime_ns
    assert embedded.ensure_built() == first and (first / "config.json").stat().st_mtime_ns == stamp
    # another cache, built concurrently, gives the same bytes
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache2"))
    out: list[Path] = []
    threads = [threading.Thread(target=lambda: out.append(embedded.ensure_built())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 1
    second = out[0]
    for p in first.rglob("*"):
        if p.is_file():
            assert (second / p.relative_to(first)).read_bytes() == p.read_bytes()


def test_bundle_hash_follows_the_files(tmp_path, make_skill):
    tree = tmp_path / "tree"
    folder = make_skill("a", parent=tree / "x")
    h1 = embedded.bundle_hash(tree)
    assert embedded.bundle_hash(tree) == h1
    (folder / "references" / "guide.md").write_text("changed\n")
    assert embedded.bundle_hash(tree) != h1
