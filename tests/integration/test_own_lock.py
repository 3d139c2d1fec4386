"""This repository uses its own skills: its skills.lock is skillpm's output, and current."""

from __future__ import annotations

import shutil

from tests.integration.conftest import REPO_ROOT


def test_repository_lock_is_what_skillpm_writes(cli, tmp_path):
    project = tmp_path / "copy"
    project.mkdir()
    shutil.copy(REPO_ROOT / "skills.toml", project / "skills.toml")
    cli("lock", cwd=project)
    assert (project / "skills.lock").read_text() == (REPO_ROOT / "skills.lock").read_text(), (
        "skills.lock is stale: a skill under skills/ changed; bump its metadata.version and run `skillpm lock`"
    )


def test_repository_skills_install_frozen_and_verify(cli, tmp_path):
    project = tmp_path / "copy"
    project.mkdir()
    for name in ("skills.toml", "skills.lock"):
        shutil.copy(REPO_ROOT / name, project / name)
    cli("install", "--frozen", cwd=project)
    assert "verified" in cli("verify", cwd=project).out
