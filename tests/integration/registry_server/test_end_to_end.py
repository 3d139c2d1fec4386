"""The real CLI against a real server: log in, publish, install, lock, verify; git clone."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from skillpm.archive import pack

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _has_command(cli, name: str) -> bool:
    return cli(name, "--help", rc=None).rc == 0


def _set_registry(project: Path, url: str) -> None:
    manifest = project / "skills.toml"
    manifest.write_text(manifest.read_text() + f'\n[registries]\ndefault = "{url}"\n')


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


@needs_git
def test_publish_with_the_cli_then_install_lock_and_verify_elsewhere(registry_server, cli, make_skill, tmp_path, project):
    if not _has_command(cli, "publish"):
        pytest.skip("`skillpm publish` (the registry client) is not available yet")
    srv = registry_server()
    alice = srv.token_for("alice")

    author = tmp_path / "author"
    make_skill("engine", parent=author / "skills" / "docker", version="1.0.0")
    make_skill("basics", parent=author / "skills" / "docker", version="1.2.0", dependencies=["docker/engine@^1.0"])
    (author / "skills.toml").write_text("[skills]\n")

    cli("login", "--registry", srv.url, "--token", alice, cwd=author)
    for skill in ("engine", "basics"):
        out = cli("publish", f"skills/docker/{skill}", "--registry", srv.url, cwd=author)
        assert f"published docker/{skill}" in out.out
    again = cli("publish", "skills/docker/basics", "--registry", srv.url, cwd=author, rc=1)
    assert "already published" in again.err

    found = cli("search", "engine", "--registry", srv.url, cwd=author)
    assert "docker/engine" in found.out and "docker/basics" not in found.out
    shown = cli("info", "docker/basics", "--registry", srv.url, cwd=author)
    assert "1.2.0" in shown.out and "docker/engine@^1.0" in shown.out

    index = _get(srv.url + "index/docker/basics").decode()
    assert json.loads(index)["deps"] == {"docker/engine": "^1.0"}

    # another project, another user's machine: install from the server
    _set_registry(project, srv.url)
    cli("add", "docker/basics", cwd=project)
    installed = project / ".agents" / "skills"
    assert (installed / "basics" / "SKILL.md").is_file()
    assert (installed / "engine" / "SKILL.md").is_file(), "the dependency came along"
    lock = (project / "skills.lock").read_text()
    assert "docker/basics" in lock and "docker/engine" in lock and srv.url in lock
    cli("lock", cwd=project)
    verified = cli("verify", cwd=project)
    assert "verified" in verified.out
    assert '"docker/basics" = "^1.2.0"' in (project / "skills.toml").read_text()

    # the history on the server names alice
    log = subprocess.run(["git", "-C", str(srv.data), "log", "--format=%an|%s"], capture_output=True, text=True, check=True).stdout
    assert "alice|publish docker/basics 1.2.0" in log and "alice|publish docker/engine 1.0.0" in log

    # yank through the CLI: the index flips, the lock still installs
    if _has_command(cli, "yank"):
        cli("yank", "docker/basics@1.2.0", "--registry", srv.url, cwd=author)
        assert json.loads(_get(srv.url + "index/docker/basics").decode())["yanked"] is True
        cli("install", "--frozen", cwd=project)


def test_owner_commands_change_who_may_publish(registry_server, cli, cli_env, make_skill, tmp_path):
    srv = registry_server(git=False)
    alice = srv.token_for("alice")
    bob = srv.token_for("bob")
    folder = make_skill("basics", version="1.0.0")

    def put(token: str, version: str) -> int:
        make_skill("basics", version=version)
        req = urllib.request.Request(
            srv.url + f"api/v1/skills/docker/basics/{version}", data=pack(folder), method="PUT", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    assert put(alice, "1.0.0") == 201
    assert put(bob, "1.1.0") == 403
    cwd = tmp_path / "anywhere"
    cwd.mkdir()
    out = cli("owner", "add", "docker/basics", "bob", "--registry", srv.url, "--token", alice, cwd=cwd)
    assert "alice, bob" in out.out
    assert cli("owner", "list", "docker/basics", "--registry", srv.url, cwd=cwd).out.split() == ["alice", "bob"]
    assert put(bob, "1.1.0") == 201
    # the token from the environment (SKILLPM_TOKEN_<NAME>) works as well, via a named registry
    (cwd / "skills.toml").write_text(f'[skills]\n\n[registries]\nteam = "{srv.url}"\n')
    cli_env["SKILLPM_TOKEN_TEAM"] = bob  # the `cli` runner uses this very dict
    cli("owner", "remove", "docker/basics", "alice", "--registry", "team", cwd=cwd)
    del cli_env["SKILLPM_TOKEN_TEAM"]
    assert cli("owner", "list", "docker/basics", "--registry", srv.url, cwd=cwd).out.split() == ["bob"]
    refused = cli("owner", "remove", "docker/basics", "bob", "--registry", srv.url, "--token", bob, cwd=cwd, rc=1)
    assert "at least one owner" in refused.err
    no_token = cli("owner", "add", "docker/basics", "alice", "--registry", srv.url, cwd=tmp_path / "anywhere", rc=1)
    assert "no token" in no_token.err


def test_concurrent_duplicate_publishes_over_http_one_wins(registry_server, make_skill):
    """N threads PUT the same version to two server processes on one data folder."""
    first = registry_server()
    second = registry_server(first.data, admin=first.admin)
    data = pack(make_skill("basics", version="1.0.0"))

    def put(i: int) -> int:
        srv = (first, second)[i % 2]
        req = urllib.request.Request(
            srv.url + "api/v1/skills/docker/basics/1.0.0", data=data, method="PUT", headers={"Authorization": f"Bearer {first.admin}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = sorted(pool.map(put, range(16)))
    assert codes == [201] + [409] * 15, codes
    assert len((first.data / "index/docker/basics").read_text().splitlines()) == 1
    if shutil.which("git"):
        log = subprocess.run(["git", "-C", str(first.data), "log", "--format=%s"], capture_output=True, text=True, check=True).stdout
        assert log.count("publish docker/basics 1.0.0") == 1


def test_several_worker_processes_share_one_writer(registry_server, make_skill):
    srv = registry_server(workers=2)
    datas = {f"1.{i}.0": pack(make_skill("basics", parent=srv.data.parent / f"w{i}", version=f"1.{i}.0")) for i in range(4)}

    def put(item) -> int:  # noqa: ANN001
        version, data = item
        req = urllib.request.Request(
            srv.url + f"api/v1/skills/docker/basics/{version}", data=data, method="PUT", headers={"Authorization": f"Bearer {srv.admin}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    items = list(datas.items()) * 3  # every version three times, all at once
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(put, items))
    assert sorted(codes) == [201] * 4 + [409] * 8, codes
    lines = [json.loads(x)["vers"] for x in _get(srv.url + "index/docker/basics").decode().splitlines()]
    assert sorted(lines) == sorted(datas)


@needs_git
def test_the_history_clones_into_a_working_git_registry(registry_server, cli, make_skill, tmp_path, project):
    srv = registry_server()
    for version in ("1.0.0", "1.1.0"):
        folder = make_skill("basics", version=version)
        req = urllib.request.Request(
            srv.url + f"api/v1/skills/docker/basics/{version}", data=pack(folder), method="PUT", headers={"Authorization": f"Bearer {srv.admin}"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201
    clone = tmp_path / "mirror"
    subprocess.run(["git", "clone", "-q", str(srv.data), str(clone)], check=True)
    assert (clone / "index/docker/basics").read_bytes() == (srv.data / "index/docker/basics").read_bytes()
    assert not (clone / ".registry").exists(), "the database never leaves the server"
    history = subprocess.run(["git", "-C", str(clone), "log", "--format=%an|%s"], capture_output=True, text=True, check=True).stdout
    assert history.splitlines() == ["admin|publish docker/basics 1.1.0", "admin|publish docker/basics 1.0.0", "admin|init registry"]

    _set_registry(project, "git+" + clone.as_uri())
    result = cli("add", "docker/basics@^1.0", cwd=project, rc=None)
    if result.rc != 0 and ("git+" in result.err and "registr" in result.err and "not supported" in result.err):
        pytest.skip(f"the client cannot read git registries yet: {result.err.strip()}")
    assert result.rc == 0, result
    assert "1.1.0" in (project / "skills.lock").read_text()
    cli("verify", cwd=project)


def test_serve_without_the_extra_says_how_to_install_it(cli, cli_env, tmp_path):
    stub = tmp_path / "no-fastapi"
    (stub / "fastapi").mkdir(parents=True)
    (stub / "fastapi" / "__init__.py").write_text("raise ImportError('No module named fastapi')\n")
    cli_env["PYTHONPATH"] = os.pathsep.join([str(stub), cli_env["PYTHONPATH"]])
    cli("registry", "init", str(tmp_path / "data"))  # init needs no server packages
    result = cli("registry", "serve", "--data", str(tmp_path / "data"), rc=1)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'skillpm[registry]'" in lines[0], result


def test_init_prints_the_token_once_and_refuses_a_second_time(cli, tmp_path):
    data = tmp_path / "data"
    result = cli("registry", "init", str(data))
    token = result.out.strip()
    assert token.startswith("skp_") and "\n" not in token
    assert token not in result.err
    assert json.loads((data / "config.json").read_text()) == {"skillpm-registry": 1, "dl": "dl/{name}/{version}.tar.gz", "api": "api"}
    assert token.encode() not in (data / ".registry" / "registry.db").read_bytes()
    again = cli("registry", "init", str(data), rc=1)
    assert "already" in again.err
    minted = cli("registry", "token", "--data", str(data), "--user", "ci", "--scope", "publish-new", "--pattern", "acme/*")
    assert minted.out.strip().startswith("skp_")


def test_skillpm_help_does_not_import_the_server():
    code = (
        "import sys; from skillpm.cli.app import app; "
        "bad = [m for m in ('fastapi', 'uvicorn', 'starlette', 'nh3', 'markdown_it', 'registry.app') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
