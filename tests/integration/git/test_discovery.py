"""Discovering the skills in a repository from the mirror's tree (no checkout)."""

from __future__ import annotations

from skillpm.sources.git import DiscoveredSkill, GitSource, Mirror, discover
from skillpm.spec import GitSpec

from .conftest import git


def build(repo):
    repo.write_skill("", "root-skill", version="3.0.0")
    repo.write_skill("skills/alpha", version="1.0.0", files={"scripts/a.sh": ("#!/bin/sh\n", 0o755)})
    repo.write_skill("skills/beta", "beta-renamed", version=None)
    repo.write_skill("plugins/p/skills/gamma", version="0.1.0")  # depth 4
    repo.write_skill("a/b/c/d/too-deep", version="1.0.0")  # depth 5: not listed
    repo.write("docs/skill.md", "not a SKILL.md\n")
    repo.write("skills/alpha/examples/SKILL.md.txt", "not one either\n")
    return repo.commit()


def test_discover_root_skills_dir_and_nested(git_repo):
    build(git_repo)
    found = discover(git_repo.url)
    assert found == [
        DiscoveredSkill("", "root-skill", "3.0.0", "Test skill root-skill. Use when testing."),
        DiscoveredSkill("plugins/p/skills/gamma", "gamma", "0.1.0", "Test skill gamma. Use when testing."),
        DiscoveredSkill("skills/alpha", "alpha", "1.0.0", "Test skill alpha. Use when testing."),
        DiscoveredSkill("skills/beta", "beta-renamed", None, "Test skill beta-renamed. Use when testing."),
    ]
    assert [d.path for d in found] == sorted(d.path for d in found)


def test_discover_fetches_only_skill_md_and_no_checkout(git_repo):
    commit = build(git_repo)
    found = discover(GitSpec(url=git_repo.url), commit)
    assert len(found) == 4
    mirror = Mirror(git_repo.url)
    assert mirror.partial
    out = git("--git-dir", str(mirror.path), "rev-list", "--objects", "--missing=print", "--all")
    missing = {line[1:] for line in out.splitlines() if line.startswith("?")}
    script = git_repo.rev(f"{commit}:skills/alpha/scripts/a.sh")
    skill_md = git_repo.rev(f"{commit}:skills/alpha/SKILL.md")
    assert script in missing and skill_md not in missing
    assert not any(p.name == "SKILL.md" for p in mirror.path.rglob("*"))  # bare: no work tree


def test_discover_at_older_commit_tag_pin_and_path_filter(git_repo):
    git_repo.write_skill("skills/one", version="1.0.0")
    old = git_repo.commit()
    git_repo.tag("v1.0.0")
    git_repo.write_skill("skills/two", version="1.0.0")
    git_repo.write_skill("other/three", version="1.0.0")
    git_repo.commit()
    assert [d.path for d in discover(git_repo.url)] == ["other/three", "skills/one", "skills/two"]
    assert [d.path for d in discover(git_repo.url, old)] == ["skills/one"]
    assert [d.path for d in discover(git_repo.url, old[:8])] == ["skills/one"]
    assert [d.path for d in discover(f"{git_repo.url}#tag=v1.0.0")] == ["skills/one"]
    assert [d.path for d in discover(GitSpec(url=git_repo.url, path="skills"))] == ["skills/one", "skills/two"]
    # every discovered skill installs through GitSource
    for d in discover(git_repo.url):
        src = GitSource(GitSpec(url=git_repo.url, path=d.path))
        assert src.releases()


def test_discover_offline_after_online(git_repo):
    build(git_repo)
    online = discover(git_repo.url)
    from skillpm.sources.git import reset_run_state

    reset_run_state()
    assert discover(git_repo.url, offline=True) == online


def test_discover_web_ref_with_slashes_filters_by_the_split_path(git_repo):
    git_repo.write_skill("skills/foo", version="1.0.0")
    git_repo.write_skill("skills/bar", version="1.0.0")
    git_repo.commit()
    git_repo.branch("feature/x")
    # …/tree/feature/x/skills/foo: ref "feature", path "x/skills/foo" until the remote says otherwise
    found = discover(GitSpec(url=git_repo.url, ref="feature", path="x/skills/foo"))
    assert [d.path for d in found] == ["skills/foo"]
