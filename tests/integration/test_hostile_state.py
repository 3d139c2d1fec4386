"""A cloned repository may carry skillpm's own state files, crafted. None of them
may make skillpm write, move or delete anything outside the project, or delete
anything inside it that skillpm did not install in this checkout."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from skillpm.digest import tree_digest


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "home-stuff"
    (victim / "notes").mkdir(parents=True)
    (victim / "notes" / "SKILL.md").write_text("precious\n")
    return victim


def test_an_install_dir_reached_through_a_link_out_of_the_project_is_refused(cli, project, tmp_path):
    victim = _victim(tmp_path)
    os.symlink(victim, project / "evil")
    manifest = project / "skills.toml"
    manifest.write_text(manifest.read_text().replace('dir = ".agents/skills"', 'dir = "evil"'))
    for command in (["install"], ["install", "--frozen"], ["verify"]):
        r = cli(*command, cwd=project, rc=1)
        assert "leads outside the project" in r.err and "Traceback" not in r.err
    assert sorted(p.name for p in victim.iterdir()) == ["notes"]


def test_state_committed_to_a_repository_deletes_nothing(cli, project, tmp_path, make_skill):
    """A teammate's (or an attacker's) .skillpm/state.json claims a folder skillpm
    never installed here: with the lock not wanting it, it must not be deleted."""
    make_skill("tool", parent=project / "local")
    cli("add", "./local/tool", cwd=project)
    elsewhere = tmp_path / "clone"
    shutil.copytree(project, elsewhere)  # a new checkout: its .skillpm is another folder
    (elsewhere / ".agents/skills/tool/SKILL.md").write_text("my own version\n")
    cli("remove", "tool", cwd=project)  # the lock no longer wants it
    shutil.copy(project / "skills.lock", elsewhere / "skills.lock")
    shutil.copy(project / "skills.toml", elsewhere / "skills.toml")
    r = cli("install", cwd=elsewhere, rc=1)
    assert "tool/: kept (not installed by skillpm)" in r.err
    assert (elsewhere / ".agents/skills/tool/SKILL.md").read_text() == "my own version\n"


def test_a_crafted_journal_with_linked_transaction_folders_moves_nothing(cli, project, tmp_path):
    victim = _victim(tmp_path)
    txn = project / ".agents/skills/.skillpm/txn"
    txn.mkdir(parents=True)
    (txn / "new").mkdir()
    os.symlink(victim, txn / "old")
    ops = [{"folder": "notes", "old": False, "new": True}, {"folder": "notes", "old": True, "new": False}]
    (txn / "journal.json").write_text(json.dumps({"ops": ops, "files": [], "new_state": {}}))
    r = cli("install", cwd=project, rc=1)
    assert "symbolic link" in r.err
    os.unlink(txn / "old")
    (txn / "old").mkdir()
    r = cli("install", cwd=project, rc=1)
    assert "not written in this checkout" in r.err
    assert (victim / "notes" / "SKILL.md").read_text() == "precious\n"


def test_targets_json_and_a_linked_agent_folder_delete_nothing_of_the_users(cli, project, tmp_path):
    user_skills = tmp_path / "home/.claude/skills"
    (user_skills / "mine").mkdir(parents=True)
    (user_skills / "mine" / "SKILL.md").write_text("mine\n")
    os.symlink(tmp_path / "home/.claude", project / ".claude")
    manifest = project / "skills.toml"
    manifest.write_text(manifest.read_text().replace("[install]\n", '[install]\ntargets = ["claude-code"]\n'))
    state = project / ".agents/skills/.skillpm/targets.json"
    state.parent.mkdir(parents=True)
    digest = tree_digest(user_skills / "mine")
    bogus = {"../../.claude/skills": {"target": "claude-code", "skills": {"mine": {"kind": "copy", "integrity": digest}}}}
    state.write_text(json.dumps({"version": 1, "targets": bogus}))
    r = cli("install", cwd=project)
    assert "leaves the project" in r.err
    assert (user_skills / "mine" / "SKILL.md").read_text() == "mine\n"
    r = cli("verify", cwd=project, rc=1)
    assert "leaves the project" in r.out


def test_malformed_targets_json_is_no_traceback(cli, project):
    state = project / ".agents/skills/.skillpm/targets.json"
    state.parent.mkdir(parents=True)
    for text in ('{"targets": {"x": "str"}}', '{"targets": {"x": {"skills": [1, 2]}}}', "[" * 100000, "\xff"):
        state.write_text(text, errors="surrogateescape")
        cli("install", cwd=project)
        cli("verify", cwd=project)
