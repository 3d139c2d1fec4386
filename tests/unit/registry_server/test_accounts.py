"""Yank, owners and tokens through the write API."""

from __future__ import annotations

import json
import sqlite3

import pytest

pytestmark = pytest.mark.asyncio


async def _published(api, make_skill, *versions: str, ident: str = "docker/basics", token: str = "admin"):
    name = ident.rsplit("/", 1)[-1]
    for v in versions:
        folder = make_skill(name, version=v)
        r = await api.publish(folder, ident, token=token)
        assert r.status_code == 201, r.text


# ---- yank ------------------------------------------------------------- #


async def test_yank_and_unyank_flip_only_the_yanked_field(api, make_skill):
    await _published(api, make_skill, "1.0.0", "1.1.0")
    before = api.index_lines("docker/basics")
    h = api.auth(api.admin)

    r = await api.client.put("/api/v1/skills/docker/basics/1.1.0/yank", headers=h)
    assert r.status_code == 200 and r.json() == {"name": "docker/basics", "vers": "1.1.0", "yanked": True}
    after = api.index_lines("docker/basics")
    assert after[0] == before[0]
    assert after[1] == before[1].replace('"yanked":false', '"yanked":true')
    # the latest live version moves back
    assert json.loads((api.root / "index.json").read_text())["skills"][0]["vers"] == "1.0.0"
    # yanking again changes nothing and is fine
    assert (await api.client.put("/api/v1/skills/docker/basics/1.1.0/yank", headers=h)).status_code == 200
    assert api.index_lines("docker/basics") == after

    r = await api.client.delete("/api/v1/skills/docker/basics/1.1.0/yank", headers=h)
    assert r.status_code == 200 and r.json()["yanked"] is False
    assert api.index_lines("docker/basics") == before
    assert json.loads((api.root / "index.json").read_text())["skills"][0]["vers"] == "1.1.0"


async def test_yank_needs_the_scope_and_ownership(api, make_skill):
    alice = api.token("alice", ["publish-new", "publish-update"])
    await _published(api, make_skill, "1.0.0", token=alice)
    r = await api.client.put("/api/v1/skills/docker/basics/1.0.0/yank", headers=api.auth(alice))
    assert r.status_code == 403 and "yank" in r.json()["errors"][0]["detail"]
    bob = api.token("bob", ["yank"])
    assert (await api.client.put("/api/v1/skills/docker/basics/1.0.0/yank", headers=api.auth(bob))).status_code == 403
    alice_yank = api.token("alice", ["yank"])
    assert (await api.client.put("/api/v1/skills/docker/basics/1.0.0/yank", headers=api.auth(alice_yank))).status_code == 200
    r = await api.client.put("/api/v1/skills/docker/basics/9.9.9/yank", headers=api.auth(alice_yank))
    assert r.status_code == 404 and "1.0.0" in r.json()["errors"][0]["detail"]


async def test_all_versions_yanked_drops_the_id_from_the_search_index(api, make_skill):
    await _published(api, make_skill, "1.0.0")
    await api.client.put("/api/v1/skills/docker/basics/1.0.0/yank", headers=api.auth(api.admin))
    assert json.loads((api.root / "index.json").read_text())["skills"] == []
    assert (await api.client.get("/api/v1/search", params={"q": "basics"})).json() == {"skills": []}


# ---- owners ----------------------------------------------------------- #


async def test_owner_add_lets_another_user_publish_and_remove_takes_it_back(api, make_skill):
    alice, bob = api.token("alice"), api.token("bob")
    await _published(api, make_skill, "1.0.0", token=alice)
    url = "/api/v1/skills/docker/basics/owners"

    r = await api.client.put(url, json={"users": ["bob"]}, headers=api.auth(bob))
    assert r.status_code == 403, "bob is not an owner yet"
    r = await api.client.put(url, json={"users": ["bob"]}, headers=api.auth(alice))
    assert r.status_code == 200 and r.json() == {"users": ["alice", "bob"]}
    assert json.loads((api.root / "owners/docker/basics.json").read_text()) == {"users": ["alice", "bob"]}
    await _published(api, make_skill, "1.1.0", token=bob)

    r = await api.client.request("DELETE", url, json={"users": ["alice"]}, headers=api.auth(bob))
    assert r.status_code == 200 and r.json() == {"users": ["bob"]}
    r = await api.client.request("DELETE", url, json={"users": ["bob"]}, headers=api.auth(bob))
    assert r.status_code == 409 and "at least one owner" in r.json()["errors"][0]["detail"]
    make_skill("basics", version="1.2.0")
    assert (await api.publish(api.root.parent / "basics", "docker/basics", token=alice)).status_code == 403


async def test_owner_changes_need_the_owners_scope_and_known_users(api, make_skill):
    await _published(api, make_skill, "1.0.0")
    url = "/api/v1/skills/docker/basics/owners"
    no_scope = api.token("admin", ["publish-update"])
    assert (await api.client.put(url, json={"users": ["admin"]}, headers=api.auth(no_scope))).status_code == 403
    r = await api.client.put(url, json={"users": ["nobody"]}, headers=api.auth(api.admin))
    assert r.status_code == 404 and "nobody" in r.json()["errors"][0]["detail"]
    assert (await api.client.put(url, json={"users": []}, headers=api.auth(api.admin))).status_code == 422
    assert (await api.client.put(url, json={"people": ["x"]}, headers=api.auth(api.admin))).status_code == 422
    assert (await api.client.put(url, content=b"{not json", headers=api.auth(api.admin))).status_code == 422
    r = await api.client.request("DELETE", url, json={"users": ["carol"]}, headers=api.auth(api.admin))
    assert r.status_code == 404
    assert (await api.client.put(url, json={"users": ["admin"]})).status_code == 401


# ---- tokens ----------------------------------------------------------- #


async def test_tokens_are_shown_once_and_stored_only_as_sha256(api):
    r = await api.client.post(
        "/api/v1/tokens",
        json={"name": "laptop", "scopes": ["publish-new", "yank"], "patterns": ["docker/*"], "expires_in_days": 30},
        headers=api.auth(api.admin),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    token = created["token"]
    assert token.startswith("skp_") and len(token) >= 40
    assert created["scopes"] == ["publish-new", "yank"] and created["patterns"] == ["docker/*"]
    assert created["expires_at"] is not None and created["user"] == "admin"

    listed = (await api.client.get("/api/v1/tokens", headers=api.auth(api.admin))).json()["tokens"]
    assert {t["id"] for t in listed} >= {created["id"]}
    assert all("token" not in t for t in listed)
    assert token not in json.dumps(listed)

    db = api.root / ".registry/registry.db"
    blob = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("registry.db-*"))
    assert token.encode() not in blob
    import hashlib

    rows = sqlite3.connect(db).execute("SELECT hash FROM tokens").fetchall()
    assert (hashlib.sha256(token.encode()).hexdigest(),) in rows


async def test_a_token_hands_out_only_what_it_has(api):
    alice = api.token("alice", ["publish-new", "yank"], patterns=["docker/*"])
    h = api.auth(alice)
    post = api.client.post

    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["publish-update"], "patterns": ["docker/*"]}, headers=h)
    assert r.status_code == 403 and "publish-update" in r.json()["errors"][0]["detail"]
    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"], "patterns": ["docker/*"]}, headers=h)
    assert r.status_code == 403
    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"]}, headers=h)
    assert r.status_code == 403, "an unrestricted token from a pattern-limited one"
    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"], "patterns": ["*"]}, headers=h)
    assert r.status_code == 403
    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"], "patterns": ["python/*"]}, headers=h)
    assert r.status_code == 403
    r = await post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"], "patterns": ["docker/*"], "user": "bob"}, headers=h)
    assert r.status_code == 403 and "another user" in r.json()["errors"][0]["detail"]

    r = await post("/api/v1/tokens", json={"name": "ci", "scopes": ["yank"], "patterns": ["docker/web-*", "docker/basics"]}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["user"] == "alice"

    # tokens see and revoke only their own user's tokens
    mine = (await api.client.get("/api/v1/tokens", headers=h)).json()["tokens"]
    assert {t["user"] for t in mine} == {"alice"}
    admin_tokens = [t for t in (await api.client.get("/api/v1/tokens", headers=api.auth(api.admin))).json()["tokens"] if t["user"] == "admin"]
    assert (await api.client.delete(f"/api/v1/tokens/{admin_tokens[0]['id']}", headers=h)).status_code == 404


async def test_a_token_cannot_outlive_the_token_that_made_it(api):
    short = api.token("alice", ["yank"], days=2)
    r = await api.client.post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"], "expires_in_days": 365}, headers=api.auth(short))
    assert r.status_code == 201
    r2 = await api.client.post("/api/v1/tokens", json={"name": "y", "scopes": ["yank"]}, headers=api.auth(short))
    assert r.json()["expires_at"] is not None and r2.json()["expires_at"] is not None
    assert r.json()["expires_at"][:10] <= r2.json()["expires_at"][:10]


async def test_a_token_about_to_expire_cannot_mint_a_longer_lived_one(api):
    import time

    from registry.store import StoreError

    store = api.registry.store
    now = int(time.time())
    tid, short = store.create_token("alice", name="short", scopes=["yank"], expires_in_days=1, now=now - 86_400 + 600)
    parent = next(t for t in store.tokens(None) if t["id"] == tid)
    for body in ({"name": "x", "scopes": ["yank"], "expires_in_days": 30}, {"name": "y", "scopes": ["yank"]}):
        r = await api.client.post("/api/v1/tokens", json=body, headers=api.auth(short))
        assert r.status_code == 201, r.text
        assert r.json()["expires_at"] is not None and r.json()["expires_at"] <= parent["expires_at"]
        # the child expires with its parent: minting again and again gains nothing
        store.verify(r.json()["token"], now=now)
        with pytest.raises(StoreError):
            store.verify(r.json()["token"], now=now + 601)


async def test_admins_create_tokens_for_new_users(api, make_skill):
    r = await api.client.post(
        "/api/v1/tokens", json={"name": "dana's", "scopes": ["publish-new"], "user": "dana"}, headers=api.auth(api.admin)
    )
    assert r.status_code == 201 and r.json()["user"] == "dana"
    await _published(api, make_skill, "1.0.0", token=r.json()["token"])
    assert (await api.client.get("/api/v1/skills/docker/basics/owners")).json() == {"users": ["dana"]}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["fly"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["yank"]},
        {"name": "x", "scopes": ["yank"], "expires_in_days": 0},
        {"name": "x", "scopes": ["yank"], "patterns": ["Docker/*"]},
        {"name": "x", "scopes": ["yank"], "patterns": ["docker/[ab]"]},
        {"name": "x", "scopes": ["yank"], "user": "Not A Name"},
        {"name": "x", "scopes": ["yank"], "surprise": 1},
    ],
)
async def test_invalid_token_requests_are_422(api, body):
    r = await api.client.post("/api/v1/tokens", json=body, headers=api.auth(api.admin))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["detail"]


async def test_token_endpoints_need_a_token(api):
    assert (await api.client.get("/api/v1/tokens")).status_code == 401
    assert (await api.client.post("/api/v1/tokens", json={"name": "x", "scopes": ["yank"]})).status_code == 401
    assert (await api.client.delete("/api/v1/tokens/abc")).status_code == 401


# ---- search ----------------------------------------------------------- #


async def test_search_matches_ids_descriptions_and_keywords(api, make_skill):
    folders = {
        "docker/basics": make_skill("basics", description="Run containers well.", metadata={"keywords": "containers, oci"}),
        "python/packaging": make_skill("packaging", description="Build wheels with uv.", metadata={"keywords": "pip, wheels"}),
        "tools/lint": make_skill("lint", description="Lint anything.", metadata={"keywords": "ruff"}),
    }
    for ident, folder in folders.items():
        assert (await api.publish(folder, ident)).status_code == 201

    async def names(q: str) -> list[str]:
        r = await api.client.get("/api/v1/search", params={"q": q})
        assert r.status_code == 200
        return [s["name"] for s in r.json()["skills"]]

    assert await names("docker") == ["docker/basics"]
    assert await names("oci") == ["docker/basics"]  # keyword only
    assert await names("WHEELS") == ["python/packaging"]  # case-insensitive, keyword and description
    assert await names("lint anything") == ["tools/lint"]  # every word must match
    assert await names("nothing-like-this") == []
    assert sorted(await names("")) == sorted(folders)
    hit = (await api.client.get("/api/v1/search", params={"q": "lint"})).json()["skills"][0]
    assert hit == {"name": "tools/lint", "vers": "1.0.0", "description": "Lint anything."}
