"""In-process registry tests: an isolated cache/config and a mock network.

`mock_net(handler)` routes every request of skillpm's HTTP client to
`handler(request) -> httpx.Response` (httpx.MockTransport) and records them.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch):
    from skillpm.registries import client, locations

    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SKILLPM_CONFIG_DIR", str(tmp_path / "config"))
    for key in list(__import__("os").environ):
        if key.startswith("SKILLPM_TOKEN_"):
            monkeypatch.delenv(key)
    monkeypatch.setattr(client, "RETRY_DELAYS", (0.0, 0.0))
    locations.reset()
    yield
    client.set_transport_factory(None)
    locations.reset()


@pytest.fixture
def mock_net():
    from skillpm.registries import client

    seen: list[httpx.Request] = []

    def install(handler):
        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        client.set_transport_factory(lambda: httpx.MockTransport(record))
        return seen

    return install
