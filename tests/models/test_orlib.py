"""OR-Library readers, and the published optima reached by the median and cost models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hzlogistics._errors import ValidationError
from hzlogistics.models.cost import solve_cost
from hzlogistics.models.location.orlib import orlib_problem
from hzlogistics.models.median import solve_median
from hzlogistics.orlib import (
    CAPACITY_VARIANTS,
    pmed_distance_matrix,
    read_cap,
    read_optima,
    read_pmed,
)
from hzlogistics.solvers.problem import SolveOptions

ORLIB = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks" / "orlib"

needs_data = pytest.mark.skipif(
    not (ORLIB / "optima.csv").is_file(),
    reason=f"OR-Library benchmark data not found in {ORLIB.resolve()} (see benchmarks/orlib.py)",
)


def close(found: float, published: float) -> bool:
    """Published optima have 3 decimals: compare with a relative tolerance of 1e-9."""
    return abs(found - published) <= 1e-9 * abs(published)


@pytest.fixture(scope="module")
def optima() -> dict[tuple[str, str], float]:
    return read_optima(ORLIB / "optima.csv")


# --- readers on small files written here -----------------------------------------------------


def test_distance_matrix_last_cost_wins_then_shortest_paths() -> None:
    edges = np.array([[1, 2, 10], [2, 3, 1], [3, 4, 1], [2, 1, 3], [1, 4, 9]])
    d = pmed_distance_matrix(4, edges)
    # 1-2 is 3 (the later line), 1-4 goes round via 2 and 3 (3 + 1 + 1 = 5 < 9)
    assert d[0, 1] == 3.0 and d[1, 0] == 3.0
    assert d[0, 3] == 5.0
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_read_pmed_small_file(tmp_path: Path) -> None:
    f = tmp_path / "toy.txt"
    f.write_text(" 3 3 2\n 1 2 4\n 2 3 5\n 1 2 1\n")
    inst = read_pmed(f)
    assert inst.kind == "pmedian" and inst.p == 2
    assert inst.cost.tolist() == [[0, 1, 6], [1, 0, 5], [6, 5, 0]]
    p = orlib_problem(inst)
    assert p.count_min == 2 and p.count_max == 2
    assert p.cover.nnz == 9
    # the zero diagonal is kept as stored entries of assign_cost
    assert p.assign_cost.nnz == 9 and p.assign_cost.toarray().tolist() == inst.cost.tolist()


def test_read_pmed_rejects_short_and_bad_files(tmp_path: Path) -> None:
    f = tmp_path / "short.txt"
    f.write_text("3 3 2\n1 2 4\n2 3 5\n")
    with pytest.raises(ValidationError, match="announces 3 edges"):
        read_pmed(f)
    g = tmp_path / "range.txt"
    g.write_text("3 1 1\n1 7 4\n")
    with pytest.raises(ValidationError, match="outside 1..3"):
        read_pmed(g)
    h = tmp_path / "disc.txt"
    h.write_text("3 1 1\n1 2 4\n")
    with pytest.raises(ValidationError, match="not connected"):
        read_pmed(h)


def test_read_cap_small_file_and_capacity_word(tmp_path: Path) -> None:
    f = tmp_path / "capx.txt"
    # 2 warehouses, 3 customers; the cost rows wrap over lines
    f.write_text("2 3\ncapacity 10.5\ncapacity 20\n4 1.5\n 2.5\n6 3 4\n1\n7 8\n")
    with pytest.raises(ValidationError, match="pass capacity="):
        read_cap(f)
    inst = read_cap(f, capacity=9)
    assert inst.name == "capx9" and inst.kind == "cflp"
    assert inst.demand.tolist() == [4, 6, 1]
    assert inst.cost.tolist() == [[1.5, 3, 7], [2.5, 4, 8]]
    assert orlib_problem(inst).site_capacity.tolist() == [9, 9]
    assert orlib_problem(inst).fixed_cost_usd_year.tolist() == [10.5, 20]
    unc = read_cap(f, uncapacitated=True)
    assert unc.kind == "uflp" and orlib_problem(unc).site_capacity is None


def test_read_cap_token_count(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("2 3\n5 1\n5 1\n4 1 2\n")
    with pytest.raises(ValidationError, match=r"expected 2 \+ 2m \+ n\(1\+m\) = 15"):
        read_cap(f)


# --- the published files ---------------------------------------------------------------------


@needs_data
def test_read_published_files(optima: dict[tuple[str, str], float]) -> None:
    assert len(optima) == 104
    assert optima[("pmedian", "pmed1")] == 5819
    assert optima[("uflp", "capa")] == pytest.approx(17156454.478)
    p1 = read_pmed(ORLIB / "pmed" / "pmed1.txt")
    assert p1.cost.shape == (100, 100) and p1.p == 5
    c41 = read_cap(ORLIB / "cap" / "cap41.txt")
    assert c41.cost.shape == (16, 50)
    assert np.all(c41.capacity == 5000)
    # every warehouse costs 7500 to open but the eleventh, which is free
    assert c41.fixed_cost[10] == 0 and np.all(np.delete(c41.fixed_cost, 10) == 7500)
    assert c41.demand.sum() == 58268  # the README: 58268 = total demand
    assert set(CAPACITY_VARIANTS) == {"capa", "capb", "capc"}


@needs_data
@pytest.mark.parametrize("name", [f"pmed{i}" for i in range(1, 11)])
def test_pmedian_published_optimum(name: str, optima: dict[tuple[str, str], float]) -> None:
    inst = read_pmed(ORLIB / "pmed" / f"{name}.txt")
    res = solve_median(orlib_problem(inst), SolveOptions(time_limit_s=120, gap=0))
    assert res.status == "optimal"
    assert res.objective == optima[("pmedian", name)]
    assert res.bound == res.objective
    assert int(res.open.sum()) == inst.p
    # the plan's value from its own assignment, with the published distance matrix
    open_ = np.flatnonzero(res.open)
    assert inst.cost[open_].min(axis=0).sum() == res.objective


CAP_FAST = [f"cap{g}{k}" for g in (4, 6, 7) for k in (1, 2, 3, 4)] + ["cap51"]


@needs_data
@pytest.mark.parametrize("name", CAP_FAST)
def test_cflp_published_optimum(name: str, optima: dict[tuple[str, str], float]) -> None:
    inst = read_cap(ORLIB / "cap" / f"{name}.txt")
    res = solve_cost(orlib_problem(inst), SolveOptions(time_limit_s=120, gap=0))
    assert res.status == "optimal"
    assert close(res.objective, optima[("cflp", name)])
    assert res.bound <= res.objective + 1e-6
    served = res.served.toarray()
    # all demand served, capacities respected, nothing served from a closed warehouse
    assert np.allclose(served.sum(axis=0), inst.demand)
    assert np.all(served.sum(axis=1) <= inst.capacity * res.open + 1e-6)
    value = inst.fixed_cost @ res.open + np.sum(inst.cost * served / inst.demand)
    assert close(value, res.objective)


@needs_data
@pytest.mark.parametrize("name", ["cap71", "cap101", "cap131", "cap134"])
def test_uflp_published_optimum(name: str, optima: dict[tuple[str, str], float]) -> None:
    inst = read_cap(ORLIB / "cap" / f"{name}.txt", uncapacitated=True)
    res = solve_cost(orlib_problem(inst), SolveOptions(time_limit_s=120, gap=0))
    assert res.status == "optimal"
    assert close(res.objective, optima[("uflp", name)])
    open_ = np.flatnonzero(res.open)
    value = inst.fixed_cost[open_].sum() + inst.cost[open_].min(axis=0).sum()
    assert close(value, res.objective)
