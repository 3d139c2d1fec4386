"""The global scope: `-g` manages the user's own skills (config_dir()/global, installed under ~)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path


def home(cli_env) -> Path:
    return Path(cli_env["HOME"])


def global_dir(tmp_path: Path) -> Path:
    return tmp_path / "config" / "global"


def test_add_list_verify_remove_global(cli, cli_env, tmp_path, make_skill):
    src = make_skill("mine", parent=tmp_path / "src")
    elsewhere = tmp_path / "anywhere"
    elsewhere.mkdir()
    r = cli("add", "-g", str(src), cwd=elsewhere)
    assert "Created" in r.err and str(global_dir(tmp_path) / "skills.toml") in r.err
    installed = home(cli_env) / ".agents/skills/mine"
    assert (installed / "SKILL.md").read_bytes() == (src / "SKILL.md").read_bytes()
    manifest = tomllib.loads((global_dir(tmp_path) / "skills.toml").read_text())
    assert "mine" in manifest["skills"]
    lock = tomllib.loads((global_dir(tmp_path) / "skills.lock").read_text())
    assert [s["name"] for s in lock["skill"]] == ["mine"]
    # nothing was written where the command ran
    assert list(elsewhere.iterdir()) == []

    rows = json.loads(cli("list", "-g", "--json", cwd=elsewhere).out)
    assert [(r["name"], r["state"]) for r in rows] == [("mine", "ok")]
    assert "verified" in cli("verify", "-g", cwd=elsewhere).out
    assert cli("tree", "-g", cwd=elsewhere).out.strip() == "mine 1.0.0"

    (installed / "SKILL.md").write_text("edited\n")
    assert "modified" in cli("verify", "--global", cwd=elsewhere, rc=1).out
    r = cli("remove", "-g", "mine", cwd=elsewhere, rc=1)
    assert "nothing was changed: mine/ has local edits (modified SKILL.md)" in r.err
    cli("remove", "-g", "mine", "--force", cwd=elsewhere)
    assert not installed.exists()
    assert tomllib.loads((global_dir(tmp_path) / "skills.lock").read_text()).get("skill") is None


def test_global_and_project_scopes_are_separate(cli, cli_env, project, make_skill):
    make_skill("shared", parent=project / "local")
    cli("add", "./local/shared", cwd=project)
    cli("add", "-g", "./local/shared", cwd=project)
    assert (project / ".agents/skills/shared").is_dir()
    assert (home(cli_env) / ".agents/skills/shared").is_dir()
    cli("remove", "-g", "shared", cwd=project)
    assert (project / ".agents/skills/shared").is_dir()
    assert not (home(cli_env) / ".agents/skills/shared").exists()


def test_detected_agents_get_their_user_folders_linked(cli, cli_env, tmp_path, make_skill):
    (home(cli_env) / ".claude").mkdir()
    (home(cli_env) / ".config" / "opencode").mkdir(parents=True)
    src = make_skill("helper", parent=tmp_path / "src")
    r = cli("add", "-g", str(src))
    assert "targets: claude-code, opencode" in r.err
    for folder in (".claude/skills/helper", ".config/opencode/skills/helper"):
        link = home(cli_env) / folder
        assert link.is_symlink() and (link / "SKILL.md").is_file()
    assert os.readlink(home(cli_env) / ".claude/skills/helper") == "../../.agents/skills/helper"
    data = json.loads(cli("verify", "-g", "--json").out)
    assert {t["target"] for t in data["targets"]} == {"claude-code", "opencode"} and data["ok"]
    cli("remove", "-g", "helper")
    assert not (home(cli_env) / ".claude/skills/helper").is_symlink()


def test_claude_config_dir_is_honoured(cli, cli_env, tmp_path, make_skill):
    claude_home = tmp_path / "claude-config"
    claude_home.mkdir()
    cli_env["CLAUDE_CONFIG_DIR"] = str(claude_home)
    src = make_skill("cfg", parent=tmp_path / "src")
    cli("add", "-g", str(src))
    assert (claude_home / "skills/cfg").is_symlink()
    assert not (home(cli_env) / ".claude").exists()


def test_install_g_reproduces_from_the_global_lock(cli, cli_env, tmp_path, make_skill):
    import shutil

    src = make_skill("again", parent=tmp_path / "src")
    cli("add", "-g", str(src))
    shutil.rmtree(home(cli_env) / ".agents")
    cli("install", "-g", "--frozen")
    assert (home(cli_env) / ".agents/skills/again/SKILL.md").is_file()


def test_read_only_commands_without_global_skills_say_how_to_start(cli, tmp_path):
    r = cli("list", "-g", rc=1)
    assert "skillpm add -g" in r.err and r.err.count("\n") == 1


def test_doctor_global_ignores_agent_folders_in_the_current_project(cli, cli_env, tmp_path, make_skill):
    # no global manifest yet: a warning, and .cursor/ under cwd is not a global target
    work = tmp_path / "work"
    (work / ".cursor").mkdir(parents=True)
    r = cli("doctor", "-g", cwd=work)
    lines = {line.split()[1]: line for line in r.out.splitlines() if line.split()[0] in ("ok", "warn", "fail")}
    assert lines["project"].startswith("warn") and "no global skills yet" in lines["project"]
    assert lines["targets"].startswith("ok") and "detected: none" in lines["targets"]

    # with a global manifest: still no "add 'cursor'" warning from the project folder
    src = make_skill("mine", parent=tmp_path / "src")
    cli("add", "-g", str(src), cwd=work)
    r = cli("doctor", "-g", cwd=work)
    lines = {line.split()[1]: line for line in r.out.splitlines() if line.split()[0] in ("ok", "warn", "fail")}
    assert lines["targets"].startswith("ok") and "cursor" not in lines["targets"], lines["targets"]
    # the same folder as a project does count it
    (work / "skills.toml").write_text("[skills]\n")
    r = cli("doctor", cwd=work)
    assert "add 'cursor' to [install] targets" in r.out

    # an agent installed for the user is detected (and warned about) in the global scope
    (home(cli_env) / ".cursor").mkdir()
    r = cli("doctor", "-g", cwd=work)
    assert "cursor" in r.out.split("detected: ")[1].splitlines()[0] and "add 'cursor' to [install] targets" in r.out
