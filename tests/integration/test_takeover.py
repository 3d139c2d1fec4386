"""Taking over after `skillpm import`: the targets the other tool's install implies, and
`skillpm install --force` replacing the agent folders `npx skills` made (keeping backups).

The layout `npx skills` leaves in a project (copy mode): its lock, `skills-lock.json`,
the canonical copies in `.agents/skills/<name>` and real folders (not links) in each
agent's folder, here `.claude/skills/<name>`.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from tests.integration.git.conftest import GitRepo, _init_repo

pytestmark = pytest.mark.usefixtures("git_identity")


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return _init_repo(tmp_path / "remotes" / "skills")


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def npx_skills_project(work: Path, repo: GitRepo, names: list[str]) -> None:
    """What `npx skills add <repo> --agent claude-code --copy` leaves behind."""
    lock = {"version": 1, "skills": {n: {"source": repo.url, "sourceType": "git", "ref": "main", "computedHash": "ab" * 32} for n in names}}
    (work / "skills-lock.json").write_text(json.dumps(lock, indent=2))
    for n in names:
        for where in (".agents/skills", ".claude/skills"):
            folder = work / where / n
            (folder / "references").mkdir(parents=True)
            (folder / "SKILL.md").write_text(f"---\nname: {n}\ndescription: installed by npx skills\n---\n# {n}\n")
            (folder / "references" / "notes.md").write_text(f"{where} notes for {n}\n")


def test_import_sets_targets_and_install_force_takes_over_the_agent_folders(cli, repo, tmp_path):
    repo.write_skill("skills/gamma", version="1.0.0")
    repo.write_skill("skills/delta", version="2.0.0")
    repo.commit("release")
    work = tmp_path / "work"
    work.mkdir()
    npx_skills_project(work, repo, ["delta", "gamma"])
    theirs = {n: tree(work / ".claude/skills" / n) for n in ("delta", "gamma")}

    r = cli("import", cwd=work)
    assert "+ target claude-code in [install] targets (.claude/skills/" in r.err
    manifest = tomllib.loads((work / "skills.toml").read_text())
    assert manifest["install"]["targets"] == ["claude-code"]
    assert set(manifest["skills"]) == {"delta", "gamma"}
    assert "# skillpm manifest" in (work / "skills.toml").read_text()  # the file's comments are kept
    # importing again adds no second entry
    cli("import", cwd=work, rc=1)
    assert tomllib.loads((work / "skills.toml").read_text())["install"]["targets"] == ["claude-code"]

    # without --force: the folders npx skills made in .claude/skills are reported and left
    r = cli("install", cwd=work, rc=None)
    assert r.err.count("was not created by skillpm") == 2 and "--force" in r.err
    for n in ("delta", "gamma"):
        assert not (work / ".claude/skills" / n).is_symlink() and tree(work / ".claude/skills" / n) == theirs[n]
    assert cli("verify", cwd=work, rc=None).rc != 0

    # --force: each is backed up, then replaced with a link to the install dir
    r = cli("install", "--force", cwd=work)
    assert "claude-code: took over 2 in .claude/skills/" in r.err
    for n in ("delta", "gamma"):
        link = work / ".claude/skills" / n
        assert link.is_symlink() and os.readlink(link) == f"../../.agents/skills/{n}"
        assert (link / "SKILL.md").read_text() == (work / ".agents/skills" / n / "SKILL.md").read_text()
        [kept] = (tmp_path / "cache" / "backups").glob(f"*/claude-code/{n}")
        assert tree(kept) == theirs[n]
        assert f"replaced .claude/skills/{n}; the replaced copy was kept at {kept}" in r.err
    cli("verify", cwd=work)
    # nothing left to take over
    r = cli("install", "--force", cwd=work)
    assert "took over" not in r.err and "was not created by skillpm" not in r.err


def test_import_of_a_user_lock_adds_the_agents_it_records(cli, cli_env, repo, tmp_path):
    repo.write_skill("skills/alpha", version="1.0.0")
    repo.commit("alpha")
    home = Path(cli_env["HOME"])
    (home / ".agents").mkdir()
    entry = {"source": "acme/skills", "sourceType": "github", "sourceUrl": repo.url, "skillPath": "skills/alpha", "skillFolderHash": ""}
    lock = {"version": 3, "skills": {"alpha": entry}, "dismissed": {}, "lastSelectedAgents": ["claude-code", "codex", "windsurf"]}
    (home / ".agents/.skill-lock.json").write_text(json.dumps(lock))
    r = cli("import", "-g")
    assert "+ target claude-code in [install] targets (the lock lists agent 'claude-code')" in r.err
    assert "no target for agent(s) windsurf" in r.err
    text = (tmp_path / "config/global/skills.toml").read_text()
    # codex reads ~/.agents/skills, the install dir itself: no target needed
    assert tomllib.loads(text)["install"]["targets"] == ["claude-code"]
    assert "# agents whose user skills folder gets a link" in text
    cli("install", "-g")
    assert (home / ".claude/skills/alpha").is_symlink()
    cli("verify", "-g")
