"""Registry tokens: `skillpm login` stores them, requests to their registry use them.

Where a token comes from, first match wins:

1. the environment variable `SKILLPM_TOKEN_<NAME>`, NAME being the registry's
   name in `[registries]` upper-cased with `-` turned into `_`
   (`SKILLPM_TOKEN_TEAM` for `team = "https://…"`; `SKILLPM_TOKEN_DEFAULT`
   when `default` is itself a URL);
2. `credentials.toml` in the config dir, keyed by the registry's base URL:

       [registries."https://skills.example.com/"]
       token = "…"

The file is written with mode 0600 (its folder 0700). Tokens are never
printed, logged or put in URLs; the client sends one only to URLs under its
registry's base URL (see client.py).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from skillpm.errors import SkillpmError

CREDENTIALS_FILE = "credentials.toml"
_HEADER = "# skillpm registry tokens, written by `skillpm login`. Keep this file private.\n"


def credentials_path() -> Path:
    from skillpm.cache import config_dir

    return config_dir() / CREDENTIALS_FILE


def env_var(name: str) -> str:
    return "SKILLPM_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _load() -> dict:
    path = credentials_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise SkillpmError(f"{path}: cannot be read ({e.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SkillpmError(f"{path}: invalid TOML ({e})", hint="fix it, or delete it and run `skillpm login` again") from None
    regs = data.get("registries", {})
    return regs if isinstance(regs, dict) else {}


def token_for(name: str | None, base_url: str) -> str | None:
    """The token for a registry, or None."""
    if name:
        value = os.environ.get(env_var(name))
        if value and value.strip():
            return value.strip()
    entry = _load().get(base_url)
    if isinstance(entry, dict) and isinstance(entry.get("token"), str) and entry["token"].strip():
        return entry["token"].strip()
    return None


def store_token(base_url: str, token: str) -> Path:
    """Save the token for a registry base URL; returns the file written (mode 0600)."""
    import tomli_w

    from skillpm.fs import atomic_write

    token = token.strip()
    if not token or any(c.isspace() for c in token):
        raise SkillpmError("the token is empty or contains whitespace")
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    regs = _load()
    regs[base_url] = {"token": token}
    atomic_write(path, _HEADER + tomli_w.dumps({"registries": regs}), mode=0o600)
    return path


def forget_token(base_url: str) -> bool:
    import tomli_w

    from skillpm.fs import atomic_write

    regs = _load()
    if base_url not in regs:
        return False
    del regs[base_url]
    atomic_write(credentials_path(), _HEADER + tomli_w.dumps({"registries": regs}), mode=0o600)
    return True
