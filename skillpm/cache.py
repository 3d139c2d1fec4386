"""Where skillpm keeps what it downloads: one cache per user.

`SKILLPM_CACHE_DIR` overrides the platform's cache dir (platformdirs).
Layout:  git/<mirror>/  (bare mirrors, one per remote)
         registry/<host>/index/…  (index files with their ETags)
         archives/sha256/<hex>.tar.gz
         backups/  (skills replaced with --force)
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


def cache_dir() -> Path:
    override = os.environ.get("SKILLPM_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("skillpm", appauthor=False))


#: What `skillpm cache clean` keeps: backups of skills replaced with --force (they
#: are not downloads and cannot be fetched again) and the lock files other runs hold.
KEPT_BY_CLEAN = ("backups", "locks")


def clean_cache() -> int:
    """Remove every download from the cache; returns how many top-level items went."""
    import shutil

    folder = cache_dir()
    if not folder.is_dir():
        return 0
    removed = 0
    for child in folder.iterdir():
        if child.name in KEPT_BY_CLEAN:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
        removed += 1
    return removed


def config_dir() -> Path:
    """The user's config dir: tokens, global manifest. `SKILLPM_CONFIG_DIR` overrides."""
    override = os.environ.get("SKILLPM_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("skillpm", appauthor=False))


def slug(text: str) -> str:
    """A readable, collision-free folder name for a URL or other key."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", text.split("://", 1)[-1]).strip("-.")[:60]
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{readable}-{digest}" if readable else digest


def new_backup_dir(label: str = "") -> Path:
    """A new, empty folder under `<cache dir>/backups/`, named by the time: where
    `--force` keeps what it replaces or deletes (install dir and agent folders alike)."""
    import tempfile
    import time

    root = cache_dir() / "backups"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S") + (f"-{label}-" if label else "-"), dir=root))
