"""A registry kept in a git repository (a bare repo over file://): publish, add, yank, offline."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def test_publish_commits_and_pushes_then_installs(cli, cli_env, project, skill_tree, bare_repo, tmp_path, snap):
    bare = bare_repo()
    url = f"git+{bare.as_uri()}"
    cli("publish", str(skill_tree("lib/core", "1.0.0")), "--registry", url)
    cli("publish", str(skill_tree("lib/core", "1.1.0")), "--registry", url)
    r = cli("publish", str(skill_tree("app/web", "0.2.0", deps=["lib/core@^1.0"])), "--registry", url)
    assert "published app/web 0.2.0" in r.out and "pushed" in r.out

    git = bare_repo.git
    log = git("--git-dir", str(bare), "log", "--format=%s", "main").splitlines()
    assert log == ["publish app/web 0.2.0", "publish lib/core 1.1.0", "publish lib/core 1.0.0"]
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").split()
    assert sorted(files) == sorted([
        "config.json", "index.json", "index/lib/core", "index/app/web",
        "dl/lib/core/1.0.0.tar.gz", "dl/lib/core/1.1.0.tar.gz", "dl/app/web/0.2.0.tar.gz",
    ])

    with open(project / "skills.toml", "a") as f:
        f.write(f'\n[registries]\ndefault = "{url}"\n')
    cli("add", "app/web", cwd=project)
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    assert {n: s["version"] for n, s in lock.items()} == {"app/web": "0.2.0", "lib/core": "1.1.0"}
    assert lock["app/web"]["source"] == f"registry+{url}"
    assert cli("verify", cwd=project).rc == 0

    # republishing is refused, and pushes nothing
    r = cli("publish", str(skill_tree("lib/core", "1.1.0")), "--registry", url, rc=1)
    assert "already published" in r.err
    assert len(git("--git-dir", str(bare), "log", "--format=%s", "main").splitlines()) == 3

    # yank through git: one more commit; fresh resolutions skip it
    r = cli("yank", "lib/core@1.1.0", "--registry", url)
    assert "yanked lib/core 1.1.0" in r.out
    assert git("--git-dir", str(bare), "log", "-1", "--format=%s", "main").strip() == "yank lib/core 1.1.0"
    index = git("--git-dir", str(bare), "show", "main:index/lib/core").splitlines()
    assert [json.loads(ln)["yanked"] for ln in index] == [False, True]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    cli("init", cwd=fresh)
    (fresh / "skills.toml").write_text((project / "skills.toml").read_text())
    cli("install", cwd=fresh)
    assert {s["name"]: s["version"] for s in lock_of(fresh)["skill"]}["lib/core"] == "1.0.0"
    # the first project keeps its locked (now yanked) version
    shutil.rmtree(project / ".agents" / "skills" / "core")
    cli("install", "--frozen", cwd=project)
    assert cli("verify", cwd=project).rc == 0

    # offline from the warm mirror works; a cold cache fails clearly and writes nothing
    shutil.rmtree(project / ".agents" / "skills" / "core")
    cli("install", "--frozen", "--offline", cwd=project)
    cold = tmp_path / "cold"
    cold.mkdir()
    for name in ("skills.toml", "skills.lock"):
        shutil.copy(project / name, cold / name)
    before = snap(cold)
    cli_env["SKILLPM_CACHE_DIR"] = str(tmp_path / "cold-cache")
    r = cli("install", "--frozen", "--offline", cwd=cold, rc=1)
    assert "offline" in r.err and "never fetched" in r.err and r.err.count("\n") == 1
    assert snap(cold) == before


def test_search_and_info_on_a_git_registry(cli, skill_tree, bare_repo):
    url = f"git+{bare_repo().as_uri()}"
    skill_tree("lib/core", "1.0.0")
    skill_tree("lib/http", "1.0.0", deps=["lib/core"])
    r = cli("publish", "--all", str(skill_tree.base), "--registry", url)
    assert r.out.count("published") == 2
    r = cli("search", "http", "--registry", url, "--json")
    assert [h["name"] for h in json.loads(r.out)] == ["lib/http"]
    r = cli("info", "lib/http", "--registry", url)
    assert "dependencies: lib/core" in r.out


def _seed_registry(bare_repo, bare: Path, tmp_path: Path, setup) -> None:  # noqa: ANN001
    """Commit a registry (config.json plus whatever `setup(work)` adds) to `bare`."""
    git = bare_repo.git
    seed = tmp_path / "seed"
    git("clone", "--quiet", str(bare), str(seed))
    from skillpm.registries.protocol import dump_config

    (seed / "config.json").write_text(dump_config())
    setup(seed)
    git("add", "--all", cwd=seed)
    git("commit", "--quiet", "-m", "seed", cwd=seed)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=seed)


def test_publish_never_follows_symlinks_committed_in_the_registry(cli, skill_tree, bare_repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    bare = bare_repo()

    def plant(seed: Path) -> None:
        (seed / "index").mkdir()
        (seed / "index" / "docker").symlink_to(outside)
        (seed / "dl").mkdir()
        (seed / "dl" / "docker").symlink_to(outside)

    _seed_registry(bare_repo, bare, tmp_path, plant)
    r = cli("publish", str(skill_tree("docker/basics", "1.0.0")), "--registry", f"git+{bare.as_uri()}", rc=1)
    assert r.err.strip()
    assert list(outside.iterdir()) == []
    assert bare_repo.git("--git-dir", str(bare), "log", "--format=%s", "main").split("\n")[0] == "seed"


def test_publish_runs_no_filter_driver_the_registry_names(cli, cli_env, skill_tree, bare_repo, tmp_path):
    """The registry's .gitattributes may name a filter the user has configured: it never runs."""
    bare = bare_repo()
    proof = tmp_path / "ran"
    _seed_registry(bare_repo, bare, tmp_path, lambda seed: (seed / ".gitattributes").write_text("* filter=evil\n"))
    Path(cli_env["GIT_CONFIG_GLOBAL"]).write_text(
        f'[filter "evil"]\n\tsmudge = "touch {proof}; cat"\n\tclean = "touch {proof}; cat"\n'
    )
    cli("publish", str(skill_tree("docker/basics", "1.0.0")), "--registry", f"git+{bare.as_uri()}")
    assert not proof.exists()
