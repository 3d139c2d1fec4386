"""Publishing through the write API: what is written, and every refusal."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile

import httpx
import pytest

from registry.app import create_app
from skillpm.archive import pack
from skillpm.digest import tree_digest
from skillpm.registries.protocol import IndexLine, parse_index

pytestmark = pytest.mark.asyncio


async def test_publish_writes_archive_index_line_and_search_index(api, make_skill):
    folder = make_skill("basics", version="1.2.0", dependencies=["docker/engine@^2.0", "tools/lint"], metadata={"keywords": "docker, containers"})
    r = await api.publish(folder, "docker/basics")
    assert r.status_code == 201, r.text
    body = r.json()
    archive = (api.root / "dl/docker/basics/1.2.0.tar.gz").read_bytes()
    assert body == {
        "name": "docker/basics",
        "vers": "1.2.0",
        "cksum": "sha256:" + hashlib.sha256(archive).hexdigest(),
        "integrity": tree_digest(folder),
    }
    assert archive == pack(folder)  # the deterministic archive, byte for byte
    (line,) = parse_index((api.root / "index/docker/basics").read_bytes(), "docker/basics", "test")
    assert line == IndexLine(
        name="docker/basics",
        vers="1.2.0",
        deps={"docker/engine": "^2.0", "tools/lint": "*"},
        cksum=body["cksum"],
        integrity=body["integrity"],
        yanked=False,
        description="Test skill basics. Use when testing skillpm.",
    )
    search = json.loads((api.root / "index.json").read_text())
    assert search["skills"] == [{"name": "docker/basics", "vers": "1.2.0", "description": "Test skill basics. Use when testing skillpm."}]
    owners = await api.client.get("/api/v1/skills/docker/basics/owners")
    assert owners.json() == {"users": ["admin"]}


async def test_the_server_stores_its_own_deterministic_archive(api, make_skill):
    """A valid but non-canonical upload (other mtimes, a folder member) is repacked."""
    folder = make_skill("basics", version="1.0.0")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.add(folder, arcname=".")
    r = await api.put("docker/basics", "1.0.0", raw.getvalue())
    assert r.status_code == 201, r.text
    stored = (api.root / "dl/docker/basics/1.0.0.tar.gz").read_bytes()
    assert stored == pack(folder)
    assert r.json()["cksum"] == "sha256:" + hashlib.sha256(stored).hexdigest()


async def test_new_versions_append_and_keep_earlier_lines_byte_for_byte(api, make_skill):
    folder = make_skill("basics", version="1.0.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    first = api.index_lines("docker/basics")
    make_skill("basics", version="1.1.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    lines = api.index_lines("docker/basics")
    assert lines[0] == first[0] and len(lines) == 2
    assert json.loads(lines[1])["vers"] == "1.1.0"
    assert json.loads((api.root / "index.json").read_text())["skills"][0]["vers"] == "1.1.0"


# ---- 401 -------------------------------------------------------------- #


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer skp_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-even-prefixed"},
    ],
)
async def test_missing_or_invalid_token_is_401(api, make_skill, headers):
    data = pack(make_skill("basics"))
    r = await api.client.put("/api/v1/skills/docker/basics/1.0.0", content=data, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["detail"]
    assert not (api.root / "index/docker/basics").exists()


async def test_expired_token_is_401(api, make_skill):
    import time

    store = api.registry.store
    _, token = store.create_token("alice", name="old", scopes=["publish-new"], expires_in_days=1, now=int(time.time()) - 2 * 86_400)
    r = await api.put("docker/basics", "1.0.0", pack(make_skill("basics")), token)
    assert r.status_code == 401
    assert "expired" in r.json()["errors"][0]["detail"]


async def test_revoked_token_is_401(api, make_skill):
    created = await api.client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["publish-new"]}, headers=api.auth(api.admin)
    )
    assert created.status_code == 201
    token, token_id = created.json()["token"], created.json()["id"]
    r = await api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.auth(api.admin))
    assert r.status_code == 200
    r = await api.put("docker/basics", "1.0.0", pack(make_skill("basics")), token)
    assert r.status_code == 401
    assert "revoked" in r.json()["errors"][0]["detail"]


# ---- 403 -------------------------------------------------------------- #


async def test_scopes_decide_what_a_token_may_do(api, make_skill):
    folder = make_skill("basics", version="1.0.0")
    yank_only = api.token("alice", ["yank"])
    r = await api.publish(folder, "docker/basics", token=yank_only)
    assert r.status_code == 403 and "publish-new" in r.json()["errors"][0]["detail"]

    update_only = api.token("alice", ["publish-update"])
    r = await api.publish(folder, "docker/basics", token=update_only)
    assert r.status_code == 403, "publish-update cannot create a new id"

    new_only = api.token("alice", ["publish-new"])
    assert (await api.publish(folder, "docker/basics", token=new_only)).status_code == 201
    make_skill("basics", version="1.1.0")
    r = await api.publish(folder, "docker/basics", token=new_only)
    assert r.status_code == 403 and "publish-update" in r.json()["errors"][0]["detail"]
    assert (await api.publish(folder, "docker/basics", token=api.token("alice", ["publish-update"]))).status_code == 201


async def test_first_publisher_owns_the_id_and_others_cannot_update_it(api, make_skill):
    folder = make_skill("basics", version="1.0.0")
    alice, bob = api.token("alice"), api.token("bob")
    assert (await api.publish(folder, "docker/basics", token=alice)).status_code == 201
    assert (await api.client.get("/api/v1/skills/docker/basics/owners")).json() == {"users": ["alice"]}
    make_skill("basics", version="1.1.0")
    r = await api.publish(folder, "docker/basics", token=bob)
    assert r.status_code == 403
    assert "not an owner" in r.json()["errors"][0]["detail"]
    r = await api.client.put("/api/v1/skills/docker/basics/1.0.0/yank", headers=api.auth(bob))
    assert r.status_code == 403
    # an admin may act on any id
    assert (await api.publish(folder, "docker/basics")).status_code == 201


async def test_pattern_scoped_tokens_reach_only_matching_ids(api, make_skill):
    token = api.token("alice", patterns=["docker/*"])
    r = await api.publish(make_skill("basics", parent=api.root.parent / "a"), "docker/basics", token=token)
    assert r.status_code == 201, r.text
    r = await api.publish(make_skill("basics", parent=api.root.parent / "b"), "python/basics", token=token)
    assert r.status_code == 403
    assert "docker/*" in r.json()["errors"][0]["detail"]
    exact = api.token("carol", patterns=["tools/lint"])
    assert (await api.publish(make_skill("lint"), "tools/lint", token=exact)).status_code == 201
    assert (await api.publish(make_skill("lint-extra"), "tools/lint-extra", token=exact)).status_code == 403


# ---- 404 / 409 / 413 / 422 ----------------------------------------- #


async def test_duplicate_version_is_409_and_changes_nothing(api, make_skill):
    folder = make_skill("basics", version="1.0.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    before = (api.root / "index/docker/basics").read_bytes(), (api.root / "dl/docker/basics/1.0.0.tar.gz").read_bytes()
    make_skill("basics", version="1.0.0", body="# changed\n")
    r = await api.publish(folder, "docker/basics")
    assert r.status_code == 409
    assert "already published" in r.json()["errors"][0]["detail"]
    after = (api.root / "index/docker/basics").read_bytes(), (api.root / "dl/docker/basics/1.0.0.tar.gz").read_bytes()
    assert before == after
    # build metadata does not make a new version
    make_skill("basics", version="1.0.0+build.2")
    assert (await api.publish(folder, "docker/basics")).status_code == 409


async def test_an_interrupted_publish_is_completed_by_publishing_again(api, make_skill):
    """Killed after the archive was written, before the index line: the same upload completes it."""
    folder = make_skill("basics", version="1.0.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    archive = api.root / "dl/docker/basics/1.0.0.tar.gz"
    data = archive.read_bytes()
    # simulate the interruption of a second version: its archive only
    make_skill("basics", version="1.1.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    left = (api.root / "dl/docker/basics/1.1.0.tar.gz").read_bytes()
    index = api.root / "index/docker/basics"
    index.write_text(index.read_text().splitlines()[0] + "\n")
    r = await api.publish(folder, "docker/basics")
    assert r.status_code == 201, r.text
    assert [json.loads(ln)["vers"] for ln in index.read_text().splitlines()] == ["1.0.0", "1.1.0"]
    assert (api.root / "dl/docker/basics/1.1.0.tar.gz").read_bytes() == left
    assert archive.read_bytes() == data
    # an archive with other bytes stays a conflict
    make_skill("basics", version="1.2.0")
    (api.root / "dl/docker/basics/1.2.0.tar.gz").write_bytes(b"other bytes")
    r = await api.publish(folder, "docker/basics")
    assert r.status_code == 409
    assert (api.root / "dl/docker/basics/1.2.0.tar.gz").read_bytes() == b"other bytes"
    assert len(index.read_text().splitlines()) == 2


async def test_an_id_cannot_also_be_a_namespace(api, make_skill):
    assert (await api.publish(make_skill("basics"), "docker/basics")).status_code == 201
    r = await api.publish(make_skill("docker"), "docker")
    assert r.status_code == 409 and "namespace" in r.json()["errors"][0]["detail"]
    assert (await api.publish(make_skill("tool"), "solo")).status_code == 422  # name != last segment
    assert (await api.publish(make_skill("solo"), "solo")).status_code == 201
    r = await api.publish(make_skill("deeper"), "solo/deeper")
    assert r.status_code == 409


async def test_body_over_the_limit_is_413_by_content_length(api):
    r = await api.put("docker/basics", "1.0.0", b"\0" * (256 * 1024 + 1))
    assert r.status_code == 413
    assert not (api.root / "index/docker/basics").exists()


async def test_body_over_the_limit_is_413_while_streaming(api):
    async def chunks():
        for _ in range(100):
            yield b"\0" * 8192  # 800 KiB, no Content-Length (chunked)

    r = await api.client.put(
        "/api/v1/skills/docker/basics/1.0.0", content=chunks(), headers={**api.auth(api.admin), "Content-Type": "application/gzip"}
    )
    assert r.status_code == 413
    assert "limit" in r.json()["errors"][0]["detail"]


async def test_invalid_skill_is_422_with_every_validation_message(api, make_skill):
    folder = make_skill("basics", version="1.0.0", extra_frontmatter={"model": "x", "license": ""})
    r = await api.publish(folder, "docker/basics")
    assert r.status_code == 422
    details = [e["detail"] for e in r.json()["errors"]]
    assert any("model" in d for d in details) and any("license" in d for d in details)
    assert all(d.startswith("docker/basics/") for d in details), details  # no server paths leak
    assert not (api.root / "index/docker/basics").exists()
    assert not (api.root / "dl/docker/basics").exists()


@pytest.mark.parametrize(
    ("ident", "version", "skill_kw", "needle"),
    [
        ("docker/basics", "1.0.0", {"version": None}, "metadata.version"),
        ("docker/basics", "2.0.0", {"version": "1.0.0"}, "differs from the version published"),
        ("docker/other", "1.0.0", {}, "name"),
        ("docker/basics", "1.0.0", {"dependencies": ["./local/path"]}, "local path"),
        ("docker/basics", "1.0.0", {"metadata": {"skill_id": "elsewhere/basics"}}, "skill_id"),
        ("Docker/Basics", "1.0.0", {}, "not a registry id"),
        ("docker/basics", "v1.0.0", {}, "write the version as"),
        ("docker/basics", "1.0", {}, "invalid version"),
    ],
)
async def test_422_cases(api, make_skill, ident, version, skill_kw, needle):
    folder = make_skill("basics", **skill_kw)
    r = await api.put(ident, version, pack(folder))
    assert r.status_code == 422, r.text
    assert any(needle in e["detail"] for e in r.json()["errors"]), r.json()


async def test_unsafe_or_broken_archives_are_422(api, make_skill):
    assert (await api.put("docker/basics", "1.0.0", b"not a gzip at all")).status_code == 422
    folder = make_skill("basics")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.add(folder / "SKILL.md", arcname="SKILL.md")
        link = tarfile.TarInfo("evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    r = await api.put("docker/basics", "1.0.0", raw.getvalue())
    assert r.status_code == 422 and "symbolic link" in r.json()["errors"][0]["detail"]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.md")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    assert (await api.put("docker/basics", "1.0.0", raw.getvalue())).status_code == 422
    assert (await api.put("docker/basics", "1.0.0", b"")).status_code == 422
    assert list((api.root / ".registry/tmp").iterdir()) == []  # temp folders cleaned up


async def test_unknown_endpoints_and_ids_are_404_json(api):
    for method, url in [
        ("GET", "/api/v1/nothing"),
        ("GET", "/api/v1/skills/docker/basics/owners"),
        ("PUT", "/api/v1/skills/docker/basics/1.0.0/yank"),
        ("GET", "/api/v1/skills/docker/basics/1.0.0"),
    ]:
        r = await api.client.request(method, url, headers=api.auth(api.admin))
        assert r.status_code == 404, (method, url)
        assert r.json()["errors"][0]["detail"]


# ---- concurrency ------------------------------------------------------ #


async def test_concurrent_duplicate_publishes_exactly_one_wins(api, make_skill):
    data = pack(make_skill("basics", version="1.0.0"))
    n = 12
    results = await asyncio.gather(*(api.put("docker/basics", "1.0.0", data) for _ in range(n)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * (n - 1), codes
    assert len(api.index_lines("docker/basics")) == 1


async def test_concurrent_publishes_of_distinct_versions_all_land_once(api, make_skill):
    datas = []
    for i in range(8):
        datas.append((f"1.{i}.0", pack(make_skill("basics", parent=api.root.parent / f"v{i}", version=f"1.{i}.0"))))
    results = await asyncio.gather(*(api.put("docker/basics", v, d) for v, d in datas))
    assert [r.status_code for r in results] == [201] * 8
    lines = [json.loads(x)["vers"] for x in api.index_lines("docker/basics")]
    assert sorted(lines) == sorted(v for v, _ in datas)
    assert json.loads((api.root / "index.json").read_text())["skills"][0]["vers"] == "1.7.0"


async def test_two_servers_on_one_folder_serialize_through_the_file_lock(registry_root, make_skill):
    """Two app instances (as two processes would be) share only the file lock."""
    root, admin = registry_root
    data = pack(make_skill("basics", version="1.0.0"))
    apps = [create_app(root), create_app(root)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://test") for a in apps]
    try:
        results = await asyncio.gather(
            *(
                clients[i % 2].put("/api/v1/skills/docker/basics/1.0.0", content=data, headers={"Authorization": f"Bearer {admin}"})
                for i in range(10)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(r.status_code for r in results) == [201] + [409] * 9
    assert len((root / "index/docker/basics").read_text().splitlines()) == 1
