"""The main command: a fresh project, no registry configured, fully offline."""

from __future__ import annotations

import os
import shutil
import stat
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = ["docker/basics", "docker/docker-python-best-practices", "python/package-management", "python/pytest-patterns", "skillpm/skillpm"]


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def test_add_the_main_skill_offline_pulls_its_dependencies(cli, project):
    r = cli("add", "--offline", "docker/docker-python-best-practices", cwd=project)
    assert "3 added." in r.err
    installed = project / ".agents" / "skills"
    assert sorted(p.name for p in installed.iterdir() if not p.name.startswith(".")) == [
        "basics",
        "docker-python-best-practices",
        "package-management",
    ]
    # the files are the repository's, byte for byte, exec bits kept
    src = REPO / "skills" / "docker" / "docker-python-best-practices"
    dest = installed / "docker-python-best-practices"
    assert (dest / "SKILL.md").read_bytes() == (src / "SKILL.md").read_bytes()
    assert os.stat(dest / "scripts" / "check_dockerfile.py").st_mode & stat.S_IXUSR
    lock = lock_of(project)
    by_name = {s["name"]: s for s in lock["skill"]}
    assert set(by_name) == {"docker/docker-python-best-practices", "docker/basics", "python/package-management"}
    assert all(s["source"] == "registry+embedded" for s in lock["skill"])
    assert all("checksum" not in s for s in lock["skill"])  # machine-built archives: the digest pins them
    assert by_name["docker/docker-python-best-practices"]["dependencies"] == ["docker/basics", "python/package-management"]
    manifest = tomllib.loads((project / "skills.toml").read_text())
    assert manifest["skills"] == {"docker/docker-python-best-practices": "^1.0.0"}
    r = cli("verify", cwd=project)
    assert "verified" in r.out


def test_embedded_lock_installs_frozen_on_another_machine(cli, cli_env, project, tmp_path):
    cli("add", "--offline", "docker/docker-python-best-practices", "skillpm/skillpm", cwd=project)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("skills.toml", "skills.lock"):
        shutil.copy(project / name, other / name)
    cli_env["SKILLPM_CACHE_DIR"] = str(tmp_path / "other-cache")  # another machine: nothing cached
    cli("install", "--frozen", "--offline", cwd=other)
    assert cli("verify", cwd=other).rc == 0
    assert (other / "skills.lock").read_bytes() == (project / "skills.lock").read_bytes()


def test_search_and_info_on_the_embedded_registry(cli, project):
    r = cli("search", "docker", cwd=project)
    assert "docker/docker-python-best-practices" in r.out and "docker/basics" in r.out
    r = cli("info", "docker/docker-python-best-practices", cwd=project)
    assert "docker/basics@^1.0" in r.out and "python/package-management@^1.0" in r.out
    assert "install: skillpm add docker/docker-python-best-practices@^1.0.0" in r.out
    assert "the embedded registry" in r.out


def test_every_example_skill_is_strictly_valid_and_publishable(cli, tmp_path):
    for ident in EXAMPLES:
        r = cli("validate", "--strict", str(REPO / "skills" / ident))
        assert r.rc == 0
        r = cli("publish", "--dry-run", str(REPO / "skills" / ident), "--registry", str(tmp_path / "reg"))
        assert r.out.startswith(f"{ident} 1.0.0: ok")


def test_publish_an_example_by_path_derives_the_id(cli, tmp_path):
    reg = tmp_path / "reg"
    r = cli("publish", str(REPO / "skills" / "docker" / "basics"), "--registry", str(reg))
    assert "published docker/basics 1.0.0" in r.out
    assert (reg / "index" / "docker" / "basics").is_file()
    assert (reg / "dl" / "docker" / "basics" / "1.0.0.tar.gz").is_file()


def test_a_configured_default_replaces_the_embedded_registry(cli, project, tmp_path):
    empty = tmp_path / "empty-reg"
    cli("registry", "build", str(REPO / "skills" / "python"), str(empty))
    with open(project / "skills.toml", "a") as f:
        f.write(f'\n[registries]\ndefault = "{empty.as_posix()}"\n')
    r = cli("add", "docker/basics", cwd=project, rc=1)
    assert "docker/basics is not in" in r.err
    r = cli("add", "embedded:docker/basics", cwd=project)  # still reachable by name
    assert lock_of(project)["skill"][0]["name"] == "embedded:docker/basics"


def test_registry_build_is_deterministic(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    cli("registry", "build", str(REPO / "skills"), str(a))
    cli("registry", "build", str(REPO / "skills"), str(b))
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    # skillpm's own files (the publish lock and its .gitignore) beside the registry's
    assert [f for f in files_a if f.startswith(".skillpm/")] == [".skillpm/.gitignore", ".skillpm/publish.lock"]
    assert files_a == files_b and len(files_a) == 2 + 2 + 2 * len(EXAMPLES)
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    r = cli("registry", "build", str(REPO / "skills"), str(a))  # again into the same folder: nothing changes
    assert "0 published, 5 unchanged" in r.err
