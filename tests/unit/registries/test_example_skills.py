"""The example skill set in skills/: valid, self-contained, and immutable per version.

The set ships inside skillpm as the embedded registry, so each (id, version)
is effectively published with every release: projects lock its tree digest.
Changing a skill's files without bumping metadata.version would break their
`skillpm install --frozen`. PUBLISHED pins the digests; when you change a
skill, bump its version and add the new line here.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from skillpm.digest import tree_digest
from skillpm.registries.protocol import specs_to_deps
from skillpm.registries.publish import derive_id, find_skills
from skillpm.skill import read_skill
from skillpm.spec import RegistrySpec, parse_spec

SKILLS = Path(__file__).resolve().parents[3] / "skills"

PUBLISHED = {
    ("docker/basics", "1.0.0"): "sha256:ff6594306bd3d73080f121ebc05e3124de60d1d9d61897a40805552cc3ca45c6",
    ("docker/docker-python-best-practices", "1.0.0"): "sha256:3683a7ab1245efbaba497e00052d26c862d05b916655a2bb3cff791134a97b01",
    ("python/package-management", "1.0.0"): "sha256:61c17cfb95bf9d76866fc4839e0e4a4454d8ab63794f0cbe5447a3075496d948",
    ("python/pytest-patterns", "1.0.0"): "sha256:e45bb3a0cfab9ae6c9ac845c1629a03b63059c0b367036e487b232ba8f771133",
    ("skillpm/skillpm", "1.0.0"): "sha256:f3105e3acfb715c803adb592ab74cf8218d3cde984f70878cea40bc54b6c2635",
}

FOLDERS = find_skills(SKILLS)


def ident(folder: Path) -> str:
    return folder.relative_to(SKILLS).as_posix()


def test_the_required_skills_are_there():
    assert {ident(f) for f in FOLDERS} >= {i for i, _ in PUBLISHED}


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_strictly_valid_with_version_references_and_a_derivable_id(folder):
    info, problems = read_skill(folder, strict=True)
    assert info is not None and not problems, [str(p) for p in problems]
    assert info.version and "dependencies" in info.metadata  # both declared, even when empty
    assert derive_id(folder, info) == ident(folder)
    refs = list((folder / "references").glob("*"))
    assert refs and all(p.stat().st_size > 500 for p in refs)
    assert len(info.body) > 2000  # substantive, not a stub
    for script in (folder / "scripts").glob("*") if (folder / "scripts").is_dir() else ():
        assert os.stat(script).st_mode & stat.S_IXUSR, f"{script} must be executable"
        assert script.read_text().startswith("#!"), f"{script} needs a shebang"


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_dependencies_stay_inside_the_set(folder):
    info, _ = read_skill(folder, strict=True)
    known = {ident(f): read_skill(f, strict=True)[0].version for f in FOLDERS}
    specs_to_deps(info.dependencies)  # publishable
    from skillpm.semver import Range, Version

    for text in info.dependencies:
        spec = parse_spec(text)
        assert isinstance(spec, RegistrySpec) and spec.registry is None, text
        assert spec.id in known, f"{text}: not in skills/"
        assert Range.parse(spec.range or "*").allows(Version.parse(known[spec.id])), text


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_a_version_once_shipped_never_changes(folder):
    info, _ = read_skill(folder, strict=True)
    key = (ident(folder), info.version)
    assert key in PUBLISHED, f"{key}: new version: add its digest {tree_digest(folder)} to PUBLISHED"
    assert tree_digest(folder) == PUBLISHED[key], (
        f"{key[0]} {key[1]} changed after it shipped: bump metadata.version in its SKILL.md "
        "(locks pin the digest of every shipped version)"
    )


def test_the_main_skill_depends_on_basics_and_package_management():
    info, _ = read_skill(SKILLS / "docker" / "docker-python-best-practices", strict=True)
    assert {parse_spec(d).id for d in info.dependencies} == {"docker/basics", "python/package-management"}


def test_dockerfile_checker_passes_the_skills_own_template(tmp_path):
    import re

    text = (SKILLS / "docker" / "docker-python-best-practices" / "SKILL.md").read_text()
    template = re.search(r"```dockerfile\n(.*?)```", text, re.S).group(1)
    (tmp_path / "Dockerfile").write_text(template)
    (tmp_path / ".dockerignore").write_text((SKILLS / "docker" / "docker-python-best-practices" / "references" / "dockerignore").read_text())
    script = SKILLS / "docker" / "docker-python-best-practices" / "scripts" / "check_dockerfile.py"
    ok = subprocess.run([sys.executable, str(script), str(tmp_path / "Dockerfile")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile").write_text("FROM python:latest\nCOPY . .\nRUN pip install -r requirements.txt\nCMD python app.py\n")
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "bad" / "Dockerfile")], capture_output=True, text=True)
    assert bad.returncode == 1
    for rule in ("base-tag", "cache-order", "pip-cache", "shell-form", "no-user", "dockerignore"):
        assert f"[{rule}]" in bad.stdout


def test_pin_checker(tmp_path):
    script = SKILLS / "python" / "package-management" / "scripts" / "check_pins.py"
    (tmp_path / "req.txt").write_text("httpx==0.27.0 \\\n    --hash=sha256:abc\n# comment\nrich>=13\n-r more.txt\n")
    (tmp_path / "more.txt").write_text("pydantic==2.6.*\n")
    r = subprocess.run([sys.executable, str(script), "--hashes", str(tmp_path / "req.txt")], capture_output=True, text=True)
    assert r.returncode == 1
    assert "rich: not pinned" in r.stdout and "pydantic: not pinned" in r.stdout and "httpx" not in r.stdout
    (tmp_path / "ok.txt").write_text("httpx==0.27.0\n")
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "ok.txt")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok:")
