"""skillpm: a package manager for agent skills.

Keep this module import-free: `skillpm --help` must start fast.
"""

__version__ = "0.1.0"
