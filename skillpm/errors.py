"""User-facing errors.

Every failure a user can cause or fix is a SkillpmError: the CLI prints its
message as one line on stderr (what, where, how to fix) and exits with its
exit code, never a traceback unless --debug.
"""

from __future__ import annotations


class SkillpmError(Exception):
    """A failure with a message meant for the user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(SkillpmError):
    """The command line itself is wrong (exit 2)."""

    exit_code = 2


class ManifestError(SkillpmError):
    """skills.toml (or [tool.skillpm]) is malformed."""


class LockfileError(SkillpmError):
    """skills.lock is malformed, conflicted or out of date."""


class SkillFormatError(SkillpmError):
    """A skill folder or its SKILL.md is invalid."""


class UnsafePathError(SkillpmError):
    """A skill or archive holds a link, a device, an absolute path or `..`."""


class IntegrityError(SkillpmError):
    """Bytes on disk or from a source do not match the recorded digest."""


class SourceError(SkillpmError):
    """A source (path, git, registry) could not provide what was asked."""


class ResolutionError(SkillpmError):
    """Version solving failed; the message is the explanation."""


class InstallError(SkillpmError):
    """The install dir cannot be brought to the wanted state safely."""
