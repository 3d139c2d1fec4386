"""The embedded registry: the example skills that ship inside skillpm.

The wheel carries the repository's `skills/` tree as package data
(`skillpm/_embedded/skills`, see pyproject.toml); an editable install or a
source checkout uses the repository's `skills/` directly. On first use the tree
is built into a folder registry under

    cache_dir()/embedded/<hash of the bundled files>/

(one build per distinct set of bundled files, under a file lock, renamed into
place when complete), so a project with no `[registries]` can
`skillpm add docker/basics` fully offline.

Its lock source is `registry+embedded` on every machine, never a cache path.
Because each machine builds its own archives, releases from it carry no
`checksum` (gzip output may differ between zlib versions); the tree digest
(`integrity`) pins their content.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from skillpm.errors import SkillpmError


def embedded_root() -> Path:
    """The bundled skill tree: package data, else the source checkout's skills/."""
    here = Path(__file__).resolve().parent.parent  # .../skillpm
    packaged = here / "_embedded" / "skills"
    if packaged.is_dir():
        return packaged
    checkout = here.parent / "skills"
    if checkout.is_dir():
        return checkout
    raise SkillpmError(
        "this skillpm was installed without its embedded skills",
        hint='configure a registry: [registries] default = "https://…" in skills.toml',
    )


def bundle_hash(root: Path) -> str:
    """A digest of every file of every bundled skill: path, exec bit and bytes."""
    from skillpm.registries.publish import find_skills

    h = hashlib.sha256(b"skillpm-embedded-1\0")
    for folder in find_skills(root):
        rel_folder = folder.relative_to(root).as_posix()
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(root).as_posix()
            if ".git" in rel.split("/"):
                continue
            mode = os.stat(path).st_mode
            h.update(rel.encode() + b"\0" + (b"x" if mode & 0o111 else b"-") + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
        h.update(rel_folder.encode() + b"\n")
    return h.hexdigest()[:24]


def ensure_built() -> Path:
    """The embedded registry folder, built on first use."""
    from skillpm.cache import cache_dir
    from skillpm.fs import file_lock
    from skillpm.registries.publish import build_registry

    tree = embedded_root()
    target = cache_dir() / "embedded" / bundle_hash(tree)
    if (target / "config.json").is_file():
        return target
    with file_lock(cache_dir() / "embedded" / "build.lock", what="the embedded registry"):
        if (target / "config.json").is_file():
            return target
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        try:
            build_registry(tree, tmp, lock=False)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target
