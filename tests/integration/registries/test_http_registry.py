"""A static registry served over HTTP on 127.0.0.1: ETags, offline, tokens, several registries."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tomllib
from pathlib import Path


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def set_registries(project: Path, text: str) -> None:
    with open(project / "skills.toml", "a") as f:
        f.write("\n[registries]\n" + text)


def build(cli, skill_tree, out: Path) -> Path:
    skill_tree("lib/core", "1.0.0")
    skill_tree("lib/http", "1.3.0", deps=["lib/core@^1.0"])
    skill_tree("app/web", "2.1.0", deps=["lib/http@^1.2"])
    cli("registry", "build", str(skill_tree.base), str(out))
    return out


def test_add_over_http_lock_records_the_url_and_revalidates_with_etags(cli, project, skill_tree, static_server, tmp_path):
    srv = static_server(build(cli, skill_tree, tmp_path / "public"))
    set_registries(project, f'default = "main"\nmain = "{srv.url}"\n')
    cli("add", "app/web@^2", cwd=project)
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    assert set(lock) == {"app/web", "lib/http", "lib/core"}
    assert {s["source"] for s in lock.values()} == {f"registry+{srv.url}"}
    assert cli("verify", cwd=project).rc == 0
    first = [r for r in srv.log if r.path.startswith("/index/")]
    assert all(r.status == 200 for r in first) and len(first) == 3  # each index fetched once
    assert len(srv.requests("/dl/")) == 3

    # a second resolution revalidates: If-None-Match, 304, no archive download
    srv.log.clear()
    cli("lock", cwd=project)
    again = srv.requests("/index/")
    assert again and all(r.status == 304 and r.headers.get("if-none-match") for r in again)
    assert srv.requests("/dl/") == []


def test_offline_from_a_warm_cache_and_a_clear_failure_when_cold(cli, cli_env, project, skill_tree, static_server, tmp_path, snap):
    srv = static_server(build(cli, skill_tree, tmp_path / "public"))
    set_registries(project, f'default = "{srv.url}"\n')
    cli("add", "app/web", cwd=project)

    # warm cache: a new project resolves and installs without the network
    warm = tmp_path / "warm"
    warm.mkdir()
    cli("init", cwd=warm)
    set_registries(warm, f'default = "{srv.url}"\n')
    srv.log.clear()
    cli("add", "--offline", "app/web@^2.1", cwd=warm)
    assert srv.log == []
    assert cli("verify", cwd=warm).rc == 0

    # cold cache: fails clearly, writes nothing
    cold = tmp_path / "cold"
    cold.mkdir()
    cli("init", cwd=cold)
    set_registries(cold, f'default = "{srv.url}"\n')
    before = snap(cold)
    cli_env["SKILLPM_CACHE_DIR"] = str(tmp_path / "empty-cache")
    r = cli("add", "--offline", "app/web", cwd=cold, rc=1)
    assert "offline" in r.err and "not in the cache" in r.err and r.err.count("\n") == 1
    assert snap(cold) == before
    # frozen install from a copied lock, cold and offline: same
    for name in ("skills.toml", "skills.lock"):
        shutil.copy(project / name, cold / name)
    before = snap(cold)
    r = cli("install", "--frozen", "--offline", cwd=cold, rc=1)
    assert "offline" in r.err and "not in the cache" in r.err
    assert snap(cold) == before
    assert srv.log == []


def test_token_goes_only_to_the_registry_host(cli, cli_env, project, skill_tree, static_server, tmp_path):
    public = build(cli, skill_tree, tmp_path / "public")
    # the archives live on another host (another origin: another port)
    cdn = static_server(public)
    config = json.loads((public / "config.json").read_text())
    config["dl"] = cdn.url + "dl/{name}/{version}.tar.gz"
    (public / "config.json").write_text(json.dumps(config))
    main = static_server(public)
    set_registries(project, f'default = "team-main"\nteam-main = "{main.url}"\n')
    secret = "s3cr3t-token-value-123"
    cli_env["SKILLPM_TOKEN_TEAM_MAIN"] = secret
    r = cli("add", "app/web", cwd=project)
    assert main.requests("/index/") and all(q.headers.get("authorization") == f"Bearer {secret}" for q in main.log)
    assert cdn.requests("/dl/") and all("authorization" not in q.headers for q in cdn.log)
    assert secret not in r.out + r.err
    assert secret not in (project / "skills.lock").read_text() + (project / "skills.toml").read_text()
    assert lock_of(project)["skill"][0]["source"] == f"registry+{main.url}"


def test_login_stores_the_token_privately_and_it_is_used(cli, cli_env, project, skill_tree, static_server, tmp_path):
    import subprocess
    import sys

    srv = static_server(build(cli, skill_tree, tmp_path / "public"))
    set_registries(project, f'default = "main"\nmain = "{srv.url}"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", "login", "--registry", "main"],
        cwd=project, env=cli_env, input="tok-from-stdin-42\n", capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "tok-from-stdin-42" not in proc.stdout + proc.stderr
    creds = Path(cli_env["SKILLPM_CONFIG_DIR"]) / "credentials.toml"
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    assert tomllib.loads(creds.read_text())["registries"][srv.url]["token"] == "tok-from-stdin-42"
    cli("add", "lib/core", cwd=project)
    assert all(q.headers.get("authorization") == "Bearer tok-from-stdin-42" for q in srv.log)
    r = cli("login", "--registry", "main", "--token", "other-token-7", cwd=project)
    assert "shell history" in r.err and "other-token-7" not in r.err
    r = cli("logout", "--registry", "main", cwd=project)
    assert "Removed" in r.err
    r = cli("login", "--registry", str(tmp_path / "public"), rc=1)
    assert "not an HTTP registry" in r.err


def test_several_registries_with_name_prefix(cli, project, skill_tree, static_server, tmp_path, make_skill, snap):
    main_srv = static_server(build(cli, skill_tree, tmp_path / "public"))
    # a second registry (a folder): ops/tool needs lib/base, unqualified, which only it has
    team_src = tmp_path / "team-src" / "skills"
    make_skill("base", parent=team_src / "lib", version="9.0.0")
    make_skill("core", parent=team_src / "lib", version="9.0.0")
    make_skill("tool", parent=team_src / "ops", version="0.3.0", dependencies=["lib/base@^9"])
    cli("registry", "build", str(team_src), str(tmp_path / "team-reg"))
    set_registries(project, f'default = "main"\nmain = "{main_srv.url}"\nteam = "{(tmp_path / "team-reg").as_posix()}"\n')
    cli("add", "team:ops/tool", "app/web", cwd=project)
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    assert set(lock) == {"team:ops/tool", "team:lib/base", "app/web", "lib/http", "lib/core"}
    assert lock["team:ops/tool"]["version"] == "0.3.0" and lock["team:lib/base"]["version"] == "9.0.0"
    assert lock["team:ops/tool"]["dependencies"] == ["team:lib/base"]  # the dependency stayed in its registry
    assert lock["team:lib/base"]["source"] == "registry+" + (tmp_path / "team-reg").resolve().as_uri() + "/"
    assert lock["lib/core"]["source"] == f"registry+{main_srv.url}"
    assert tomllib.loads((project / "skills.toml").read_text())["skills"] == {"team:ops/tool": "^0.3.0", "app/web": "^2.1.0"}
    assert cli("verify", cwd=project).rc == 0
    # the same folder name from two registries is refused, and nothing changes
    before = snap(project)
    r = cli("add", "team:lib/core", cwd=project, rc=1)
    assert "would both install into the folder 'core'" in r.err
    assert snap(project) == before


def test_unknown_registry_name_and_unknown_id(cli, project, skill_tree, static_server, tmp_path):
    srv = static_server(build(cli, skill_tree, tmp_path / "public"))
    set_registries(project, f'default = "{srv.url}"\n')
    r = cli("add", "nope:lib/core", cwd=project, rc=1)
    assert "no registry named 'nope'" in r.err
    r = cli("add", "lib/missing", cwd=project, rc=1)
    assert f"lib/missing is not in {srv.url}" in r.err
    r = cli("search", "core", cwd=project)
    assert r.out.startswith("lib/core")
