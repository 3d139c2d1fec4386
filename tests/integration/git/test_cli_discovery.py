"""`skillpm add <repository>`: finding skills, choosing them, and keeping secrets out."""

from __future__ import annotations

import tomllib

import pytest


def lock_names(project) -> list[str]:
    return sorted(s["name"] for s in tomllib.loads((project / "skills.lock").read_text())["skill"])


def test_multi_skill_repo_without_choice_lists_and_exits_2(cli, project, monorepo):
    mono = monorepo(n_skills=3)
    r = cli("add", mono.url, cwd=project, rc=2)
    assert "holds 3 skills" in r.err and "skill-01 (skills/skill-01)" in r.err and "--skill NAME" in r.err and "--all" in r.err
    assert not (project / "skills.lock").exists()
    assert "skill-01" not in (project / "skills.toml").read_text()


def test_skill_flag_picks_named_skills(cli, project, monorepo):
    mono = monorepo(n_skills=4)
    cli("add", mono.url, "--skill", "skill-03", "--skill", "skill-04", cwd=project)
    assert lock_names(project) == ["skill-03", "skill-04"]
    manifest = tomllib.loads((project / "skills.toml").read_text())
    assert manifest["skills"]["skill-03"]["path"] == "skills/skill-03"
    r = cli("add", mono.url, "--skill", "nope", cwd=project, rc=2)
    assert "no skill named 'nope'" in r.err and "skill-01" in r.err


def test_all_flag_adds_every_skill_with_their_dependencies(cli, project, monorepo):
    mono = monorepo(n_skills=3)
    cli("add", mono.url, "--all", cwd=project)
    assert lock_names(project) == ["skill-01", "skill-02", "skill-03"]
    cli("verify", cwd=project)


def test_single_skill_repo_needs_no_flag(cli, project, make_git_repo):
    repo = make_git_repo("solo")
    repo.write_skill("", "solo-skill")
    repo.commit("solo")
    repo.tag("v1.0.0")
    cli("add", repo.url, cwd=project)
    assert (project / ".agents/skills/solo-skill/SKILL.md").exists()
    assert lock_names(project) == ["solo-skill"]  # keyed by the skill's own name, not the repository's


def test_credentials_never_reach_the_manifest(cli, project, monorepo, git_http):
    secret = "s3cr3t-t0ken"
    mono = monorepo(n_skills=2)
    server = git_http(user="deploy", password=secret)
    url = server.serve(mono.repo, user="deploy", password=secret)
    r = cli("add", url, "--skill", "skill-01", cwd=project)
    manifest = (project / "skills.toml").read_text()
    assert secret not in manifest and "deploy@" not in manifest and "127.0.0.1" in manifest
    assert secret not in (project / "skills.lock").read_text()
    assert secret not in r.err + r.out
    assert "credential helper" in r.err


def test_remote_skill_cannot_depend_on_local_repository(cli, project, make_git_repo, git_daemon):
    local = make_git_repo("local-only")
    local.write_skill("", "local-only")
    local.commit("x")
    local.tag("v1.0.0")
    remote = make_git_repo("remote")
    remote.write_skill("", "remote", dependencies=[f"{local.url}@^1"])
    remote.commit("x")
    remote.tag("v1.0.0")
    url = git_daemon(remote)
    r = cli("add", f"{url}@^1", cwd=project, rc=1)
    assert "cannot depend on the local repository" in r.err
    assert not (project / "skills.lock").exists()


@pytest.mark.parametrize("ref, key", [("skill-01--v1.1.0", "tag"), ("main", "branch")])
def test_web_url_ref_is_recorded_as_what_it_is(cli, project, monorepo, git_http, ref, key):
    mono = monorepo(n_skills=2, convention="plugin")
    mono.repo.run("branch", "-M", "main")
    server = git_http()
    mono.repo.bare_copy(server.root / "org" / "mono.git")  # GitHub-like owner/repo layout
    web = f"http://127.0.0.1:{server.port}/org/mono/tree/{ref}/skills/skill-01"
    cli("add", web, cwd=project)
    entry = tomllib.loads((project / "skills.toml").read_text())["skills"]["skill-01"]
    assert entry[key] == ref and entry["path"] == "skills/skill-01"
    assert {"tag", "branch"} - {key} & set(entry) == set()
    cli("install", "--frozen", cwd=project)


def test_a_no_op_install_does_not_need_the_remote(cli, project, make_git_repo, tmp_path):
    import shutil

    repo = make_git_repo("steady")
    repo.write_skill("", "steady")
    repo.commit("steady")
    repo.tag("v1.0.0")
    cli("add", f"{repo.url}@^1", cwd=project)
    shutil.move(repo.path, tmp_path / "gone")  # the remote disappears
    r = cli("install", cwd=project)
    assert "up to date" in r.err.lower()
    cli("verify", cwd=project)
