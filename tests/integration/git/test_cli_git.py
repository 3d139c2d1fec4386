"""End to end through the real CLI with git sources (a subprocess per command)."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

from skillpm.digest import tree_digest

SECRET = "cl1-Secret-4471"


def lock_of(root: Path) -> dict:
    return tomllib.loads((root / "skills.lock").read_text())


def test_add_install_offline_and_moved_tag(cli, project, monorepo, tmp_path):
    mono = monorepo(n_skills=3, convention="plugin")
    cli("add", f"{mono.url}#path=skills/skill-02", cwd=project)
    lock = {s["name"]: s for s in lock_of(project)["skill"]}
    # skill-02 depends on skill-01 of the same monorepo
    assert set(lock) == {"skill-01", "skill-02"}
    entry = lock["skill-02"]
    assert entry["source"] == f"git+{mono.url}"
    assert (entry["path"], entry["tag"], entry["version"]) == ("skills/skill-02", "skill-02--v1.1.0", "1.1.0")
    assert entry["commit"] == mono.repo.rev("skill-02--v1.1.0^{commit}")
    dest = project / ".agents/skills/skill-02"
    assert entry["integrity"] == tree_digest(dest) == mono.repo.blob_digest("HEAD", "skills/skill-02")
    assert os.access(dest / "scripts/run.sh", os.X_OK)

    # the remote goes away: --offline reinstalls from the cache
    shutil.rmtree(project / ".agents/skills/skill-02")
    away = tmp_path / "away"
    shutil.move(mono.repo.path, away)
    cli("install", "--offline", cwd=project)
    assert tree_digest(dest) == entry["integrity"]
    shutil.move(away, mono.repo.path)

    # someone moves the tag: installing from the lock refuses
    mono.repo.write("skills/skill-02/extra.md", "surprise\n")
    mono.repo.commit()
    mono.repo.tag("skill-02--v1.1.0", force=True)
    shutil.rmtree(project / ".agents/skills/skill-02")
    r = cli("install", cwd=project, rc=None)
    assert r.rc != 0
    assert "tag moved: skill-02--v1.1.0" in r.err and "skillpm update skill-02" in r.err


def test_credentials_stay_out_of_lock_and_output(cli, project, monorepo, git_http):
    mono = monorepo(n_skills=2)
    server = git_http(user="deploy", password=SECRET)
    url = server.serve(mono.repo, user="deploy", password=SECRET)
    r = cli("add", f"{url}#path=skills/skill-01", cwd=project)
    assert SECRET not in r.out + r.err
    lock_text = (project / "skills.lock").read_text()
    assert SECRET not in lock_text and f"git+{url.replace(f'deploy:{SECRET}@', '')}" in lock_text
    cache = project.parent / "cache"
    assert cache.is_dir()
    for root, dirs, files in os.walk(cache):
        assert not any(SECRET in n for n in dirs + files)
        for f in files:
            assert SECRET.encode() not in (Path(root) / f).read_bytes()
