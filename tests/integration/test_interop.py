"""`skillpm import`: the locks of `npx skills` (skills-lock.json, ~/.agents/.skill-lock.json)
and `gh skill` (~/.agents/.skill-lock.json) become skills.toml and skills.lock.

The JSON files point at local git repositories served over file://.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from skillpm.digest import tree_digest
from tests.integration.git.conftest import GitRepo, _init_repo


pytestmark = pytest.mark.usefixtures("git_identity")


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return _init_repo(tmp_path / "remotes" / "skills")


def lock_of(path: Path) -> dict[str, dict]:
    return {s["name"]: s for s in tomllib.loads(path.read_text()).get("skill", [])}


def user_lock(entries: dict) -> str:
    return json.dumps({"version": 3, "skills": entries, "dismissed": {}}, indent=2)


def test_user_lock_of_gh_skill_and_npx_skills_pins_the_installed_commits(cli, cli_env, repo, tmp_path):
    repo.write_skill("skills/alpha", version="1.0.0")
    first = repo.commit("alpha 1.0.0")
    alpha_tree = repo.rev(f"{first}:skills/alpha")
    repo.write_skill("skills/beta", version="2.0.0")
    beta_commit = repo.commit("beta")
    repo.write_skill("skills/alpha", version="1.1.0", files={"references/new.md": "newer\n"})
    repo.commit("alpha 1.1.0")  # newer than what was installed

    agents = Path(cli_env["HOME"]) / ".agents"
    agents.mkdir()
    (agents / ".skill-lock.json").write_text(
        user_lock(
            {
                # gh skill: owner/repo source, sourceUrl, skillPath, tree id of the folder
                "alpha": {
                    "source": "acme/skills",
                    "sourceType": "github",
                    "sourceUrl": repo.url,
                    "skillPath": "skills/alpha/SKILL.md",
                    "skillFolderHash": alpha_tree,
                    "installedAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-01T00:00:00Z",
                },
                # gh skill --pin <sha>
                "beta": {
                    "source": "acme/skills",
                    "sourceType": "github",
                    "sourceUrl": repo.url,
                    "skillPath": "skills/beta",
                    "skillFolderHash": "",
                    "pinnedRef": beta_commit,
                    "installedAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-01T00:00:00Z",
                },
                # npx skills from a docs site: nothing to pin
                "bun": {
                    "source": "mintlify/bun.com",
                    "sourceType": "mintlify",
                    "sourceUrl": "https://bun.com/docs/skill.md",
                    "skillFolderHash": "",
                    "installedAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-01T00:00:00Z",
                },
            }
        )
    )
    r = cli("import", "-g", rc=1)
    assert "could not import bun: sourceType 'mintlify'" in r.err
    assert "Imported 2 of 3 skill(s)" in r.err and "commit found from the recorded folder tree id" in r.err

    config = tmp_path / "config" / "global"
    manifest = tomllib.loads((config / "skills.toml").read_text())["skills"]
    assert manifest["alpha"] == {"git": repo.url, "path": "skills/alpha", "rev": first}
    assert manifest["beta"] == {"git": repo.url, "path": "skills/beta", "rev": beta_commit}
    lock = lock_of(config / "skills.lock")
    assert (lock["alpha"]["commit"], lock["alpha"]["version"]) == (first, "1.0.0")
    assert lock["beta"]["commit"] == beta_commit
    # nothing installed yet; install brings exactly the imported commits
    assert not (agents / "skills" / "alpha").exists()
    cli("install", "-g")
    installed = agents / "skills" / "alpha"
    assert tree_digest(installed) == repo.blob_digest(first, "skills/alpha")
    assert not (installed / "references/new.md").exists()
    cli("verify", "-g")


def test_project_lock_of_npx_skills_follows_refs_and_finds_paths(cli, repo, tmp_path, make_skill):
    repo.write_skill("skills/gamma", version="1.0.0")
    repo.write_skill("plugins/tools/skills/delta", version="3.0.0")
    tagged = repo.commit("release")
    repo.tag("v3.0.0")
    repo.write_skill("skills/gamma", version="1.2.0")
    head = repo.commit("gamma 1.2.0")
    local = make_skill("epsilon", parent=tmp_path / "mine")

    work = tmp_path / "work"
    work.mkdir()
    lock = {
        "version": 1,
        "skills": {
            # no skillPath (older npx skills): found by name; a branch ref
            "gamma": {"source": repo.url, "sourceType": "git", "ref": "main", "computedHash": "ab" * 32},
            # newer npx skills record skillPath; a tag ref
            "delta": {"source": repo.url, "sourceType": "git", "ref": "v3.0.0", "skillPath": "plugins/tools/skills/delta/SKILL.md", "computedHash": "cd" * 32},
            "epsilon": {"source": str(local), "sourceType": "local", "computedHash": "ef" * 32},
            "pkg": {"source": "some-package", "sourceType": "node_modules", "computedHash": "00" * 32},
        },
    }
    (work / "skills-lock.json").write_text(json.dumps(lock, indent=2))
    r = cli("import", cwd=work, rc=1)
    assert "Created skills.toml." in r.err
    assert "could not import pkg" in r.err and "node_modules" in r.err
    manifest = tomllib.loads((work / "skills.toml").read_text())["skills"]
    assert manifest["gamma"] == {"git": repo.url, "path": "skills/gamma", "branch": "main"}
    assert manifest["delta"] == {"git": repo.url, "path": "plugins/tools/skills/delta", "tag": "v3.0.0"}
    assert manifest["epsilon"] == {"path": "../mine/epsilon"}
    locked = lock_of(work / "skills.lock")
    assert (locked["gamma"]["commit"], locked["gamma"]["version"]) == (head, "1.2.0")
    assert (locked["delta"]["commit"], locked["delta"]["version"]) == (tagged, "3.0.0")

    # npx skills already put gamma in .agents/skills: skillpm keeps it until told (--force, with a backup)
    theirs = work / ".agents/skills/gamma"
    theirs.mkdir(parents=True)
    (theirs / "SKILL.md").write_text("installed by npx skills\n")
    r = cli("install", cwd=work, rc=1)  # the rest is installed; the folder in the way is named
    assert "gamma/: kept (not installed by skillpm)" in r.err and "--force" in r.err
    assert (theirs / "SKILL.md").read_text() == "installed by npx skills\n"
    assert (work / ".agents/skills/delta/SKILL.md").is_file() and (work / ".agents/skills/epsilon/SKILL.md").is_file()
    r = cli("install", "--force", cwd=work)
    assert "the replaced copy was kept at" in r.err
    assert tree_digest(theirs) == locked["gamma"]["integrity"]
    cli("verify", cwd=work)


def test_a_merge_conflicted_skills_lock_is_united(cli, repo, tmp_path):
    repo.write_skill("skills/one")
    repo.write_skill("skills/two")
    repo.commit()
    work = tmp_path / "work"
    work.mkdir()
    entry = {"source": repo.url, "sourceType": "git", "computedHash": "aa" * 32}
    ours = json.dumps({"version": 1, "skills": {"one": entry}}, indent=2).splitlines()
    theirs = json.dumps({"version": 1, "skills": {"two": entry}}, indent=2).splitlines()
    text = "\n".join(["<<<<<<< HEAD", *ours, "=======", *theirs, ">>>>>>> feature"]) + "\n"
    (work / "skills-lock.json").write_text(text)
    cli("import", cwd=work)
    assert set(tomllib.loads((work / "skills.toml").read_text())["skills"]) == {"one", "two"}


def test_import_of_a_missing_or_foreign_file_is_one_line(cli, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    r = cli("import", "nope.json", cwd=work, rc=1)
    assert "nope.json: not found" in r.err and r.err.strip().count("\n") <= 1
    (work / "other.json").write_text('{"dependencies": {}}')
    r = cli("import", "other.json", cwd=work, rc=1)
    assert "not a skills lock" in r.err


def test_an_unknown_skill_name_is_reported(cli, repo, tmp_path):
    repo.write_skill("skills/real")
    repo.commit()
    work = tmp_path / "work"
    work.mkdir()
    (work / "skills-lock.json").write_text(json.dumps({"version": 1, "skills": {"ghost": {"source": repo.url, "sourceType": "git", "computedHash": ""}}}))
    r = cli("import", cwd=work, rc=1)
    assert "could not import ghost: no skill named 'ghost'" in r.err and "real" in r.err
    assert "Nothing imported" in r.err


def test_lock_new_specs_writes_the_manifest_and_the_lock_together(tmp_path, make_skill, monkeypatch):
    from skillpm.errors import UsageError
    from skillpm.ops import sync
    from skillpm.ops.project import find_project
    from skillpm.spec import PathSpec

    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SKILLPM_CONFIG_DIR", str(tmp_path / "config"))
    work = tmp_path / "work"
    work.mkdir()
    sync.init(work)
    make_skill("a", parent=work / "local")
    make_skill("b", parent=work / "local")

    report = sync.lock_new_specs(find_project(work), {"a": PathSpec("./local/a")})
    assert report.changes == [("a", None, "1.0.0")]
    assert tomllib.loads((work / "skills.toml").read_text())["skills"] == {"a": {"path": "./local/a"}}
    assert set(lock_of(work / "skills.lock")) == {"a"}
    assert not (work / ".agents/skills/a").exists()  # installs nothing

    # a key the manifest already has is refused, and nothing is written
    with pytest.raises(UsageError, match="already in skills.toml: a"):
        sync.lock_new_specs(find_project(work), {"a": PathSpec("./local/b")})

    # killed after skills.toml was written, before skills.lock: the next run rolls both back
    from skillpm import failpoints

    class Killed(BaseException):
        pass

    seen: list[str] = []

    def kill_on_second_file(name: str) -> None:
        seen.append(name)
        if seen.count("txn.file") == 2:
            raise Killed(name)

    toml_before = (work / "skills.toml").read_bytes()
    monkeypatch.setattr(failpoints, "point", kill_on_second_file)
    with pytest.raises(Killed):
        sync.lock_new_specs(find_project(work), {"b": PathSpec("./local/b")})
    monkeypatch.undo()
    assert "b" in tomllib.loads((work / "skills.toml").read_text())["skills"]  # half-written...
    report = sync.lock(find_project(work))  # ...until the next command, which finishes or undoes it first
    assert report.notes == ["rolled back an interrupted install"]
    assert (work / "skills.toml").read_bytes() == toml_before and set(lock_of(work / "skills.lock")) == {"a"}
