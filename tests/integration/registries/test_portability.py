"""A lock is the same in every checkout; publishers share the registry's own lock.

- a folder registry configured relative to the project (`local = "./vendor/registry"`)
  is locked as `registry+./vendor/registry/`, so clones at other paths get the
  same skills.lock bytes and `install --frozen` works in each;
- path sources are locked relative to the project too (`path+./…`);
- a lock from before (the folder's absolute file:// URL) still installs where it
  was made, and a plain install elsewhere rewrites it to the portable spelling;
- two `skillpm publish` runs with different HOME and SKILLPM_CACHE_DIR into one
  folder registry wait for each other: no published version is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.integration.conftest import REPO_ROOT

PORTABLE = "registry+./vendor/registry/"


def sources(root: Path) -> dict[str, str]:
    return {s["name"]: s["source"] for s in tomllib.loads((root / "skills.lock").read_text())["skill"]}


def make_project(cli, project: Path, skill_tree, make_skill) -> None:
    """app/web -> lib/core in ./vendor/registry (published with a relative --registry), plus a path skill."""
    with open(project / "skills.toml", "a") as f:
        f.write('\n[registries]\ndefault = "local"\nlocal = "./vendor/registry"\n')
    cli("publish", str(skill_tree("lib/core", "1.0.0")), "--registry", "./vendor/registry", cwd=project)
    cli("publish", str(skill_tree("app/web", "1.0.0", deps=["lib/core@^1.0"])), "--registry", "local", cwd=project)
    make_skill("notes", parent=project / "local-skills")
    (project / ".gitignore").write_text("/.agents/\n")  # a clone installs afresh
    cli("add", "app/web", "./local-skills/notes", cwd=project)


def clone(bare_repo, project: Path, dest: Path) -> Path:
    git = bare_repo.git
    git("init", "--quiet", "--initial-branch=main", str(project))
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "-m", "project", cwd=project)
    git("clone", "--quiet", str(project), str(dest))
    return dest


def test_a_project_relative_folder_registry_gives_the_same_lock_in_every_clone(
    cli, cli_env, project, skill_tree, make_skill, bare_repo, tmp_path
):
    make_project(cli, project, skill_tree, make_skill)
    lock = (project / "skills.lock").read_bytes()
    assert sources(project) == {"app/web": PORTABLE, "lib/core": PORTABLE, "notes": "path+./local-skills/notes"}
    assert str(tmp_path).encode() not in lock and b"file://" not in lock
    assert cli("verify", cwd=project).rc == 0

    # a clone at another path (deeper, other name), another user's cache
    other = clone(bare_repo, project, tmp_path / "elsewhere" / "deeper" / "checkout")
    tracked = bare_repo.git("ls-files", cwd=other).split()
    assert "vendor/registry/config.json" in tracked
    assert not [t for t in tracked if t.startswith("vendor/registry/.skillpm")], tracked  # the publish lock is never committed
    cli_env["SKILLPM_CACHE_DIR"] = str(tmp_path / "cache-2")
    cli_env["HOME"] = str(tmp_path / "home-2")
    os.makedirs(cli_env["HOME"])
    cli("install", "--frozen", cwd=other)
    assert (other / "skills.lock").read_bytes() == lock
    assert (project / "skills.lock").read_bytes() == lock
    assert cli("verify", cwd=other).rc == 0
    assert sorted(p.name for p in (other / ".agents" / "skills").iterdir() if not p.name.startswith(".")) == ["core", "notes", "web"]

    # plain install, lock and install again: no command rewrites the lock in either checkout
    for root in (other, project):
        cli("install", cwd=root)
        cli("lock", cwd=root)
        cli("install", "--frozen", cwd=root)
        assert (root / "skills.lock").read_bytes() == lock
        assert cli("verify", cwd=root).rc == 0

    # the registry also works when named by its absolute path: the same registry, the same lock
    toml = (other / "skills.toml").read_text()
    (other / "skills.toml").write_text(toml.replace('"./vendor/registry"', json.dumps(str((other / "vendor" / "registry").resolve()))))
    cli("install", "--frozen", cwd=other)
    assert (other / "skills.lock").read_bytes() == lock


def test_a_lock_with_the_old_absolute_spelling_installs_here_and_is_rewritten_elsewhere(
    cli, cli_env, project, skill_tree, make_skill, bare_repo, tmp_path
):
    make_project(cli, project, skill_tree, make_skill)
    portable = (project / "skills.lock").read_bytes()
    old_url = "registry+" + (project / "vendor" / "registry").resolve().as_uri() + "/"
    old = portable.replace(PORTABLE.encode(), old_url.encode())
    (project / "skills.lock").write_bytes(old)

    # where it was made: the same folder, so the old lock still satisfies skills.toml
    cli("install", "--frozen", cwd=project)
    assert (project / "skills.lock").read_bytes() == old
    assert cli("verify", cwd=project).rc == 0

    # elsewhere the old URL names another folder: --frozen refuses, a plain install re-locks portably
    other = clone(bare_repo, project, tmp_path / "other")
    r = cli("install", "--frozen", cwd=other, rc=1)
    assert "skills.lock has " + old_url in r.err
    assert (other / "skills.lock").read_bytes() == old
    cli("install", cwd=other)
    assert (other / "skills.lock").read_bytes() == portable
    assert cli("verify", cwd=other).rc == 0


def _env(tmp_path: Path, who: str) -> dict[str, str]:
    home = tmp_path / f"home-{who}"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLPM_", "GIT_"))}
    env.update(
        HOME=str(home),
        SKILLPM_CACHE_DIR=str(tmp_path / f"cache-{who}"),
        SKILLPM_CONFIG_DIR=str(tmp_path / f"config-{who}"),
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


SKILLS = 20  # per publisher and round: enough writes that the two runs overlap


def test_publishers_with_different_homes_and_caches_are_serialized(make_skill, tmp_path):
    """Each round two publishers (own HOME and cache) race: each publishes its own
    version of lib/core plus a few skills of its own, so index/lib/core and
    index.json are written by both; every version must land in both files."""
    reg = tmp_path / "shared" / "registry"
    envs = {who: _env(tmp_path, who) for who in ("a", "b")}
    versions: list[str] = []
    for round_ in range(3):  # the first round also races to create the registry
        procs = []
        for who, patch in (("a", 0), ("b", 1)):
            tree = tmp_path / f"tree-{who}-{round_}"
            make_skill("core", parent=tree / "lib", version=f"1.{round_}.{patch}")
            for i in range(SKILLS):
                make_skill(f"s{i}", parent=tree / who, version=f"1.{round_}.0")
            versions.append(f"1.{round_}.{patch}")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "skillpm", "publish", "--all", str(tree), "--registry", str(reg)],
                    env=envs[who],
                    cwd=tmp_path,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, (out, err)
            assert "Traceback" not in err
        lines = [json.loads(ln) for ln in (reg / "index" / "lib" / "core").read_text().splitlines()]
        assert sorted(ln["vers"] for ln in lines) == sorted(versions), lines
        for version in versions:
            assert (reg / "dl" / "lib" / "core" / f"{version}.tar.gz").is_file()
        for who in ("a", "b"):
            for i in range(SKILLS):
                mine = [json.loads(ln)["vers"] for ln in (reg / "index" / who / f"s{i}").read_text().splitlines()]
                assert mine == [f"1.{r}.0" for r in range(round_ + 1)]
        search = {e["name"]: e["vers"] for e in json.loads((reg / "index.json").read_text())["skills"]}
        want = {"lib/core": f"1.{round_}.1"} | {f"{who}/s{i}": f"1.{round_}.0" for who in ("a", "b") for i in range(SKILLS)}
        assert search == want
    # the lock is the registry's own, ignored by git; no publisher used its cache for it
    assert (reg / ".skillpm" / "publish.lock").exists()
    assert (reg / ".skillpm" / ".gitignore").read_text().splitlines()[-1] == "*"
    for who in ("a", "b"):
        assert not (tmp_path / f"cache-{who}" / "locks").exists()
