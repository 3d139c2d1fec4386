"""Parsing the locks of `npx skills` and `gh skill` (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.interop.skills_lock import ImportFormatError, parse_foreign_lock, user_lock_path

SHA = "a" * 40
TREE = "b" * 40


def project_lock(skills: dict) -> str:
    return json.dumps({"version": 1, "skills": skills}, indent=2)


def test_project_lock_entries_map_to_git_urls():
    kind, entries = parse_foreign_lock(
        project_lock(
            {
                "pdf": {"source": "anthropics/skills", "sourceType": "github", "computedHash": "0" * 64},
                "lab": {"source": "group/sub/repo", "sourceType": "gitlab", "ref": "main", "computedHash": "1" * 64},
                "any": {"source": "https://git.example.com/x/y.git", "sourceType": "git", "ref": SHA, "skillPath": "skills/any/SKILL.md", "computedHash": ""},
                "ssh": {"source": "git@example.com:x/y.git", "sourceType": "git", "computedHash": ""},
            }
        )
    )
    assert kind == "project"
    by = {e.name: e for e in entries}
    assert by["pdf"].url == "https://github.com/anthropics/skills.git" and by["pdf"].path is None and by["pdf"].ref is None
    assert by["lab"].url == "https://gitlab.com/group/sub/repo.git" and by["lab"].ref == "main"
    assert (by["any"].url, by["any"].path, by["any"].commit, by["any"].ref) == ("https://git.example.com/x/y.git", "skills/any", SHA, None)
    assert by["ssh"].url == "git@example.com:x/y.git"
    assert all(e.problem is None for e in entries)


def test_user_lock_of_gh_and_npx():
    text = json.dumps(
        {
            "version": 3,
            "skills": {
                "git-commit": {
                    "source": "github/awesome-copilot",
                    "sourceType": "github",
                    "sourceUrl": "https://github.com/github/awesome-copilot.git",
                    "skillPath": "skills/git-commit",
                    "skillFolderHash": TREE,
                    "installedAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-01T00:00:00Z",
                    "pinnedRef": "v1.2.0",
                },
                "root-skill": {
                    "source": "o/r",
                    "sourceType": "github",
                    "sourceUrl": "https://github.com/o/r.git",
                    "skillPath": "SKILL.md",
                    "skillFolderHash": "not-a-tree-id",
                    "ref": "main",
                    "installedAt": "",
                    "updatedAt": "",
                },
            },
            "dismissed": {"findSkillsPrompt": True},
            "lastSelectedAgents": ["claude-code"],
        }
    )
    kind, entries = parse_foreign_lock(text)
    assert kind == "user"
    by = {e.name: e for e in entries}
    gc = by["git-commit"]
    assert (gc.url, gc.path, gc.ref, gc.tree, gc.commit) == ("https://github.com/github/awesome-copilot.git", "skills/git-commit", "v1.2.0", TREE, None)
    root = by["root-skill"]
    assert root.path == "" and root.tree is None and root.ref == "main"


@pytest.mark.parametrize(
    "entry, needle",
    [
        ({"source": "x", "sourceType": "well-known"}, "well-known"),
        ({"source": "https://bun.com/docs/skill.md", "sourceType": "direct-url"}, "single SKILL.md URL"),
        ({"source": "pkg", "sourceType": "node_modules"}, "npm package"),
        ({"source": "not a repo", "sourceType": "github"}, "cannot tell the git URL"),
        ({"source": "o/r", "sourceType": "github", "skillPath": "../../etc/SKILL.md"}, "unsafe skillPath"),
    ],
)
def test_unmappable_entries_say_why(entry, needle):
    _kind, [e] = parse_foreign_lock(project_lock({"s": entry}))
    assert e.problem and needle in e.problem


@pytest.mark.parametrize(
    "skill_path, folder",
    [
        ("skills/x/SKILL.md", "skills/x"),
        ("skills/x", "skills/x"),
        ("./skills/x/SKILL.md", "skills/x"),
        ("skills\\x\\SKILL.md", "skills/x"),
        ("SKILL.md", ""),
        ("./", ""),
        ("..foo/SKILL.md", "..foo"),  # a folder whose name starts with two dots is fine
        ("skills/..x", "skills/..x"),
        ("../../etc/SKILL.md", None),
        ("skills/../../x", None),
        ("a//b", None),
        ("-x/SKILL.md", None),
    ],
)
def test_skill_path_becomes_a_plain_relative_folder(skill_path, folder):
    from skillpm.interop.skills_lock import _folder

    assert _folder(skill_path) == folder


def test_a_dot_dot_prefixed_folder_is_imported_not_refused():
    _kind, [e] = parse_foreign_lock(project_lock({"s": {"source": "o/r", "sourceType": "github", "skillPath": "..foo/SKILL.md", "computedHash": ""}}))
    assert (e.path, e.problem) == ("..foo", None)


def test_local_entries_keep_their_path():
    _kind, [e] = parse_foreign_lock(project_lock({"mine": {"source": "/home/me/skills", "sourceType": "local", "skillPath": "skills/mine/SKILL.md", "computedHash": ""}}))
    assert (e.local_path, e.path, e.problem) == ("/home/me/skills", "skills/mine", None)


def test_conflict_markers_unite_both_sides_theirs_winning():
    ours = project_lock({"a": {"source": "o/a", "sourceType": "github", "computedHash": ""}, "c": {"source": "o/old", "sourceType": "github", "computedHash": ""}})
    theirs = project_lock({"b": {"source": "o/b", "sourceType": "github", "computedHash": ""}, "c": {"source": "o/new", "sourceType": "github", "computedHash": ""}})
    text = "<<<<<<< HEAD\n" + ours + "\n||||||| base\n{}\n=======\n" + theirs + "\n>>>>>>> branch\n"
    _kind, entries = parse_foreign_lock(text)
    by = {e.name: e for e in entries}
    assert set(by) == {"a", "b", "c"} and by["c"].source == "o/new"


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 1}', '{"skills": []}'])
def test_not_a_lock(text):
    with pytest.raises(ImportFormatError):
        parse_foreign_lock(text, "x.json")


def test_user_lock_path_honours_xdg_state_home(tmp_path):
    home = tmp_path / "home"
    assert user_lock_path({}, home) == home / ".agents" / ".skill-lock.json"
    state = tmp_path / "state"
    (state / "skills").mkdir(parents=True)
    assert user_lock_path({"XDG_STATE_HOME": str(state)}, home) == home / ".agents" / ".skill-lock.json"
    (state / "skills" / ".skill-lock.json").write_text("{}")
    assert user_lock_path({"XDG_STATE_HOME": str(state)}, home) == state / "skills" / ".skill-lock.json"


def test_scaffolded_skill_is_strict_valid(tmp_path):
    from skillpm.scaffold import new_skill
    from skillpm.skill import read_skill

    folder = new_skill("pdf-tools", tmp_path)
    info, problems = read_skill(folder, strict=True)
    assert problems == [] and info.name == "pdf-tools" and str(info.version) == "0.1.0"
    assert (folder / "references").is_dir() and (folder / "scripts").is_dir()
    assert Path(folder / "SKILL.md").read_text().startswith("---\nname: pdf-tools\n")
