"""Agent targets end to end: `[install] targets`, links after every transaction, verify, `skillpm targets`."""

from __future__ import annotations

import json
import os
from pathlib import Path


def set_targets(project: Path, targets: list[str], link: str | None = None) -> None:
    import re

    manifest = project / "skills.toml"
    listed = ", ".join(f'"{t}"' for t in targets)
    extra = f'\nlink = "{link}"' if link else ""
    text = re.sub(r"^(targets|link) = .*\n", "", manifest.read_text(), flags=re.MULTILINE)
    manifest.write_text(text.replace('dir = ".agents/skills"\n', f'dir = ".agents/skills"\ntargets = [{listed}]{extra}\n'))


def test_add_links_every_target_and_remove_unlinks(cli, project, make_skill):
    set_targets(project, ["claude-code", "cursor", "codex"])
    make_skill("reviewer", parent=project / "local")
    r = cli("add", "./local/reviewer", cwd=project)
    assert "claude-code: linked 1 in .claude/skills/" in r.err and "cursor: linked 1 in .cursor/skills/" in r.err
    for folder in (".claude/skills", ".cursor/skills"):
        link = project / folder / "reviewer"
        assert link.is_symlink() and os.readlink(link) == "../../.agents/skills/reviewer"
        assert (link / "SKILL.md").read_bytes() == (project / ".agents/skills/reviewer/SKILL.md").read_bytes()
    # codex reads .agents/skills, the install dir itself: nothing is linked into it
    assert not (project / ".agents/skills/reviewer").is_symlink()
    assert "verified" in cli("verify", cwd=project).out

    cli("remove", "reviewer", cwd=project)
    assert not (project / ".claude/skills/reviewer").exists() and not (project / ".claude/skills/reviewer").is_symlink()
    assert not (project / ".cursor/skills/reviewer").is_symlink()


def test_install_restores_links_and_follows_the_target_list(cli, project, make_skill):
    make_skill("a", parent=project / "local")
    cli("add", "./local/a", cwd=project)
    set_targets(project, ["gemini", "opencode"])
    r = cli("install", cwd=project)
    assert "No skill changed; updated the agent folders." in r.err and "Already up to date." not in r.err
    assert (project / ".gemini/skills/a").is_symlink() and (project / ".opencode/skills/a").is_symlink()
    (project / ".gemini/skills/a").unlink()
    r = cli("verify", cwd=project, rc=1)
    assert "target    gemini a: missing" in r.out
    data = json.loads(cli("verify", "--json", cwd=project, rc=1).out)
    gemini = next(t for t in data["targets"] if t["target"] == "gemini")
    assert gemini["ok"] is False and gemini["problems"][0]["skill"] == "a"
    cli("install", cwd=project)
    assert (project / ".gemini/skills/a").is_symlink()
    # dropping a target from the list removes what skillpm put there
    set_targets(project, ["gemini"])
    cli("install", cwd=project)
    assert not (project / ".opencode/skills/a").is_symlink()
    assert (project / ".gemini/skills/a").is_symlink()


def test_copy_mode_follows_updates_and_keeps_local_edits(cli, project, make_skill):
    set_targets(project, ["copilot"], link="copy")
    src = make_skill("notes", parent=project / "local", version="1.0.0")
    cli("add", "./local/notes", cwd=project)
    copy = project / ".github/skills/notes"
    assert copy.is_dir() and not copy.is_symlink()
    make_skill("notes", parent=project / "local", version="1.1.0", body="# notes\n\nNew text.\n")
    r = cli("update", cwd=project)
    assert "copilot: updated 1 in .github/skills/" in r.err
    assert (copy / "SKILL.md").read_bytes() == (src / "SKILL.md").read_bytes()
    # an edited copy is reported by verify and never overwritten
    (copy / "SKILL.md").write_text("my own notes\n")
    assert "the copy's files differ from skills.lock" in cli("verify", cwd=project, rc=1).out
    make_skill("notes", parent=project / "local", version="1.2.0")
    r = cli("update", cwd=project)
    assert "changed in place" in r.err
    assert (copy / "SKILL.md").read_text() == "my own notes\n"


def test_a_foreign_folder_in_a_target_is_left_alone(cli, project, make_skill):
    set_targets(project, ["claude-code"])
    mine = project / ".claude/skills/helper"
    mine.mkdir(parents=True)
    (mine / "SKILL.md").write_text("hand-made\n")
    make_skill("helper", parent=project / "local")
    r = cli("add", "./local/helper", cwd=project)
    assert "not created by skillpm" in r.err
    assert (mine / "SKILL.md").read_text() == "hand-made\n"
    assert "a folder skillpm did not create is in the way" in cli("verify", cwd=project, rc=1).out
    cli("remove", "helper", cwd=project)
    assert (mine / "SKILL.md").read_text() == "hand-made\n"


def test_targets_command_lists_configured_and_detected(cli, project, cli_env):
    set_targets(project, ["cursor"])
    (Path(cli_env["HOME"]) / ".claude").mkdir()
    rows = {r["name"]: r for r in json.loads(cli("targets", "--json", cwd=project).out)}
    assert set(rows) == {"claude-code", "codex", "cursor", "copilot", "gemini", "opencode"}
    assert rows["cursor"]["configured"] is True and rows["claude-code"]["configured"] is False
    assert rows["claude-code"]["detected"] is True and rows["gemini"]["detected"] is False
    assert rows["cursor"]["project_dir"] == str(project / ".cursor/skills")
    assert rows["claude-code"]["user_dir"] == str(Path(cli_env["HOME"]) / ".claude/skills")
    assert rows["codex"]["docs"] == ["https://developers.openai.com/codex/skills"]
    out = cli("targets", cwd=project).out
    assert out.splitlines()[0].split() == ["target", "configured", "detected", "project", "folder", "user", "folder"]
    assert any(line.split()[:3] == ["cursor", "yes", "-"] for line in out.splitlines())


def test_targets_works_outside_a_project(cli, tmp_path):
    r = cli("targets", cwd=tmp_path)
    assert "claude-code" in r.out and "No skills.toml here" in r.err


def test_unknown_target_is_a_one_line_manifest_error(cli, project):
    set_targets(project, ["emacs"])
    r = cli("install", cwd=project, rc=1)
    assert "install.targets: unknown agent 'emacs'" in r.err and r.err.count("\n") == 1
