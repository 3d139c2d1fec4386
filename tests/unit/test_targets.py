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
    # the copy's targets.json was written in another checkout: it is not trusted, so the copy
    # deletes nothing (its link stays, reported by nobody as skillpm's); the original keeps its own
    sync_targets(two / ".agents/skills", [a], [])
    assert (two / ".claude/skills/a").is_symlink()
    assert (one / ".claude/skills/a").is_symlink()
    sync_targets(install_dir, [a], [])  # the original still knows its own link and removes it
    assert not (one / ".claude/skills/a").exists()


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


# --------------------------------------------------------------------------- #
# force: taking over what is in the way, with a backup


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_force_backs_up_a_foreign_folder_and_replaces_it_with_a_link(layout):
    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    theirs = claude / "a"
    (theirs / "references").mkdir(parents=True)
    (theirs / "SKILL.md").write_text("installed by another tool\n")
    (theirs / "references" / "notes.md").write_text("their notes\n")
    os.symlink("SKILL.md", theirs / "alias.md")
    before = _tree(theirs)
    asked = []

    def backup_dir() -> Path:
        asked.append(1)
        return root / "backups" / "run1"

    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], force=True, backup_dir=backup_dir)
    assert res.taken_over == ["a"] and not res.problems and res.changed
    kept = res.backups["a"]
    assert kept == root / "backups/run1/claude-code/a"
    assert _tree(kept) == before and os.readlink(kept / "alias.md") == "SKILL.md"  # links stay links
    assert os.readlink(theirs) == "../../.agents/skills/a"
    assert not any(p.name.startswith(".skillpm-") for p in claude.iterdir())
    [check] = check_targets(install_dir, [a], [("claude-code", claude)])
    assert check.ok == ["a"] and not check.problems
    # nothing more to take over: the backup folder is not even asked for
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], force=True, backup_dir=backup_dir)
    assert not res.changed and not res.backups and asked == [1]


def test_force_needs_a_backup_folder(layout):
    root, install_dir = layout
    with pytest.raises(ValueError, match="backup"):
        sync_targets(install_dir, [install(root, "a")], [("claude-code", root / ".claude/skills")], force=True)


def test_force_replaces_a_foreign_link_and_a_folder_put_over_skillpms_link(layout):
    root, install_dir = layout
    a, b = install(root, "a"), install(root, "b")
    claude = root / ".claude/skills"
    claude.mkdir(parents=True)
    os.symlink("/somewhere/else", claude / "a")  # another tool's link (dangling here)
    sync_targets(install_dir, [b], [("claude-code", claude)])
    (claude / "b").unlink()
    (claude / "b").mkdir()
    (claude / "b" / "SKILL.md").write_text("hand-made\n")
    [res] = sync_targets(install_dir, [a, b], [("claude-code", claude)], backup_dir=root / "bk")
    assert len(res.problems) == 2 and all("--force" in p for p in res.problems) and not res.backups  # no force: left
    [res] = sync_targets(install_dir, [a, b], [("claude-code", claude)], force=True, backup_dir=root / "bk")
    assert sorted(res.taken_over) == ["a", "b"] and not res.problems
    assert os.readlink(res.backups["a"]) == "/somewhere/else"
    assert (res.backups["b"] / "SKILL.md").read_text() == "hand-made\n"
    assert not check_targets(install_dir, [a, b], [("claude-code", claude)])[0].problems


def test_force_restores_an_edited_copy_and_keeps_the_edit(layout):
    root, install_dir = layout
    a = install(root, "a", "v1")
    cursor = root / ".cursor/skills"
    sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy")
    (cursor / "a" / "SKILL.md").write_text("my notes\n")
    [res] = sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy")  # up to date: left as is
    assert not res.changed and (cursor / "a" / "SKILL.md").read_text() == "my notes\n"
    [res] = sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy", force=True, backup_dir=root / "bk")
    assert res.taken_over == ["a"] and (res.backups["a"] / "SKILL.md").read_text() == "my notes\n"
    assert not (cursor / "a").is_symlink() and tree_digest(cursor / "a") == a.integrity
    assert check_targets(install_dir, [a], [("cursor", cursor)])[0].ok == ["a"]


def test_an_edited_copy_of_a_removed_skill_stays_recorded_until_force_removes_it(layout):
    root, install_dir = layout
    a = install(root, "a", "v1")
    cursor = root / ".cursor/skills"
    sync_targets(install_dir, [a], [("cursor", cursor)], mode="copy")
    (cursor / "a" / "SKILL.md").write_text("my notes\n")
    for _ in range(2):  # reported on every run, not forgotten after the first
        [res] = sync_targets(install_dir, [], [("cursor", cursor)], mode="copy")
        assert "changed in place" in res.problems[0] and (cursor / "a" / "SKILL.md").read_text() == "my notes\n"
    [res] = sync_targets(install_dir, [], [("cursor", cursor)], mode="copy", force=True, backup_dir=root / "bk")
    assert res.removed == ["a"] and not (cursor / "a").exists()
    assert (res.backups["a"] / "SKILL.md").read_text() == "my notes\n"
    [res] = sync_targets(install_dir, [], [("cursor", cursor)], mode="copy")
    assert not res.changed and not res.problems


def test_force_leaves_what_it_cannot_back_up(layout, monkeypatch):
    import shutil

    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    (claude / "a").mkdir(parents=True)
    (claude / "a" / "SKILL.md").write_text("theirs\n")

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", no_space)
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], force=True, backup_dir=root / "bk")
    assert not res.taken_over and "could not back up" in res.problems[0]
    assert (claude / "a" / "SKILL.md").read_text() == "theirs\n"


def test_force_puts_the_old_entry_back_when_placing_fails(layout, monkeypatch):
    from skillpm import targets

    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    (claude / "a").mkdir(parents=True)
    (claude / "a" / "SKILL.md").write_text("theirs\n")

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(targets, "_place", broken)
    [res] = sync_targets(install_dir, [a], [("claude-code", claude)], force=True, backup_dir=root / "bk")
    assert not res.taken_over and not res.backups and "Input/output error" in res.problems[0]
    assert (claude / "a" / "SKILL.md").read_text() == "theirs\n" and not (claude / ".skillpm-old-a").exists()


def test_summarize_names_each_backup(layout):
    from skillpm.ops.targets import summarize

    root, install_dir = layout
    a = install(root, "a")
    claude = root / ".claude/skills"
    (claude / "a").mkdir(parents=True)
    (claude / "a" / "SKILL.md").write_text("theirs\n")
    results = sync_targets(install_dir, [a], [("claude-code", claude)], force=True, backup_dir=root / "bk")
    info, warnings = summarize(results, root)
    assert info == [
        "claude-code: took over 1 in .claude/skills/",
        f"claude-code: replaced .claude/skills/a; the replaced copy was kept at {root / 'bk/claude-code/a'}",
    ]
    assert not warnings


# --------------------------------------------------------------------------- #
# import: the targets a foreign lock implies


def test_add_install_targets_keeps_what_is_written(tmp_path):
    from skillpm.manifest import add_install_targets

    text = '# mine\n[skills]\n\n[install]\ndir = ".agents/skills"  # here\ntargets = [\n  "claude",  # the alias\n]\n'
    out = add_install_targets(text, ["claude-code", "cursor", "cursor"], in_pyproject=False)
    assert out.startswith(text.split("targets")[0]) and '"claude",  # the alias' in out
    assert parse_manifest(out, tmp_path / "skills.toml").targets == ["claude-code", "cursor"]
    assert add_install_targets(out, ["claude-code"], in_pyproject=False) is out  # nothing to add: unchanged
    made = add_install_targets("[skills]\n", ["gemini"], in_pyproject=False)
    assert parse_manifest(made, tmp_path / "skills.toml").targets == ["gemini"]
    py = add_install_targets('[project]\nname = "x"\n\n[tool.skillpm.skills]\n', ["copilot"], in_pyproject=True)
    assert parse_manifest(py, tmp_path / "pyproject.toml").targets == ["copilot"] and 'name = "x"' in py


def test_foreign_locks_record_agents_per_entry_or_for_the_whole_lock():
    import json

    from skillpm.interop.skills_lock import parse_foreign_lock

    entry = {"source": "o/r", "sourceType": "github", "sourceUrl": "https://github.com/o/r.git", "skillFolderHash": ""}
    text = json.dumps(
        {
            "version": 3,
            "skills": {"a": entry, "b": {**entry, "agents": ["cursor", " ", 3]}},
            "lastSelectedAgents": ["claude-code", "windsurf", "claude-code"],
        }
    )
    _kind, entries = parse_foreign_lock(text)
    by = {e.name: e for e in entries}
    assert by["a"].agents == ("claude-code", "windsurf") and by["b"].agents == ("cursor",)
    _kind, [c] = parse_foreign_lock(json.dumps({"version": 1, "skills": {"c": {"source": "o/r", "sourceType": "github"}}}))
    assert c.agents == ()


def test_implied_targets_come_from_the_lock_and_the_agent_folders(tmp_path):
    from skillpm.interop.importer import implied_targets
    from skillpm.interop.skills_lock import ForeignSkill
    from skillpm.ops.project import find_project

    (tmp_path / "skills.toml").write_text('[skills]\n\n[install]\ntargets = ["cursor"]\n')
    project = find_project(tmp_path)
    (tmp_path / ".claude/skills/pdf").mkdir(parents=True)  # npx skills' copy for Claude Code
    (tmp_path / ".gemini/skills").mkdir(parents=True)
    os.symlink("../../elsewhere/pdf", tmp_path / ".gemini/skills/pdf")  # a (dangling) link counts too
    (tmp_path / ".agents/skills/pdf").mkdir(parents=True)  # the install dir: codex needs no target
    (tmp_path / ".github/skills/other").mkdir(parents=True)  # not an imported skill
    f = ForeignSkill("pdf", "github", "o/r", agents=("opencode", "cursor", "codex", "windsurf"))
    added, unknown = implied_targets(project, [(f, "pdf")])
    assert added == [
        ("claude-code", ".claude/skills/pdf exists"),
        ("gemini", ".gemini/skills/pdf exists"),
        ("opencode", "the lock lists agent 'opencode'"),
    ]
    assert unknown == ["windsurf"]


def test_leftovers_of_a_killed_sync_are_swept(tmp_path):
    install_dir = tmp_path / "p/.agents/skills"
    a = install(tmp_path / "p", "a")
    target = tmp_path / "p/.claude/skills"
    for name in (".skillpm-tmp-a", ".skillpm-old-b"):
        (target / name).mkdir(parents=True)
        (target / name / "SKILL.md").write_text("half\n")
    sync_targets(install_dir, [a], [("claude-code", target)])
    assert sorted(p.name for p in target.iterdir()) == ["a"]
