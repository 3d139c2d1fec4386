"""`skillpm new NAME`: a skill folder that passes `skillpm validate --strict`.

    NAME/
      SKILL.md              name, description, metadata.version "0.1.0"
      references/README.md  where longer documentation goes
      scripts/README.md     where helper scripts go
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from skillpm.errors import SkillpmError, UsageError
from skillpm.spec import ID_SEGMENT

NAME_RE = re.compile(rf"^{ID_SEGMENT}$")


def skill_md(name: str, description: str | None = None) -> str:
    title = name.replace("-", " ").capitalize()
    desc = description or f"TODO: what {name} does and when to use it. Use when the user asks to ..."
    return (
        "---\n"
        f"name: {name}\n"
        # a JSON string is a valid YAML double-quoted scalar: quotes, backslashes and
        # newlines survive exactly
        f"description: {json.dumps(desc, ensure_ascii=False)}\n"
        "metadata:\n"
        '  version: "0.1.0"\n'
        "---\n"
        "\n"
        f"# {title}\n"
        "\n"
        "## When to use\n"
        "\n"
        "Describe the situations where an agent should load this skill.\n"
        "\n"
        "## Instructions\n"
        "\n"
        "1. Step one.\n"
        "2. Step two.\n"
        "\n"
        "Longer material lives in `references/`; helper scripts in `scripts/`.\n"
    )


def check_name(name: str) -> None:
    from skillpm.skill import NAME_MAX

    if not NAME_RE.match(name) or len(name) > NAME_MAX:
        raise UsageError(
            f"{name!r} is not a valid skill name",
            hint="use 1-64 lowercase letters, digits and single hyphens, like pdf-tools",
        )


def new_skill(name: str, parent: Path, *, description: str | None = None) -> Path:
    """Create parent/name with a strict-valid SKILL.md; refuses an existing non-empty folder."""
    from skillpm.fs import atomic_write

    from skillpm.skill import DESCRIPTION_MAX

    check_name(name)
    if description is not None and not 1 <= len(description) <= DESCRIPTION_MAX:
        raise UsageError(f"--description is {len(description)} characters; it must be 1-{DESCRIPTION_MAX}")
    folder = parent / name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise SkillpmError(f"{folder} already exists and is not empty", hint="pick another name or --path")
    atomic_write(folder / "SKILL.md", skill_md(name, description))
    atomic_write(folder / "references" / "README.md", f"# {name} references\n\nLonger documentation the agent reads when it needs it.\n")
    atomic_write(folder / "scripts" / "README.md", f"# {name} scripts\n\nHelper scripts the skill's instructions tell the agent to run.\n")
    return folder
