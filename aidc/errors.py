"""User-facing errors: each becomes exit code 2 with its problems listed, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable

from components.spec import Problem, SpecError

__all__ = ["Problem", "SpecError", "UserError"]


class UserError(Exception):
    """Bad input to a command (unknown stack, unreadable file, ...)."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()):
        self.problems = list(problems)
        super().__init__(message)
