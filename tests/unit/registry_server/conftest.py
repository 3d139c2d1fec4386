"""Fixtures for the registry server's API tests (in-process, httpx.ASGITransport).

    async def test_x(api, make_skill):
        r = await api.publish(make_skill("basics", version="1.0.0"), "docker/basics")
        assert r.status_code == 201

`api.admin` is the first admin token; `api.token(user, scopes, ...)` mints more.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

pytest.importorskip("fastapi", reason="the registry server needs the extra packages: pip install 'skillpm[registry]'")

from registry.app import create_app  # noqa: E402
from registry.service import init_registry  # noqa: E402
from skillpm.archive import pack  # noqa: E402


def git_available() -> bool:
    return shutil.which("git") is not None


@dataclass
class Api:
    client: httpx.AsyncClient
    root: Path
    admin: str
    app: object
    _minted: dict = field(default_factory=dict)

    @property
    def registry(self):
        return self.app.state.registry

    def token(self, user: str, scopes=("publish-new", "publish-update", "yank", "owners"), *, patterns=(), days=None) -> str:
        _, tok = self.registry.store.create_token(user, name=f"{user} test token", scopes=scopes, patterns=patterns, expires_in_days=days)
        return tok

    @staticmethod
    def auth(token: str | None) -> dict:
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def put(self, ident: str, version: str, data: bytes, token: str | None = "admin", **kw) -> httpx.Response:
        token = self.admin if token == "admin" else token
        headers = {"Content-Type": "application/gzip", **self.auth(token), **kw.pop("headers", {})}
        return await self.client.put(f"/api/v1/skills/{ident}/{version}", content=data, headers=headers, **kw)

    async def publish(self, folder: Path, ident: str, version: str | None = None, token: str | None = "admin") -> httpx.Response:
        from skillpm.skill import read_skill

        if version is None:
            info, _ = read_skill(folder)
            version = info.version
        return await self.put(ident, version, pack(folder), token)

    def index_lines(self, ident: str) -> list[str]:
        p = self.root / "index" / ident
        return p.read_text().splitlines() if p.exists() else []


@pytest.fixture
def registry_root(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "registry"
    token = init_registry(root, git=git_available(), base_url="http://test/")
    return root, token


@pytest_asyncio.fixture
async def api(registry_root) -> Api:
    root, admin = registry_root
    app = create_app(root, max_upload=256 * 1024)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield Api(client=client, root=root, admin=admin, app=app)
