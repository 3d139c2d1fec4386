"""Dependency resolution end to end: real tagged git repositories that depend
on each other, driven through the real CLI (lock, add, update, outdated, tree, why)."""

from __future__ import annotations

import json
import tomllib

import pytest


@pytest.fixture
def universe(make_git_repo):
    """basics v1.0.0 v1.1.0 v2.0.0; pm v1.0.0; app v1.0.0 (basics ^1) and v1.2.0 (basics ^2)."""
    basics = make_git_repo("basics")
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        basics.write_skill("", "basics", version=version)
        basics.commit(f"basics {version}")
        basics.tag(f"v{version}", annotated=version == "1.1.0")
    pm = make_git_repo("pm")
    pm.write_skill("", "pm", version="1.0.0")
    pm.commit("pm")
    pm.tag("v1.0.0")
    app = make_git_repo("app")
    for version, basics_range in (("1.0.0", "^1.0"), ("1.2.0", "^2.0.0")):
        app.write_skill("", "app", version=version, dependencies=[f"{basics.url}@{basics_range}", pm.url])
        app.commit(f"app {version}")
        app.tag(f"v{version}")
    return {"basics": basics, "pm": pm, "app": app}


def write_manifest(project, entries: str) -> None:
    (project / "skills.toml").write_text(f"[skills]\n{entries}\n[install]\ndir = \".agents/skills\"\n")


def locked(project) -> dict[str, dict]:
    return {s["name"]: s for s in tomllib.loads((project / "skills.lock").read_text())["skill"]}


def test_lock_picks_newest_compatible_across_repos_and_installs_nothing(cli, project, universe):
    basics, app = universe["basics"], universe["app"]
    write_manifest(project, f'app = {{ git = "{app.url}", version = "^1.0" }}\nbasics = {{ git = "{basics.url}", version = "^1.0" }}\n')
    cli("lock", cwd=project)
    lock = locked(project)
    # app 1.2.0 needs basics ^2 but the project pins basics ^1: the solver backs off to app 1.0.0
    assert {n: s["version"] for n, s in lock.items()} == {"app": "1.0.0", "basics": "1.1.0", "pm": "1.0.0"}
    assert lock["basics"]["tag"] == "v1.1.0" and lock["basics"]["commit"] == basics.rev("v1.1.0^{commit}")
    assert lock["app"]["dependencies"] == ["basics", "pm"]
    assert all(len(s["commit"]) == 40 for s in lock.values())
    installed = project / ".agents/skills"  # only the project's lock file and state folder, no skill
    assert not installed.exists() or [p.name for p in installed.iterdir()] == [".skillpm"]
    cli("install", "--frozen", cwd=project)
    cli("verify", cwd=project)
    assert cli("why", "pm", cwd=project).out.strip() == "the project -> app -> pm"
    assert cli("tree", cwd=project).out.splitlines() == ["app 1.0.0", "  basics 1.1.0", "  pm 1.0.0", "basics 1.1.0"]


def test_conflict_is_explained_and_nothing_is_written(cli, project, universe):
    basics, app = universe["basics"], universe["app"]
    write_manifest(project, f'basics = {{ git = "{basics.url}", version = "^1.0.0" }}\n')
    cli("install", cwd=project)
    before = {p: (project / p).read_bytes() for p in ("skills.toml", "skills.lock")}
    r = cli("add", f"{app.url}@^1.2.0", cwd=project, rc=1)
    assert "app" in r.err and "basics ^2.0.0" in r.err and "basics ^1.0.0" in r.err
    assert "version solving failed" in r.err and "Traceback" not in r.err
    assert {p: (project / p).read_bytes() for p in before} == before
    assert not (project / ".agents/skills/app").exists()


def test_update_and_outdated_follow_new_tags(cli, project, universe):
    basics, app = universe["basics"], universe["app"]
    write_manifest(project, f'app = {{ git = "{app.url}", version = "^1.0" }}\nbasics = {{ git = "{basics.url}", version = "^1.0" }}\n')
    cli("install", cwd=project)
    basics.write_skill("", "basics", version="1.3.0")
    basics.commit("basics 1.3.0")
    basics.tag("v1.3.0")

    rows = {r["name"]: r for r in json.loads(cli("outdated", "--json", cwd=project).out)}
    assert (rows["basics"]["current"], rows["basics"]["compatible"], rows["basics"]["latest"]) == ("1.1.0", "1.3.0", "2.0.0")
    assert rows["pm"]["outdated"] is False

    lock_before = (project / "skills.lock").read_bytes()
    r = cli("update", "--dry-run", cwd=project)
    assert "basics 1.1.0" in r.err and "1.3.0" in r.err and "Dry run" in r.err
    assert (project / "skills.lock").read_bytes() == lock_before

    cli("install", cwd=project)  # a plain install keeps the locked version
    assert locked(project)["basics"]["version"] == "1.1.0"
    cli("update", "basics", cwd=project)
    assert locked(project)["basics"]["version"] == "1.3.0"
    assert "version: '1.3.0'" in (project / ".agents/skills/basics/SKILL.md").read_text() or "1.3.0" in (project / ".agents/skills/basics/SKILL.md").read_text()
    cli("verify", cwd=project)


def test_cycles_between_skills_terminate(cli, project, make_git_repo):
    a, b = make_git_repo("ping"), make_git_repo("pong")
    # each names the other's URL, so create both URLs first
    a.write_skill("", "ping", version="1.0.0", dependencies=[f"{b.url}@^1"])
    a.commit("ping")
    a.tag("v1.0.0")
    b.write_skill("", "pong", version="1.0.0", dependencies=[f"{a.url}@^1"])
    b.commit("pong")
    b.tag("v1.0.0")
    cli("add", f"{a.url}@^1", cwd=project)
    lock = locked(project)
    assert lock["ping"]["dependencies"] == ["pong"] and lock["pong"]["dependencies"] == ["ping"]
    assert "(*)" in cli("tree", cwd=project).out


def test_two_repos_with_one_skill_name_collide_naming_both(cli, project, make_git_repo):
    one, other = make_git_repo("shared"), make_git_repo("elsewhere")
    for repo in (one, other):  # two repositories whose root skill is called "shared"
        repo.write_skill("", "shared")
        repo.commit("shared")
        repo.tag("v1.0.0")
    user = make_git_repo("user")
    user.write_skill("", "user", dependencies=[f"{other.url}@^1"])
    user.commit("user")
    user.tag("v1.0.0")
    write_manifest(project, f'shared = {{ git = "{one.url}", version = "^1" }}\nuser = {{ git = "{user.url}", version = "^1" }}\n')
    r = cli("install", cwd=project, rc=1)
    assert "'shared'" in r.err and one.url in r.err and other.url in r.err
    assert not (project / "skills.lock").exists() and not (project / ".agents/skills/shared").exists()


def test_same_package_from_two_sources_names_both_chains(cli, project, make_git_repo):
    a, b = make_git_repo("a-repo"), make_git_repo("b-repo")
    for repo in (a, b):
        repo.write_skill("skills/tool", "tool")
        repo.commit("tool")
        repo.tag("v1.0.0")
    mid = make_git_repo("mid")
    mid.write_skill("", "mid", dependencies=[f"{b.url}@^1#path=skills/tool"])
    mid.commit("mid")
    mid.tag("v1.0.0")
    write_manifest(project, f'tool = {{ git = "{a.url}", path = "skills/tool", version = "^1" }}\nmid = {{ git = "{mid.url}", version = "^1" }}\n')
    r = cli("install", cwd=project, rc=1)
    assert "two different sources" in r.err
    assert "the project -> tool" in r.err and "the project -> mid -> tool" in r.err
    assert not (project / "skills.lock").exists()
