"""The HTTP write API, against the real registry server (registry.app.create_app) on 127.0.0.1."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def test_publish_yank_search_through_the_api(cli, cli_env, project, skill_tree, api_server):
    srv = api_server()
    with open(project / "skills.toml", "a") as f:
        f.write(f'\n[registries]\ndefault = "hub"\nhub = "{srv.url}"\n')

    core = skill_tree("lib/core", "1.0.0")
    # no token: refused by the client before any upload
    r = cli("publish", str(core), "--registry", "hub", cwd=project, rc=1)
    assert "no token for hub" in r.err and "SKILLPM_TOKEN_HUB" in r.err
    # a wrong token: the server's detail, on one line
    cli_env["SKILLPM_TOKEN_HUB"] = "not-a-real-token"
    r = cli("publish", str(core), "--registry", "hub", cwd=project, rc=1)
    assert r.err.startswith("error: publishing lib/core 1.0.0") and r.err.count("\n") == 1
    assert "not-a-real-token" not in r.err

    cli_env["SKILLPM_TOKEN_HUB"] = srv.token
    r = cli("publish", str(core), "--registry", "hub", cwd=project)
    assert "published lib/core 1.0.0" in r.out
    cli("publish", str(skill_tree("lib/core", "1.1.0")), "--registry", "hub", cwd=project)
    cli("publish", str(skill_tree("app/web", "3.0.0", deps=["lib/core@^1.0"])), "--registry", "hub", cwd=project)
    r = cli("publish", str(skill_tree("lib/core", "1.1.0")), "--registry", "hub", cwd=project, rc=1)
    assert "already published" in r.err and r.err.count("\n") == 1
    assert srv.token not in r.out + r.err

    # the static side of the same server serves what was published
    cli("add", "app/web", cwd=project)
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    assert {n: s["version"] for n, s in lock.items()} == {"app/web": "3.0.0", "lib/core": "1.1.0"}
    assert lock["lib/core"]["source"] == f"registry+{srv.url}"
    assert cli("verify", cwd=project).rc == 0

    r = cli("yank", "hub:lib/core@1.1.0", cwd=project)
    assert "yanked lib/core 1.1.0" in r.out
    r = cli("info", "hub:lib/core", "--json", cwd=project)
    info = json.loads(r.out)
    assert [(v["version"], v["yanked"]) for v in info["versions"]] == [("1.1.0", True), ("1.0.0", False)]
    assert info["install"] == "skillpm add hub:lib/core@^1.0.0"
    cli("yank", "lib/core@1.1.0", "--undo", "--registry", "hub", cwd=project)
    r = cli("info", "lib/core", "--registry", "hub", "--json", cwd=project)
    assert json.loads(r.out)["latest"] == "1.1.0"

    r = cli("search", "web", "--registry", "hub", "--json", cwd=project)
    assert [h["name"] for h in json.loads(r.out)] == ["app/web"]
    r = cli("yank", "lib/core@9.9.9", "--registry", "hub", cwd=project, rc=1)
    assert "has no version 9.9.9" in r.err and r.err.count("\n") == 1
