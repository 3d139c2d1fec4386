"""Registries end to end: real servers on 127.0.0.1, real folders, real git repos.

- `static_server(folder)` serves a registry folder over HTTP (ThreadingHTTPServer
  in a thread) with ETag / If-None-Match support and a request log;
- `api_server()` runs the real registry server (`registry.app:create_app`) with
  uvicorn in a thread and returns its URL and an admin token;
- `skill_tree` writes skills as `<root>/skills/<namespace>/<name>` so that
  `skillpm publish <folder>` derives the id from the path;
- `bare_repo` makes an empty bare git repository (a git registry over file://).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Logged:
    method: str
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class StaticServer:
    url: str
    root: Path
    log: list[Logged] = field(default_factory=list)

    def requests(self, prefix: str = "") -> list[Logged]:
        return [r for r in self.log if r.path.startswith(prefix)]


class _Handler(http.server.SimpleHTTPRequestHandler):
    server_ref: StaticServer  # set per server class

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _record(self, status: int) -> None:
        self.server_ref.log.append(Logged(self.command, self.path, status, {k.lower(): v for k, v in self.headers.items()}))

    def do_GET(self):  # noqa: N802
        rel = self.path.split("?", 1)[0].lstrip("/")
        path = (self.server_ref.root / rel).resolve()
        if not str(path).startswith(str(self.server_ref.root.resolve())) or not path.is_file():
            self._record(404)
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._record(304)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._record(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip" if rel.endswith(".gz") else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def static_server() -> Iterator:
    """static_server(folder) -> StaticServer serving it on 127.0.0.1 (stopped after the test)."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(root: Path) -> StaticServer:
        state = StaticServer(url="", root=Path(root))
        handler = type("Handler", (_Handler,), {"server_ref": state})
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return state

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class ApiServer:
    url: str
    data: Path
    token: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator:
    """The real registry server (registry.app.create_app) on 127.0.0.1 with an admin token."""
    import uvicorn

    from registry.app import create_app
    from registry.service import init_registry

    started: list[uvicorn.Server] = []

    def start(name: str = "server") -> ApiServer:
        data = tmp_path / f"{name}-data"
        token = init_registry(data)
        port = _free_port()
        config = uvicorn.Config(create_app(data), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the registry server did not start")
            time.sleep(0.02)
        started.append(server)
        return ApiServer(url=f"http://127.0.0.1:{port}/", data=data, token=token)

    yield start
    for server in started:
        server.should_exit = True


@pytest.fixture
def skill_tree(tmp_path: Path, make_skill):
    """skill(id, version="1.0.0", deps=(), **kw) -> folder at <tmp>/src/skills/<id>."""
    base = tmp_path / "src" / "skills"

    def make(ident: str, version: str = "1.0.0", deps: tuple[str, ...] | list[str] = (), **kw) -> Path:
        ns, _, name = ident.rpartition("/")
        return make_skill(name, parent=base / ns if ns else base, version=version, dependencies=list(deps) or None, **kw)

    make.base = base
    return make


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def bare_repo(tmp_path: Path):
    """bare_repo(name) -> Path of a new empty bare repository (default branch main)."""

    def make(name: str = "registry.git") -> Path:
        path = tmp_path / name
        _git("init", "--bare", "--quiet", "--initial-branch=main", str(path))
        return path

    make.git = _git
    return make


def snapshot(project: Path) -> dict[str, bytes | None]:
    """Everything skillpm may write in a project, to prove a failure wrote nothing."""
    out: dict[str, bytes | None] = {}
    for name in ("skills.toml", "skills.lock"):
        p = project / name
        out[name] = p.read_bytes() if p.exists() else None
    install = project / ".agents" / "skills"
    folders = sorted(p.name for p in install.iterdir() if not p.name.startswith(".")) if install.is_dir() else []
    out["install dir"] = ",".join(folders).encode()
    return out


@pytest.fixture
def snap():
    """snap(project) -> the bytes of skills.toml, skills.lock and the install dir's folders."""
    return snapshot
