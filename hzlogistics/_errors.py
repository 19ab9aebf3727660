"""The exception hierarchy of hzlogistics.

Every error the library raises on purpose derives from :class:`HzLogisticsError`,
so that a caller (and the command line) can tell a planner's mistake from a bug.
"""

from __future__ import annotations

from collections.abc import Iterable


class HzLogisticsError(Exception):
    """Base class of every error raised on purpose by hzlogistics."""


class ValidationError(HzLogisticsError, ValueError):
    """Bad input: a file, a column, a value or an option that cannot be used.

    Parameters
    ----------
    problems
        One message, or several collected in one pass; each should name the
        file, row and field concerned and say what would be valid.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        if isinstance(problems, str):
            self.problems = [problems]
        else:
            self.problems = list(problems)
        super().__init__("; ".join(self.problems) if len(self.problems) < 2 else
                         f"{len(self.problems)} problems: " + "; ".join(self.problems))


class InfeasibleError(HzLogisticsError):
    """No plan satisfies every constraint.

    Parameters
    ----------
    reasons
        The conflicting constraints, each stated with its numbers.
    """

    def __init__(self, reasons: str | Iterable[str]) -> None:
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("infeasible: " + "; ".join(self.reasons))


class SolverError(HzLogisticsError):
    """The optimization engine failed or returned something unusable."""


class MissingDependencyError(HzLogisticsError, ImportError):
    """An optional dependency is needed for this feature but not installed."""


__all__ = [
    "HzLogisticsError",
    "InfeasibleError",
    "MissingDependencyError",
    "SolverError",
    "ValidationError",
]
