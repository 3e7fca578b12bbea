"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """Bad input: names the problem and how to fix it."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}" + (f" — {fix}" if fix else ""))


class ConfigError(UserError):
    """A config key or value is unknown or invalid."""


class DataError(UserError):
    """A dataset is missing, unreadable or malformed."""


class CheckpointError(UserError):
    """A checkpoint is missing, corrupt, foreign or from another architecture."""


class RunDirError(UserError):
    """A run directory is missing, locked, or already exists."""
