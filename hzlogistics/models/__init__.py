"""Optimization models: each turns plain arrays into an OR-Tools model and a plan.

Models see only numpy arrays, scipy sparse matrices and the dataclasses of
:mod:`hzlogistics.solvers.problem`; never GeoDataFrames.

=============  ==========================================================
objective      question it answers
=============  ==========================================================
``coverage``   most demand served within the service level (default)
``median``     fastest average delivery with every point served
``cost``       cheapest network (rent + fixed + delivery) serving all
``min-area``   least floor area (or fewest sites) serving a share
``landed``     cheapest cost from Hangzhou to the buyer (sea, port,
               drayage, rent, fixed, last mile)
=============  ==========================================================
"""

from __future__ import annotations

from typing import Any

from hzlogistics._errors import ValidationError
from hzlogistics.settings import OBJECTIVES
from hzlogistics.solvers.problem import (
    Objective,
    SitingProblem,
    SolveOptions,
    SolveResult,
    relative_gap,
)


def solve(
    problem: SitingProblem,
    objective: str = "coverage",
    options: SolveOptions | None = None,
    **kwargs: Any,
) -> SolveResult:
    """Solve ``problem`` for ``objective``.

    Parameters
    ----------
    problem
        The siting problem as arrays.
    objective
        One of ``coverage``, ``median``, ``cost``, ``min-area``, ``landed``.
    options
        Limits and seed; defaults from :mod:`hzlogistics.settings`.
    **kwargs
        Passed to the model (e.g. ``required_share`` for ``min-area``,
        ``assignment`` for ``cost``; ``inbound`` (required), ``rates``,
        ``distance_km`` and ``assignment`` for ``landed``, see
        :func:`hzlogistics.models.landed.solve_landed`).

    Returns
    -------
    SolveResult

    Raises
    ------
    ValidationError
        For an unknown objective, or ``landed`` without ``inbound``.
    """
    options = options or SolveOptions()
    if objective == "coverage":
        from hzlogistics.models.coverage import solve_coverage

        return solve_coverage(problem, options, **kwargs)
    if objective == "median":
        from hzlogistics.models.median import solve_median

        return solve_median(problem, options, **kwargs)
    if objective == "cost":
        from hzlogistics.models.cost import solve_cost

        return solve_cost(problem, options, **kwargs)
    if objective == "min-area":
        from hzlogistics.models.min_area import solve_min_area

        return solve_min_area(problem, options, **kwargs)
    if objective == "landed":
        from hzlogistics.models.landed import solve_landed

        inbound = kwargs.pop("inbound", None)
        if inbound is None:
            raise ValidationError("the landed objective needs inbound=, each site's port of "
                                  "entry (hzlogistics.models.landed.inbound_from_frames)")
        return solve_landed(problem, inbound, kwargs.pop("rates", None), options, **kwargs)
    import difflib

    close = difflib.get_close_matches(str(objective), OBJECTIVES, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValidationError(
        f"unknown objective '{objective}'{hint}; valid: {', '.join(OBJECTIVES)}"
    )


__all__ = [
    "OBJECTIVES",
    "Objective",
    "SitingProblem",
    "SolveOptions",
    "SolveResult",
    "relative_gap",
    "solve",
]
