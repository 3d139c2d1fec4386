"""What people expect around the core: help with examples, --json, --verbose, new, doctor,
local edits never lost (update/--force), team sync (--offline, conflicted locks)."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.integration.git.conftest import GitRepo, _init_repo


@pytest.fixture
def tagged_repo(tmp_path, git_identity) -> GitRepo:
    """skills/alpha at v1.0.0 (tag alpha--v1.0.0), served over file://."""
    repo = _init_repo(tmp_path / "remotes" / "team-skills")
    repo.write_skill("skills/alpha", version="1.0.0", files={"references/guide.md": "v1 guide\n"})
    repo.commit("alpha 1.0.0")
    repo.tag("alpha--v1.0.0")
    return repo


def lock_of(root: Path) -> dict[str, dict]:
    return {s["name"]: s for s in tomllib.loads((root / "skills.lock").read_text()).get("skill", [])}


# --------------------------------------------------------------------------- #
# help


def _walk(command, path):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, [*path, name])


def test_every_command_and_subcommand_help_has_an_example():
    import typer
    from typer.testing import CliRunner

    from skillpm.cli.app import app

    root = typer.main.get_command(app)
    paths = list(_walk(root, []))
    assert len(paths) > 30 and ["registry", "serve"] in paths and ["cache", "clean"] in paths and ["doctor"] in paths
    runner = CliRunner()
    missing = []
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], prog_name="skillpm")
        if result.exit_code != 0 or "Example" not in result.output:
            missing.append(" ".join(["skillpm", *path]))
    assert missing == []


def test_shell_completion_is_available(cli, tmp_path):
    assert "--install-completion" in cli("--help", cwd=tmp_path).out
    assert "complete" in cli("--show-completion", "bash", cwd=tmp_path).out


# --------------------------------------------------------------------------- #
# new, doctor


def test_new_scaffolds_a_skill_that_validates_strictly(cli, tmp_path):
    r = cli("new", "pdf-tools", "--path", "skills", cwd=tmp_path)
    assert "Created skills/pdf-tools/" in r.err
    folder = tmp_path / "skills/pdf-tools"
    assert {p.name for p in folder.iterdir()} == {"SKILL.md", "references", "scripts"}
    cli("validate", "--strict", str(folder), cwd=tmp_path)
    data = (folder / "SKILL.md").read_text()
    assert "name: pdf-tools" in data and 'version: "0.1.0"' in data
    r = cli("new", "pdf-tools", "--path", "skills", cwd=tmp_path, rc=1)
    assert "already exists" in r.err
    r = cli("new", "Bad_Name", cwd=tmp_path, rc=2)
    assert "not a valid skill name" in r.err


def test_new_then_add_round_trip(cli, project):
    cli("new", "team-notes", "--path", "local", "--description", "Team notes. Use when writing team notes.", cwd=project)
    cli("add", "./local/team-notes", cwd=project)
    assert lock_of(project)["team-notes"]["version"] == "0.1.0"


def test_doctor_one_line_per_check_and_exit_1_when_wrong(cli, project, make_skill):
    make_skill("a", parent=project / "local")
    cli("add", "./local/a", cwd=project)
    r = cli("doctor", cwd=project)
    names = [line.split()[1] for line in r.out.splitlines() if line.split()[0] in ("ok", "warn", "fail")]
    assert names == ["skillpm", "git", "cache", "config", "targets", "project", "lock", "installed"]
    assert all(line.startswith("ok") for line in r.out.splitlines()[:-1]) and r.out.splitlines()[-1] == "doctor: all good"
    data = json.loads(cli("doctor", "--json", cwd=project).out)
    assert data["ok"] is True and {c["name"] for c in data["checks"]} >= {"git", "cache", "lock", "installed"}

    # the lock no longer matches the manifest, and an installed file was edited
    make_skill("b", parent=project / "local")
    manifest = project / "skills.toml"
    manifest.write_text(manifest.read_text().replace("[skills]\n", '[skills]\nb = { path = "./local/b" }\n'))
    (project / ".agents/skills/a/SKILL.md").write_text("edited\n")
    r = cli("doctor", cwd=project, rc=1)
    lines = {line.split()[1]: line for line in r.out.splitlines()}
    assert lines["lock"].startswith("fail") and "b is in skills.toml but not in skills.lock" in lines["lock"]
    assert lines["installed"].startswith("fail") and "a (modified)" in lines["installed"]
    assert "something is wrong" in r.err


def test_doctor_outside_a_project_still_checks_the_machine(cli, tmp_path, cli_env):
    (Path(cli_env["HOME"]) / ".cursor").mkdir()
    r = cli("doctor", cwd=tmp_path)
    assert "warn  project" in r.out and "detected: cursor" in r.out


def test_doctor_fails_on_an_unwritable_cache(cli, cli_env, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    cli_env["SKILLPM_CACHE_DIR"] = str(blocker / "cache")
    r = cli("doctor", cwd=tmp_path, rc=1)
    assert any(line.startswith("fail  cache") for line in r.out.splitlines())


# --------------------------------------------------------------------------- #
# --json, --verbose, --quiet


def test_json_on_list_verify_outdated_tree_targets_info_search(cli, project, make_skill):
    make_skill("base", parent=project / "local")
    make_skill("top", parent=project / "local", dependencies=["../base"])
    cli("add", "./local/top", "docker/basics", cwd=project)
    for args in (["list"], ["verify"], ["outdated"], ["tree"], ["targets"], ["search", "docker"], ["info", "docker/basics"]):
        out = cli(*args, "--json", cwd=project).out
        json.loads(out)  # stdout is exactly one JSON document
    tree = json.loads(cli("tree", "--json", cwd=project).out)
    top = next(n for n in tree if n["name"] == "top")
    assert top == {"name": "top", "version": "1.0.0", "locked": True, "dependencies": [{"name": "base", "version": "1.0.0", "locked": True, "dependencies": []}]}


def test_verbose_shows_resolver_work_and_sources_quiet_shows_nothing(cli, project, make_skill):
    make_skill("v", parent=project / "local")
    r = cli("--verbose", "add", "./local/v", cwd=project)
    assert "resolver: " in r.err and "decisions" in r.err and "source queries" in r.err
    assert "v 1.0.0 from path+./local/v" in r.err
    make_skill("q", parent=project / "local")
    r = cli("--quiet", "add", "./local/q", cwd=project)
    assert r.err == "" and r.out == ""


# --------------------------------------------------------------------------- #
# local edits are never lost


def test_update_stops_on_a_modified_path_skill_and_force_keeps_a_backup(cli, project, make_skill, tmp_path):
    make_skill("edited", parent=project / "local", version="1.0.0")
    cli("add", "./local/edited", cwd=project)
    installed = project / ".agents/skills/edited/references/guide.md"
    installed.write_text("my local notes\n")
    make_skill("edited", parent=project / "local", version="1.1.0")
    lock_before = (project / "skills.lock").read_bytes()

    r = cli("update", cwd=project, rc=1)
    assert "modified references/guide.md" in r.err and "--force" in r.err
    assert installed.read_text() == "my local notes\n"
    assert (project / "skills.lock").read_bytes() == lock_before

    r = cli("update", "--force", cwd=project)
    backups = list((tmp_path / "cache" / "backups").rglob("guide.md"))
    assert len(backups) == 1 and backups[0].read_text() == "my local notes\n"
    assert f"the replaced copy was kept at {backups[0].parent.parent}" in r.err
    assert lock_of(project)["edited"]["version"] == "1.1.0"


def test_update_stops_on_a_modified_git_skill_and_force_keeps_a_backup(cli, project, tagged_repo, tmp_path):
    cli("add", f"{tagged_repo.url}#path=skills/alpha", cwd=project)
    guide = project / ".agents/skills/alpha/references/guide.md"
    guide.write_text("edited by hand\n")
    tagged_repo.write_skill("skills/alpha", version="1.1.0", files={"references/guide.md": "v2 guide\n"})
    tagged_repo.commit("alpha 1.1.0")
    tagged_repo.tag("alpha--v1.1.0")

    r = cli("update", cwd=project, rc=1)
    assert "nothing was changed: alpha/ has local edits (modified references/guide.md)" in r.err
    assert guide.read_text() == "edited by hand\n"
    r = cli("update", "--force", cwd=project)
    assert "the replaced copy was kept at" in r.err and guide.read_text() == "v2 guide\n"
    [backup] = (tmp_path / "cache" / "backups").rglob("guide.md")
    assert backup.read_text() == "edited by hand\n"
    # install --force restores a locally edited git skill too
    guide.write_text("again\n")
    r = cli("install", "--force", cwd=project)
    assert guide.read_text() == "v2 guide\n" and "the replaced copy was kept at" in r.err


# --------------------------------------------------------------------------- #
# team sync


def test_offline_install_reproduces_the_lock_from_a_warm_cache(cli, project, tagged_repo, tmp_path):
    cli("add", f"{tagged_repo.url}#path=skills/alpha", cwd=project)
    locked = lock_of(project)["alpha"]
    away = tmp_path / "away"
    shutil.move(tagged_repo.path, away)  # the remote is unreachable from now on
    shutil.rmtree(project / ".agents")
    cli("install", "--offline", "--frozen", cwd=project)
    from skillpm.digest import tree_digest

    assert tree_digest(project / ".agents/skills/alpha") == locked["integrity"]
    cli("verify", cwd=project)


def test_offline_install_with_a_cold_cache_fails_clearly(cli, project, tagged_repo, tmp_path):
    cli("add", f"{tagged_repo.url}#path=skills/alpha", cwd=project)
    shutil.rmtree(tmp_path / "cache")
    shutil.rmtree(project / ".agents")
    lock_before = (project / "skills.lock").read_bytes()
    r = cli("install", "--offline", cwd=project, rc=1)
    assert "offline" in r.err.lower() and "cache" in r.err.lower() and "team-skills" in r.err
    assert r.err.count("\n") == 1
    assert (project / "skills.lock").read_bytes() == lock_before
    assert not (project / ".agents/skills/alpha").exists()


CONFLICTED = """# This file is generated by skillpm. Do not edit it by hand.
version = 1

<<<<<<< HEAD
[[skill]]
name = "a"
=======
[[skill]]
name = "b"
>>>>>>> feature
"""


def test_a_conflicted_lock_stops_install_and_lock_regenerates_it(cli, project, make_skill):
    make_skill("a", parent=project / "local")
    make_skill("b", parent=project / "local")
    cli("add", "./local/a", "./local/b", cwd=project)
    (project / "skills.lock").write_text(CONFLICTED)
    r = cli("install", cwd=project, rc=1)
    assert "merge conflict markers" in r.err and "run `skillpm lock`" in r.err and r.err.count("\n") == 1
    r = cli("lock", cwd=project)
    assert "merge conflict markers" in r.err and "Wrote skills.lock." in r.err
    assert set(lock_of(project)) == {"a", "b"}
    cli("install", "--frozen", cwd=project)
    cli("verify", cwd=project)


def test_doctor_fails_on_a_broken_manifest_and_only_warns_without_one(cli, tmp_path):
    # the "no skills.toml" warning comes from the error's type, not its text
    work = tmp_path / "work"
    work.mkdir()
    assert "warn  project" in cli("doctor", cwd=work).out
    (work / "skills.toml").write_text("[skills\nno skills.toml = 1\n")
    r = cli("doctor", cwd=work, rc=1)
    assert any(line.startswith("fail  project") for line in r.out.splitlines()), r.out
