r"""The location engine shared by the median, cost and min-area objectives.

Each objective states what it minimizes as a :class:`LocationSpec` (the cost
of serving a demand point from a site, of opening a site, of each m², and the
share of demand to serve) and hands it to :func:`solve_location`:

1. pre-checks name conflicting constraints with their numbers;
2. uncapacitated, every demand point served: a greedy plan improved by vertex
   substitution (best add, drop or swap until none improves: Teitz and Bart
   1968, with the fast evaluation of Whitaker 1983 and Resende and Werneck
   2007); a Lagrangian bound (assignment rows relaxed, subgradient ascent,
   Beasley 1993) whose reduced costs fix sites and cut cost levels that cannot
   be part of a better plan, its site sets restarting the substitution; then,
   when only the count range, existing and forbidden sites constrain the
   sites, a depth-first branch and bound on the sites with a Lagrangian bound
   at every node, which usually proves the plan optimal;
3. capacitated, demand split, every demand point served: a Lagrangian bound
   with one continuous knapsack per site, plans from its site sets with the
   demand assigned by a transportation LP, a drop search, a MIP restricted to
   the sites of least reduced cost, and site fixing;
4. a mixed-integer program on what is left, gathered as arrays and solved by
   HiGHS through OR-Tools MathOpt (:mod:`hzlogistics.solvers.mip`),
   warm-started from the best plan known (not built when it is too large for
   the time left);
5. uncapacitated, every demand point served, too large for step 2 but split
   into connected components (the countries, without cross-border delivery)
   that only the site counts tie together: a sparse Lagrangian bound over every
   pair (:mod:`hzlogistics.solvers.lagrange`) bounds the whole and sets the
   number of sites of each component, step 2 solves each component for it, and
   sites then move between components while that lowers the total.

Uncapacitated problems use the radius formulation (Elloumi 2010; García,
Labbé and Marín 2011): one variable per distinct cost level of each demand
point instead of one per site and demand point; its LP relaxation is as strong
as the classic one. The others use the classic strong formulation
(:math:`x_{ij} \le y_i`). HiGHS runs through MathOpt on its own threads setting
(``SolveOptions.workers`` is not passed on); a stop event returns the best
plan known at once.

Modules, each one concern:

=================  =============================================================
``state``          what the steps hand each other (spec, plan, start), shared checks
``pairs``          the (site, demand point) pairs and their costs
``diagnose``       why there is no plan, in words with numbers
``uncapacitated``  Lagrangian bound, fixing, branch and bound (step 2)
``capacitated``    knapsack Lagrangian, transport plans, greedy and spill plans (step 3)
``formulation``    the MIP of the location problem and its solve (step 4)
``components``     the split into components tied by the counts (step 5)
``engine``         :func:`solve_location`, which chains the steps
``orlib``          OR-Library instances as siting problems
=================  =============================================================
"""

from __future__ import annotations

from hzlogistics.models.location.engine import solve_location
from hzlogistics.models.location.pairs import cover_pairs, pair_costs
from hzlogistics.models.location.state import LocationPlan, LocationSpec, validate_location

__all__ = ["LocationPlan", "LocationSpec", "cover_pairs", "pair_costs", "solve_location",
           "validate_location"]
