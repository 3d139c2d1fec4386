"""The git history, the static routes (ETag, no dot-folders) and the HTML pages."""

from __future__ import annotations

import subprocess

import pytest

from registry.app import create_app

from .conftest import git_available

pytestmark = pytest.mark.asyncio
needs_git = pytest.mark.skipif(not git_available(), reason="git is not installed")


def _git(root, *args) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


# ---- git history ------------------------------------------------------ #


@needs_git
async def test_every_write_is_a_commit_by_the_tokens_user(api, make_skill):
    alice = api.token("alice")
    folder = make_skill("basics", version="1.0.0")
    assert (await api.publish(folder, "docker/basics", token=alice)).status_code == 201
    make_skill("basics", version="1.1.0")
    assert (await api.publish(folder, "docker/basics", token=alice)).status_code == 201
    h = api.auth(alice)
    assert (await api.client.put("/api/v1/skills/docker/basics/1.1.0/yank", headers=h)).status_code == 200
    assert (await api.client.delete("/api/v1/skills/docker/basics/1.1.0/yank", headers=h)).status_code == 200
    api.token("bob")
    assert (await api.client.put("/api/v1/skills/docker/basics/owners", json={"users": ["bob"]}, headers=h)).status_code == 200
    assert (await api.client.request("DELETE", "/api/v1/skills/docker/basics/owners", json={"users": ["bob"]}, headers=h)).status_code == 200
    # a refused request commits nothing
    assert (await api.publish(folder, "docker/basics", token=alice)).status_code == 409

    log = _git(api.root, "log", "--format=%an <%ae>|%cn|%s").splitlines()
    assert log == [
        "alice <alice@users.registry.invalid>|skillpm registry|owners remove docker/basics: bob",
        "alice <alice@users.registry.invalid>|skillpm registry|owners add docker/basics: bob",
        "alice <alice@users.registry.invalid>|skillpm registry|unyank docker/basics 1.1.0",
        "alice <alice@users.registry.invalid>|skillpm registry|yank docker/basics 1.1.0",
        "alice <alice@users.registry.invalid>|skillpm registry|publish docker/basics 1.1.0",
        "alice <alice@users.registry.invalid>|skillpm registry|publish docker/basics 1.0.0",
        "admin <admin@users.registry.invalid>|skillpm registry|init registry",
    ]
    tracked = set(_git(api.root, "ls-files").split())
    assert tracked == {
        ".gitignore",
        "config.json",
        "index.json",
        "index/docker/basics",
        "dl/docker/basics/1.0.0.tar.gz",
        "dl/docker/basics/1.1.0.tar.gz",
        "owners/docker/basics.json",
    }
    assert _git(api.root, "status", "--porcelain") == ""  # the db and locks are ignored, nothing left over
    # the yank commit changed exactly the one field
    diff = _git(api.root, "show", "--format=", "-U0", "HEAD~3", "--", "index/docker/basics")
    assert '"yanked":false' in diff and '"yanked":true' in diff


@needs_git
async def test_git_hooks_never_run(api, make_skill):
    marker = api.root.parent / "hook-ran"
    hook = api.root / ".git/hooks/pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    assert (await api.publish(make_skill("basics"), "docker/basics")).status_code == 201
    assert not marker.exists()
    assert _git(api.root, "log", "-1", "--format=%s").strip() == "publish docker/basics 1.0.0"


@needs_git
async def test_a_clone_without_the_database_serves_and_searches_again(api, make_skill, tmp_path):
    folder = make_skill("basics", metadata={"keywords": "containers"})
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(api.root), str(clone)], check=True)
    assert not (clone / ".registry").exists()
    import httpx

    app = create_app(clone)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        assert (await c.get("/index/docker/basics")).text == (api.root / "index/docker/basics").read_text()
        hits = (await c.get("/api/v1/search", params={"q": "containers"})).json()["skills"]
        assert [h["name"] for h in hits] == ["docker/basics"]  # keywords backfilled from the archive


# ---- static routes ---------------------------------------------------- #


async def test_create_app_makes_an_empty_folder_a_registry(tmp_path):
    import httpx

    app = create_app(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        config = await c.get("/config.json")
        assert config.status_code == 200 and config.json()["skillpm-registry"] == 1
        assert (await c.get("/index.json")).json() == {"skillpm-index": 1, "skills": []}
        assert (await c.get("/api/v1/tokens")).status_code == 401
        assert (await c.get("/")).status_code == 200
    assert (tmp_path / ".registry/registry.db").is_file()
    assert (tmp_path / ".gitignore").read_text() == "/.registry/\n"



async def test_static_files_have_etags_and_answer_304(api, make_skill):
    assert (await api.publish(make_skill("basics"), "docker/basics")).status_code == 201
    for url, cache in [
        ("/config.json", "no-cache"),
        ("/index.json", "no-cache"),
        ("/index/docker/basics", "no-cache"),
        ("/dl/docker/basics/1.0.0.tar.gz", "immutable"),
    ]:
        r = await api.client.get(url)
        assert r.status_code == 200, url
        etag = r.headers["etag"]
        assert cache in r.headers["cache-control"]
        again = await api.client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        head = await api.client.head(url)
        assert head.status_code == 200 and int(head.headers["content-length"]) == len(r.content)
    assert (await api.client.get("/dl/docker/basics/1.0.0.tar.gz")).content == (api.root / "dl/docker/basics/1.0.0.tar.gz").read_bytes()
    config = (await api.client.get("/config.json")).json()
    assert config == {"skillpm-registry": 1, "dl": "dl/{name}/{version}.tar.gz", "api": "http://test/api"}


async def test_the_etag_changes_when_an_index_file_changes(api, make_skill):
    folder = make_skill("basics", version="1.0.0")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    etag = (await api.client.get("/index/docker/basics")).headers["etag"]
    make_skill("basics", version="1.0.1")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    r = await api.client.get("/index/docker/basics", headers={"If-None-Match": etag})
    assert r.status_code == 200 and len(r.text.splitlines()) == 2


@pytest.mark.parametrize(
    "url",
    [
        "/.registry/registry.db",
        "/.registry/",
        "/.git/config",
        "/.gitignore",
        "/index/../.registry/registry.db",
        "/index/..%2f.registry%2fregistry.db",
        "/index/%2e%2e/.registry/registry.db",
        "/dl/..%2f..%2f.registry/registry.db",
        "/dl/docker/basics/..%2f..%2f..%2f.registry%2fregistry.db",
        "/dl/docker/basics/.1.0.0.tar.gz.tmp",
        "/index/.hidden",
        "/static/../.registry/registry.db",
        "/static/%2e%2e%2f.registry%2fregistry.db",
        "/owners/docker/basics.json",
        "/skills/../.registry/registry.db",
    ],
)
async def test_dot_folders_and_the_database_are_never_served(api, make_skill, url):
    assert (await api.publish(make_skill("basics"), "docker/basics")).status_code == 201
    r = await api.client.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert b"SQLite" not in r.content and b"[core]" not in r.content


# ---- the browse pages (HTML, in-process) ------------------------------ #

_XSS_BODY = """# Evil

<script>document.title = "pwned"</script>
<img src="x" onerror="document.title='pwned'">
<a href="javascript:alert(1)">click</a>
<iframe srcdoc="<script>parent.document.title='pwned'</script>"></iframe>
<svg onload="document.title='pwned'"></svg>
<div style="background:url(javascript:alert(1))" onclick="x()">text</div>

[link](javascript:alert(2))
"""


def _tags(text: str) -> list[tuple[str, list]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):  # noqa: ANN001
            found.append((tag, attrs))

    Collect().feed(text)
    return found


async def test_pages_carry_a_strict_csp_and_sanitize_skill_content(api, make_skill):
    folder = make_skill("evil", version="1.0.0", body=_XSS_BODY, description='<img src=x onerror="document.title=1"> evil')
    assert (await api.publish(folder, "acme/evil")).status_code == 201
    for url in ("/", "/skills/acme/evil", "/?q=evil"):
        r = await api.client.get(url)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff"
        html = r.text.lower()
        assert html.count("<script") == 1 and '<script src="/static/browse.js" defer>' in html
        for tag, attrs in _tags(r.text):  # as a browser parses it: escaped text stays text
            assert tag not in ("iframe", "svg", "object", "embed", "math"), (url, tag)
            for name, value in attrs:
                assert not name.startswith("on") and name != "style", (url, tag, name)
                if name in ("href", "src", "action"):
                    assert not (value or "").strip().lower().startswith(("javascript:", "data:text")), (url, tag, value)
    page = (await api.client.get("/skills/acme/evil")).text
    assert "skillpm add acme/evil@^1.0.0" in page
    assert "&lt;img src=x" in page  # the description is text, not markup


async def test_skill_page_shows_versions_yanked_dependencies_and_readme(api, make_skill):
    folder = make_skill("basics", version="1.0.0", dependencies=["tools/lint@^2", "github:acme/x@^1"], body="# Basics\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    make_skill("basics", version="1.1.0", dependencies=["tools/lint@^2", "github:acme/x@^1"], body="# Basics\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert (await api.publish(folder, "docker/basics")).status_code == 201
    await api.client.put("/api/v1/skills/docker/basics/1.1.0/yank", headers=api.auth(api.admin))
    page = (await api.client.get("/skills/docker/basics")).text
    assert "skillpm add docker/basics@^1.0.0" in page
    assert 'data-version="1.1.0"' in page and 'class="yanked"' in page and "yanked</span>" in page
    assert 'href="/skills/tools/lint"' in page and "^2" in page
    assert "<table>" in page and "<td>1</td>" in page
    assert (await api.client.get("/skills/docker/nothing")).status_code == 404
    assert "text/html" in (await api.client.get("/skills/docker/nothing")).headers["content-type"]


async def test_index_page_filters_with_q_on_the_server(api, make_skill):
    for ident in ("docker/basics", "docker/compose", "python/uv"):
        assert (await api.publish(make_skill(ident.rsplit("/", 1)[1]), ident)).status_code == 201
    page = (await api.client.get("/", params={"q": "docker"})).text
    assert 'data-id="docker/basics">' in page and 'data-id="docker/compose">' in page
    assert 'data-id="python/uv" hidden>' in page
    assert 'value="docker"' in page
    assert (await api.client.get("/static/browse.js")).headers["content-type"].startswith("text/javascript")
