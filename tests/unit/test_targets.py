"""Agent targets: the folder table and linking the install dir into target folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from skillpm.digest import tree_digest
from skillpm.errors import ManifestError
from skillpm.manifest import parse_manifest
from skillpm.targets import TARGETS, canonical_name, check_targets, get_target, sync_targets


@dataclass(frozen=True)
class Entry:  # the two fields of LockedSkill the target code reads
    folder: str
    integrity: str


# --------------------------------------------------------------------------- #
# the table


def test_every_target_has_docs_and_flat_folders():
    names = [t.name for t in TARGETS]
    assert names == ["claude-code", "codex", "cursor", "copilot", "gemini", "opencode"]
    for t in TARGETS:
        assert t.docs and all(d.startswith("https://") for d in t.docs)
        assert not Path(t.project).is_absolute() and t.project.endswith("skills")


@pytest.mark.parametrize(
    "name, project, user",
    [
        ("claude-code", ".claude/skills", "home/.claude/skills"),
        ("codex", ".agents/skills", "home/.agents/skills"),
        ("cursor", ".cursor/skills", "home/.cursor/skills"),
        ("copilot", ".github/skills", "home/.copilot/skills"),
        ("gemini", ".gemini/skills", "home/.gemini/skills"),
        ("opencode", ".opencode/skills", "home/.config/opencode/skills"),
    ],
)
def test_default_folders(tmp_path, name, project, user):
    t = get_target(name)
    assert t.project_dir(tmp_path) == tmp_path / project
    assert t.user_dir(env={}, home=tmp_path / "home") == tmp_path / user


@pytest.mark.parametrize(
    "name, var, value, expected",
    [
        ("claude-code", "CLAUDE_CONFIG_DIR", "cfg/claude", "cfg/claude/skills"),
        ("opencode", "XDG_CONFIG_HOME", "xdg", "xdg/opencode/skills"),
        ("gemini", "GEMINI_CLI_HOME", "ghome", "ghome/.gemini/skills"),
        ("copilot", "COPILOT_HOME", "cop", "cop/skills"),
        ("codex", "CODEX_HOME", "codexhome", "home/.agents/skills"),  # CODEX_HOME is for config, not skills
    ],
)
def test_environment_overrides(tmp_path, name, var, value, expected):
    env = {var: str(tmp_path / value)}
    assert get_target(name).user_dir(env=env, home=tmp_path / "home") == tmp_path / expected


@pytest.mark.parametrize(
    "name, env, expected",
    [
        ("claude-code", {}, "home/.claude"),
        ("claude-code", {"CLAUDE_CONFIG_DIR": "cfg"}, "cfg"),
        ("codex", {"CODEX_HOME": "codexhome"}, "codexhome"),
        ("copilot", {"COPILOT_HOME": ""}, "home/.copilot"),  # empty means unset
        ("cursor", {"XDG_CONFIG_HOME": "xdg"}, "home/.cursor"),
        ("gemini", {"GEMINI_CLI_HOME": "ghome"}, "ghome/.gemini"),
        ("opencode", {"XDG_CONFIG_HOME": "xdg"}, "xdg/opencode"),
    ],
)
def test_config_dirs(tmp_path, name, env, expected):
    env = {k: str(tmp_path / v) if v else v for k, v in env.items()}
    assert get_target(name).config_dir(env=env, home=tmp_path / "home") == tmp_path / expected


def test_detection_by_config_dir_user_dir_or_project(tmp_path):
    home = tmp_path / "home"
    root = tmp_path / "proj"
    root.mkdir()
    claude = get_target("claude-code")
    assert not claude.detected(root, env={}, home=home)
    (home / ".claude").mkdir(parents=True)
    assert claude.detected(None, env={}, home=home)
    cursor = get_target("cursor")
    assert not cursor.detected(root, env={}, home=home)
    (root / ".cursor").mkdir()
    assert cursor.detected(root, env={}, home=home)
    codex = get_target("codex")
    (tmp_path / "codexhome").mkdir()
    assert codex.detected(None, env={"CODEX_HOME": str(tmp_path / "codexhome")}, home=home)


def test_aliases_and_unknown_names():
    assert canonical_name("claude") == "claude-code"
    assert canonical_name("Gemini-CLI") == "gemini"
    assert canonical_name("github-copilot") == "copilot"
    assert canonical_name("emacs") is None
    with pytest.raises(ManifestError, match="known targets"):
        get_target("emacs")


def test_same_dir_follows_links_and_tolerates_missing_folders(tmp_path):
    from skillpm.targets import same_dir

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real", target_is_directory=True)
    assert same_dir(tmp_path / "link", tmp_path / "real")
    assert same_dir(tmp_path / "real" / ".." / "real", tmp_path / "real")
    assert not same_dir(tmp_path / "real", tmp_path / "missing")


def test_scope_and_target_folder_follow_the_install_root(tmp_path):
    from skillpm.ops.project import find_project
    from skillpm.ops.targets import target_folder

    (tmp_path / "skills.toml").write_text("[skills]\n")
    project = find_project(tmp_path)
    claude = get_target("claude-code")
    assert project.scope == "project" and target_folder(project, claude) == tmp_path / ".claude/skills"
    project.install_root = tmp_path / "home"
    assert project.scope == "global" and target_folder(project, claude) == claude.user_dir()
    assert project.reload().scope == "global"


def test_manifest_reads_targets_and_link(tmp_path):
    m = parse_manifest('[install]\ndir = ".agents/skills"\ntargets = ["claude", "cursor", "claude-code"]\nlink = "copy"\n', tmp_path / "skills.toml")
    assert m.targets == ["claude-code", "cursor"] and m.link == "copy"
    assert parse_manifest("[skills]\n", tmp_path / "skills.toml").targets == []
    assert parse_manifest("[skills]\n", tmp_path / "skills.toml").link == "symlink"


@pytest.mark.parametrize(
    "install, needle",
    [
        ('targets = "claude-code"', "install.targets"),
        ('targets = ["emacs"]', "emacs"),
        ('link = "hardlink"', "install.link"),
        ('targts = ["cursor"]', "install.targts"),
    ],
)
def test_manifest_target_errors_name_the_key(tmp_path, install, needle):
    with pytest.raises(ManifestError) as e:
        parse_manifest(f"[install]\n{install}\n", tmp_path / "skills.toml")
    assert needle in str(e.value) and "skills.toml" in str(e.value)


# --------------------------------------------------------------------------- #
# syncing


def install(root: Path, name: str, text: str = "x") -> Entry:
    folder = root / ".agents" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: d\n---\n{text}\n")
    return Entry(name, tree_digest(folder))


@pytest.fixture
def layout(tmp_path):
    install_dir = tmp_path / ".agents" / "skills"
    install_dir.mkdir(parents=True)
    return tmp_path, install_dir


def test_symlinks_are_relative_and_checked(layout):
    root, install_dir = layout
    a, b = install(root, "a"), install(root, "b")
    claude = root / ".claude" / "skills"
    [res] = sync_targets(install_dir, [a, b], [("claude-code", claude)])
    assert sorted(res.linked) == ["a", "b"]
    assert os.readlink(claude / "a") == "../../.agents/skills/a"
    assert (claude / "a" / "SKILL.md").read_text() == (install_dir / "a" / "SKILL.md").read_text()
    [check] = check_targets(install_dir, [a, b], [("claude-code", claude)])
    assert check.ok == ["a", "b"] and not check.problems
    # a second sync changes nothing
    [res] = sync_targets(install_dir, [a, b], [("claude-code", claude)])
    assert not res.changed and not res.problems


def test_the_install_dir_itself_is_skipped(layout):
    root, install_dir = layout
    a = install(root, "a")
    [res] = sync_targets(install_dir, [a], [("codex", root / ".agents" / "skills")])
    assert res.skipped == "it is the install dir" and not res.changed
    assert not (install_dir / "a").is_symlink()


def test_removed_skills_lose_their_links_and_unconfigured_targets_are_emptied(layout):
    root, install_dir = layout
    a, b = install(root, "a"), install(root, "b")
    claude, cursor = root / ".claude/skills", root / ".cursor/skills"
    sync_targets(install_dir, [a, b], [("claude-code", claude), ("cursor", cursor)])
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)])[:1]
    assert res.removed == ["b"] and not (claude / "b").exists() and (claude / "a").is_symlink()
    assert not (cursor / "a").exists() and not (cursor / "b").exists()  # cursor no longer configured


def test_a_folder_skillpm_did_not_create_is_never_touched(layout):
    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    (claude / "a").mkdir(parents=True)
    (claude / "a" / "mine.txt").write_text("hand-made\n")
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)])
    assert not res.linked and "not created by skillpm" in res.problems[0]
    assert (claude / "a" / "mine.txt").read_text() == "hand-made\n"
    [check] = check_targets(install_dir, [a], [("claude-code", claude)])
    assert check.problems == [("a", "a folder skillpm did not create is in the way")]
    sync_targets(install_dir, [], [("claude-code", claude)])
    assert (claude / "a" / "mine.txt").exists()


def test_copy_mode_copies_updates_and_removes(layout):
    root, install_dir = layout
    a = install(root, "a", "v1")
    cursor = root / ".cursor/skills"
    [res] = sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy")
    assert res.copied == ["a"] and not (cursor / "a").is_symlink()
    assert tree_digest(cursor / "a") == a.integrity
    a2 = install(root, "a", "v2")
    [res] = sync_targets(install_dir, [a2], [("cursor", cursor)], mode="copy")
    assert res.updated == ["a"] and "v2" in (cursor / "a" / "SKILL.md").read_text()
    [res] = sync_targets(install_dir, [], [("cursor", cursor)], mode="copy")
    assert res.removed == ["a"] and not (cursor / "a").exists()


def test_an_edited_copy_is_never_overwritten_or_deleted(layout):
    root, install_dir = layout
    a = install(root, "a", "v1")
    cursor = root / ".cursor/skills"
    sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy")
    (cursor / "a" / "SKILL.md").write_text("my notes\n")
    [check] = check_targets(install_dir, [a], [("cursor", cursor)])
    assert check.problems == [("a", "the copy's files differ from skills.lock")]
    a2 = install(root, "a", "v2")
    [res] = sync_targets(install_dir, [a2], [("cursor", cursor)], mode="copy")
    assert "changed in place" in res.problems[0]
    assert (cursor / "a" / "SKILL.md").read_text() == "my notes\n"
    [res] = sync_targets(install_dir, [], [("cursor", cursor)], mode="copy")
    assert (cursor / "a" / "SKILL.md").read_text() == "my notes\n" and res.problems


def test_links_fall_back_to_copies_when_symlinks_fail(layout, monkeypatch):
    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"

    def no_links(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_links)
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)])
    assert res.copied == ["a"] and (claude / "a" / "SKILL.md").is_file() and not (claude / "a").is_symlink()
    [check] = check_targets(install_dir, [a], [("claude-code", claude)])
    assert check.ok == ["a"]
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)])  # no churn on the next run
    assert not res.changed


def test_switching_link_mode_replaces_what_skillpm_made(layout):
    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    sync_targets(install_dir, [a], [("claude-code", claude)], mode="copy")
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], mode="symlink")
    assert res.updated == ["a"] and (claude / "a").is_symlink()
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], mode="copy")
    assert res.updated == ["a"] and not (claude / "a").is_symlink()


def test_a_wrong_or_missing_link_is_reported_and_repaired(layout):
    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    sync_targets(install_dir, [a], [("claude-code", claude)])
    (claude / "a").unlink()
    os.symlink("/nowhere", claude / "a")
    [check] = check_targets(install_dir, [a], [("claude-code", claude)])
    assert "link points to /nowhere" in check.problems[0][1]
    sync_targets(install_dir, [a], [("claude-code", claude)])
    (claude / "a").unlink()
    [check] = check_targets(install_dir, [a], [("claude-code", claude)])
    assert check.problems[0][1].startswith("missing")
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)])
    assert res.linked == ["a"]
    assert not check_targets(install_dir, [a], [("claude-code", claude)])[0].problems


def test_a_copied_project_keeps_its_own_links(tmp_path):
    import shutil

    one = tmp_path / "one"
    install_dir = one / ".agents/skills"
    a = install(one, "a")
    sync_targets(install_dir, [a], [("claude-code", one / ".claude/skills")])
    two = tmp_path / "two"
    shutil.copytree(one, two, symlinks=True)
    # the copy no longer configures claude-code: only its own links go, the original keeps its
    sync_targets(two / ".agents/skills", [a], [])
    assert not (two / ".claude/skills/a").exists()
    assert (one / ".claude/skills/a").is_symlink()


def test_a_tampered_record_never_reaches_outside_the_known_target_folders(layout):
    import json

    root, install_dir = layout
    victim = root / "elsewhere"
    (victim / "keep").mkdir(parents=True)
    (victim / "keep" / "SKILL.md").write_text("precious\n")
    os.symlink(victim / "keep", victim / "link")
    digest = tree_digest(victim / "keep")
    state = install_dir / ".skillpm" / "targets.json"
    state.parent.mkdir(parents=True)
    bogus = {
        "../../elsewhere": {"target": "x", "skills": {"keep": {"kind": "copy", "integrity": digest}, "link": {"kind": "symlink"}}},
        "../../.claude/skills": {"target": "claude-code", "skills": {"../../elsewhere/keep": {"kind": "copy", "integrity": digest}}},
    }
    state.write_text(json.dumps({"version": 1, "targets": bogus}))
    known = [root / ".claude/skills", root / ".cursor/skills"]
    sync_targets(install_dir, [], [], known=known)
    sync_targets(install_dir, [], [("claude-code", root / ".claude/skills")], known=known)
    assert (victim / "keep" / "SKILL.md").read_text() == "precious\n" and (victim / "link").is_symlink()
