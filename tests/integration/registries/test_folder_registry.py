"""A plain-folder registry through the CLI: publish, add, lock, frozen install, yank, search, info."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def use_registry(project: Path, location: str, name: str = "main") -> None:
    with open(project / "skills.toml", "a") as f:
        f.write(f'\n[registries]\ndefault = "{name}"\n{name} = "{location}"\n')


def publish_set(cli, skill_tree, reg: Path) -> None:
    """app/web 1.0.0 and 1.1.0 -> lib/http ^1 -> lib/core; lib/http 1.0.0, 1.2.0, 2.0.0."""
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        cli("publish", str(skill_tree("lib/core", version)), "--registry", str(reg))
    for version in ("1.0.0", "1.2.0"):
        cli("publish", str(skill_tree("lib/http", version, deps=["lib/core@^1.0"])), "--registry", str(reg))
    cli("publish", str(skill_tree("lib/http", "2.0.0", deps=["lib/core@^2.0"])), "--registry", str(reg))
    for version in ("1.0.0", "1.1.0"):
        cli("publish", str(skill_tree("app/web", version, deps=["lib/http@^1.0"])), "--registry", str(reg))


def test_publish_add_lock_frozen_verify(cli, cli_env, project, skill_tree, tmp_path):
    reg = tmp_path / "reg"
    publish_set(cli, skill_tree, reg)
    assert json.loads((reg / "config.json").read_text()) == {"skillpm-registry": 1, "dl": "dl/{name}/{version}.tar.gz"}
    lines = [json.loads(ln) for ln in (reg / "index" / "lib" / "http").read_text().splitlines()]
    assert [ln["vers"] for ln in lines] == ["1.0.0", "1.2.0", "2.0.0"]
    assert lines[0]["deps"] == {"lib/core": "^1.0"} and lines[0]["yanked"] is False
    assert lines[0]["cksum"].startswith("sha256:") and lines[0]["integrity"].startswith("sha256:")

    use_registry(project, reg.as_posix())
    r = cli("add", "app/web@~1.0", cwd=project)
    assert "3 added." in r.err
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    assert {n: s["version"] for n, s in lock.items()} == {"app/web": "1.0.0", "lib/http": "1.2.0", "lib/core": "1.1.0"}
    assert {s["source"] for s in lock.values()} == {"registry+" + reg.resolve().as_uri() + "/"}
    assert lock["lib/http"]["checksum"] == lines[1]["cksum"] and lock["lib/http"]["integrity"] == lines[1]["integrity"]
    assert lock["app/web"]["dependencies"] == ["lib/http"]
    assert sorted(p.name for p in (project / ".agents/skills").iterdir() if not p.name.startswith(".")) == ["core", "http", "web"]
    assert cli("verify", cwd=project).rc == 0
    assert tomllib.loads((project / "skills.toml").read_text())["skills"] == {"app/web": "~1.0"}

    # another checkout installs exactly the lock
    other = tmp_path / "other"
    other.mkdir()
    for name in ("skills.toml", "skills.lock"):
        shutil.copy(project / name, other / name)
    cli_env["SKILLPM_CACHE_DIR"] = str(tmp_path / "cache2")
    cli("install", "--frozen", cwd=other)
    assert cli("verify", cwd=other).rc == 0
    assert (other / "skills.lock").read_bytes() == (project / "skills.lock").read_bytes()


def test_republishing_a_version_is_refused(cli, skill_tree, tmp_path):
    reg = tmp_path / "reg"
    folder = skill_tree("lib/core", "1.0.0")
    cli("publish", str(folder), "--registry", str(reg))
    before = (reg / "index" / "lib" / "core").read_bytes()
    (folder / "references" / "guide.md").write_text("changed\n")
    r = cli("publish", str(folder), "--registry", str(reg), rc=1)
    assert "lib/core 1.0.0 is already published" in r.err and "never overwritten" in r.err
    assert r.err.count("\n") == 1
    assert (reg / "index" / "lib" / "core").read_bytes() == before


def test_publish_reports_every_problem_as_path_field_message(cli, make_skill, tmp_path):
    folder = make_skill("bad-skill", version=None, extra_frontmatter={"author": "me"})
    r = cli("publish", str(folder), "--registry", str(tmp_path / "reg"), "--id", "x/bad-skill", rc=1)
    lines = r.err.strip().splitlines()
    assert any(ln.startswith(f"{folder}/SKILL.md: metadata.version:") for ln in lines), r.err
    assert any(ln.startswith(f"{folder}/SKILL.md: author:") for ln in lines), r.err
    assert lines[-1].startswith("error: ") and "not publishable (2 problems)" in lines[-1]
    assert not (tmp_path / "reg").exists()


def test_publish_id_rules(cli, make_skill, tmp_path):
    reg = tmp_path / "reg"
    loose = make_skill("loose", parent=tmp_path / "elsewhere")
    r = cli("publish", str(loose), "--registry", str(reg), rc=1)
    assert "no registry id" in r.err and "--id" in r.err
    r = cli("publish", str(loose), "--registry", str(reg), "--id", "team/other-name", rc=1)
    assert "must end with the skill's name 'loose'" in r.err
    cli("publish", str(loose), "--registry", str(reg), "--id", "team/loose")
    declared = make_skill("declared", parent=tmp_path / "x", sidecar={"skill_id": "acme/declared"})
    cli("publish", str(declared), "--registry", str(reg))
    assert (reg / "index" / "acme" / "declared").is_file()


def test_yank_is_never_chosen_fresh_but_kept_when_locked(cli, project, skill_tree, tmp_path):
    reg = tmp_path / "reg"
    publish_set(cli, skill_tree, reg)
    use_registry(project, reg.as_posix())
    cli("add", "lib/core@^1.0", cwd=project)
    assert lock_of(project)["skill"][0]["version"] == "1.1.0"

    r = cli("yank", "lib/core@1.1.0", "--registry", str(reg))
    assert "yanked lib/core 1.1.0" in r.out
    assert json.loads((reg / "index" / "lib" / "core").read_text().splitlines()[1])["yanked"] is True
    r = cli("yank", "lib/core@1.1.0", "--registry", str(reg))
    assert "already yanked" in r.out

    # the locked project keeps it, even when installing from scratch
    shutil.rmtree(project / ".agents" / "skills" / "core")
    cli("install", "--frozen", cwd=project)
    assert lock_of(project)["skill"][0]["version"] == "1.1.0"
    cli("lock", cwd=project)
    assert lock_of(project)["skill"][0]["version"] == "1.1.0"  # re-resolving keeps a locked yanked version
    cli("update", cwd=project)
    assert lock_of(project)["skill"][0]["version"] == "1.0.0"  # an explicit update moves off it

    # a fresh project never picks it
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    cli("init", cwd=fresh)
    use_registry(fresh, reg.as_posix())
    cli("add", "lib/core@^1.0", cwd=fresh)
    assert lock_of(fresh)["skill"][0]["version"] == "1.0.0"
    r = cli("add", "lib/core@~1.1", cwd=fresh, rc=1)
    assert "yanked" in r.err

    r = cli("info", "lib/core", "--registry", str(reg))
    assert "1.1.0  (yanked)" in r.out and "install: skillpm add lib/core@^2.0.0" in r.out
    cli("yank", "lib/core@1.1.0", "--undo", "--registry", str(reg))
    assert json.loads((reg / "index" / "lib" / "core").read_text().splitlines()[1])["yanked"] is False


def test_search_and_info(cli, skill_tree, tmp_path):
    reg = tmp_path / "reg"
    publish_set(cli, skill_tree, reg)
    r = cli("search", "http", "--registry", str(reg))
    assert r.out.splitlines()[0].startswith("lib/http") and "2.0.0" in r.out
    r = cli("search", "lib", "--registry", str(reg), "--json")
    hits = json.loads(r.out)
    assert [h["name"] for h in hits] == ["lib/core", "lib/http"]
    assert hits[1] == {"name": "lib/http", "version": "2.0.0", "description": "Test skill http. Use when testing skillpm."}
    r = cli("search", "nothing-like-this", "--registry", str(reg))
    assert "No skills match" in r.err
    r = cli("info", "lib/http", "--registry", str(reg), "--json")
    info = json.loads(r.out)
    assert info["latest"] == "2.0.0"
    assert [v["version"] for v in info["versions"]] == ["2.0.0", "1.2.0", "1.0.0"]
    assert info["versions"][0]["dependencies"] == ["lib/core@^2.0"]
    r = cli("info", "lib/nope", "--registry", str(reg), rc=1)
    assert "lib/nope is not in" in r.err


def test_publish_all_then_again_skips_unchanged(cli, skill_tree, tmp_path):
    skill_tree("a/one")
    skill_tree("a/two", deps=["a/one"])
    reg = tmp_path / "reg"
    r = cli("publish", "--all", str(skill_tree.base), "--registry", str(reg))
    assert "published a/one 1.0.0" in r.out and "published a/two 1.0.0" in r.out
    r = cli("publish", "--all", str(skill_tree.base), "--registry", str(reg))
    assert r.out == "" and r.err.count("unchanged") == 2


def test_changing_the_default_registry_is_lock_drift(cli, project, skill_tree, tmp_path):
    one, two = tmp_path / "reg-one", tmp_path / "reg-two"
    for reg in (one, two):
        cli("publish", str(skill_tree("lib/core", "1.0.0")), "--registry", str(reg))
    use_registry(project, one.as_posix())
    cli("add", "lib/core", cwd=project)
    assert lock_of(project)["skill"][0]["source"] == f"registry+{one.as_uri()}/"
    manifest = project / "skills.toml"
    manifest.write_text(manifest.read_text().replace(one.as_posix(), two.as_posix()))
    r = cli("install", "--frozen", cwd=project, rc=1)
    assert "out of date" in r.err and "lib/core" in r.err
    cli("install", cwd=project)
    assert lock_of(project)["skill"][0]["source"] == f"registry+{two.as_uri()}/"
