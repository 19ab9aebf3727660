"""The landed-cost objective: ports of entry, cost components and optimum on random
instances checked by brute force and a plain MIP, and a sanity test on real data."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from hzlogistics._errors import ValidationError
from hzlogistics.models.landed import (
    COMPONENTS,
    Inbound,
    LandedRates,
    build_landed_problem,
    compute_inbound,
    landed_breakdown,
    read_sea_distances,
    solve_landed,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions

EXACT = SolveOptions(time_limit_s=30, gap=0.0)
REL = 1e-6
SEA_FILE = Path(__file__).resolve().parents[2] / "data" / "countries" / "sea_distances.csv"


# --- random instances --------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    problem: SitingProblem
    site_country: np.ndarray
    port_country: np.ndarray
    sea_km: np.ndarray
    road_km: np.ndarray
    distance_km: sp.csr_matrix


def make_case(seed: int, *, n_sites: int = 6, n_demand: int = 9, n_ports: int = 3,
              countries: tuple[str, ...] = ("DE", "NL", "US"), capacity: float | None = None,
              full_cover: bool = True) -> Case:
    """A random instance: sites and ports in a few countries, random cover and times."""
    rng = np.random.default_rng(seed)
    site_country = rng.choice(countries, n_sites)
    port_country = rng.choice(countries, n_ports)
    demand_country = rng.choice(countries, n_demand)
    cover = rng.random((n_sites, n_demand)) < 0.5
    if full_cover:
        for j in np.flatnonzero(~cover.any(axis=0)):
            cover[rng.integers(n_sites), j] = True
    hours = rng.uniform(0.1, 5.0, (n_sites, n_demand)) * cover
    km = rng.uniform(1.0, 200.0, (n_sites, n_demand)) * cover
    names = tuple(countries)
    problem = SitingProblem(
        weight=rng.integers(1, 20, n_demand).astype(float),
        cover=sp.csr_matrix(cover.astype(float)),
        travel_time_h=sp.csr_matrix(hours),
        tiers_m2=np.array([1.0]),
        area_budget_m2=None,
        rent_usd_m2_year=rng.uniform(0, 2_000, n_sites),
        fixed_cost_usd_year=rng.uniform(5_000, 60_000, n_sites),
        group=np.array([names.index(c) for c in site_country]),
        group_names=names,
        demand_group=np.array([names.index(c) for c in demand_country]),
        capacity_per_m2=capacity,
        site_ids=np.array([f"s{i}" for i in range(n_sites)], dtype=object),
    )
    sea = rng.uniform(5_000, 25_000, n_ports)
    road = rng.uniform(0, 800, (n_ports, n_sites))
    road[rng.random(road.shape) < 0.2] = np.inf
    return Case(problem, site_country, port_country, sea, road, sp.csr_matrix(km))


def rates_for(seed: int, **over: object) -> LandedRates:
    rng = np.random.default_rng(seed + 1000)
    base = dict(sea_usd_per_container_km=float(rng.uniform(0.05, 0.5)),
                parcels_per_container=float(rng.uniform(500, 3_000)),
                port_usd_per_container=float(rng.uniform(100, 1_000)),
                drayage_usd_per_container_km=float(rng.uniform(1, 4)),
                last_mile_usd_per_parcel_h=float(rng.uniform(0.2, 2.0)),
                duty_usd_per_parcel={"US": 1.5},
                cross_border_usd_per_parcel={"NL": 0.7})
    base.update(over)
    return LandedRates(**base)  # type: ignore[arg-type]


def inbound_for(case: Case, rates: LandedRates, cross_border: tuple[str, ...] = ("EU",)
                ) -> Inbound:
    return compute_inbound(case.site_country, case.port_country, case.sea_km, case.road_km,
                           rates, cross_border=cross_border, site_ids=case.problem.site_ids)


EU = {"DE", "NL"}


def allowed(port_c: str, site_c: str, cross_border: bool) -> bool:
    return port_c == site_c or (cross_border and port_c in EU and site_c in EU)


def pair_cost_per_parcel(case: Case, rates: LandedRates, inbound: Inbound, i: int, j: int
                         ) -> float:
    """Landed cost per parcel of demand point j served by site i, from the formulas."""
    p = case.problem
    tt = p.travel_time_h.toarray()[i, j] if p.travel_time_h is not None else 0.0
    lm = (rates.last_mile_usd_per_parcel_h * tt if rates.last_mile_unit == "hour"
          else rates.last_mile_usd_per_parcel_km * case.distance_km.toarray()[i, j])
    assert p.group is not None and p.demand_group is not None
    dc = p.group_names[p.demand_group[j]]
    cb = rates.cross_border_usd_per_parcel.get(dc, 0.0) if p.group[i] != p.demand_group[j] \
        else 0.0
    return float(inbound.usd_per_parcel[i] + lm + cb)


def brute_force(case: Case, rates: LandedRates, inbound: Inbound) -> float:
    """Least landed cost over every set of sites (uncapacitated, one tier)."""
    p = case.problem
    cover = p.cover.toarray() > 0
    n, m = cover.shape
    assert p.rent_usd_m2_year is not None and p.fixed_cost_usd_year is not None
    c = np.full((n, m), np.inf)
    for i, j in zip(*np.nonzero(cover), strict=True):
        if inbound.has_port[i]:
            c[i, j] = p.weight[j] * rates.days_per_year * pair_cost_per_parcel(
                case, rates, inbound, i, j)
    best = np.inf
    for k in range(1, n + 1):
        for S in itertools.combinations(range(n), k):
            serve = c[list(S)].min(axis=0)
            if np.isinf(serve).any():
                continue
            total = sum(p.fixed_cost_usd_year[i] + p.rent_usd_m2_year[i] * 1.0 for i in S)
            best = min(best, total + serve.sum())
    return float(best)


def plain_mip(case: Case, rates: LandedRates, inbound: Inbound) -> float:
    """The capacitated landed-cost problem as a plain MIP (scipy / HiGHS), one tier."""
    p = case.problem
    cover = p.cover.toarray() > 0
    n, m = cover.shape
    assert p.rent_usd_m2_year is not None and p.fixed_cost_usd_year is not None
    assert p.capacity_per_m2 is not None
    pairs = [(i, j) for i, j in zip(*np.nonzero(cover), strict=True) if inbound.has_port[i]]
    nv = n + len(pairs)
    cost = np.zeros(nv)
    cost[:n] = p.fixed_cost_usd_year + p.rent_usd_m2_year * 1.0
    for k, (i, j) in enumerate(pairs):
        cost[n + k] = p.weight[j] * rates.days_per_year * pair_cost_per_parcel(
            case, rates, inbound, i, j)
    rows = []
    lb, ub = [], []
    for j in range(m):  # every point served
        r = np.zeros(nv)
        for k, (_, jj) in enumerate(pairs):
            if jj == j:
                r[n + k] = 1
        rows.append(r)
        lb.append(1)
        ub.append(1)
    for k, (i, _) in enumerate(pairs):  # x <= y
        r = np.zeros(nv)
        r[n + k], r[i] = 1, -1
        rows.append(r)
        lb.append(-np.inf)
        ub.append(0)
    for i in range(n):  # capacity
        r = np.zeros(nv)
        for k, (ii, j) in enumerate(pairs):
            if ii == i:
                r[n + k] = p.weight[j]
        r[i] = -p.capacity_per_m2 * 1.0
        rows.append(r)
        lb.append(-np.inf)
        ub.append(0)
    integrality = np.r_[np.ones(n), np.zeros(len(pairs))]
    upper = np.ones(nv)
    upper[:n] = inbound.has_port.astype(float)
    res = milp(cost, constraints=LinearConstraint(np.array(rows), lb, ub),
               integrality=integrality, bounds=Bounds(np.zeros(nv), upper))
    return float(res.fun) if res.success else np.inf


# --- ports of entry ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("cross_border", [True, False])
def test_port_of_entry_is_the_cheapest_allowed(seed: int, cross_border: bool) -> None:
    case = make_case(seed, n_ports=5)
    rates = rates_for(seed)
    ib = inbound_for(case, rates, ("EU",) if cross_border else ())
    for i in range(case.problem.n_sites):
        own = [p for p in range(len(case.port_country))
               if allowed(case.port_country[p], case.site_country[i], cross_border)]
        options = {
            p: (rates.sea_usd_per_container_km * case.sea_km[p] + rates.port_usd_per_container
                + rates.drayage_usd_per_container_km * case.road_km[p, i])
            / rates.parcels_per_container
            for p in (own or range(len(case.port_country)))  # no own port: borrow any
            if np.isfinite(case.road_km[p, i])
        }
        if not options:
            assert ib.port[i] == -1 and not ib.has_port[i]
            assert np.isinf(ib.usd_per_parcel[i])
            continue
        best = min(options.values())
        assert ib.port[i] in options
        assert options[ib.port[i]] == pytest.approx(best, rel=1e-12)
        duty = 1.5 if case.site_country[i] == "US" else 0.0
        assert ib.usd_per_parcel[i] == pytest.approx(best + duty, rel=1e-12)
        p = ib.port[i]
        assert ib.sea_usd_per_parcel[i] == pytest.approx(
            rates.sea_usd_per_container_km * case.sea_km[p] / rates.parcels_per_container)
        assert ib.drayage_km[i] == case.road_km[p, i]


def test_pallet_drayage_converts_through_parcels_per_pallet() -> None:
    r = LandedRates(drayage_unit="pallet", drayage_usd_per_pallet_km=0.3,
                    pallets_per_container=20, parcels_per_container=1_000,
                    sea_usd_per_container_km=0.0, port_usd_per_container=0.0)
    ib = compute_inbound(["FR"], ["FR"], np.array([0.0]), np.array([[100.0]]), r)
    # 50 parcels per pallet: 0.3 USD per pallet-km / 50 × 100 km
    assert ib.drayage_usd_per_parcel[0] == pytest.approx(0.6)


def test_a_port_abroad_is_used_inside_a_group_or_where_the_country_has_none() -> None:
    r = LandedRates()
    sea, road = np.array([18_000.0, 19_000.0]), np.array([[100.0], [100.0]])
    # NL's port is cheaper, but a German site takes it only inside the EU group
    assert compute_inbound(["DE"], ["NL", "DE"], sea, road, r).port.tolist() == [1]
    assert compute_inbound(["DE"], ["NL", "DE"], sea, road, r,
                           cross_border=["EU"]).port.tolist() == [0]
    # a country without a port of its own borrows the cheapest, unless told not to
    assert compute_inbound(["CZ"], ["NL", "DE"], sea, road, r).port.tolist() == [0]
    assert compute_inbound(["CZ"], ["NL", "DE"], sea, road, r,
                           borrow_ports=False).port.tolist() == [-1]
    with pytest.raises(ValidationError, match="'XX' is unknown"):
        compute_inbound(["DE"], ["NL"], sea[:1], road[:1], r, cross_border=["XX"])


# --- cost components and optimum ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_uncapacitated_optimum_components_and_bound(seed: int) -> None:
    case = make_case(seed)
    rates = rates_for(seed)
    ib = inbound_for(case, rates)
    truth = brute_force(case, rates, ib)
    res = solve_landed(case.problem, ib, rates, EXACT)
    if not np.isfinite(truth):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(truth, rel=REL)
    assert res.bound <= truth * (1 + REL)  # the bound never cuts off the optimum
    check_breakdown(case, rates, ib, res)


@pytest.mark.parametrize("seed", range(8))
def test_capacitated_optimum_matches_a_plain_mip(seed: int) -> None:
    case = make_case(seed, capacity=40.0)
    rates = rates_for(seed)
    ib = inbound_for(case, rates)
    truth = plain_mip(case, rates, ib)
    res = solve_landed(case.problem, ib, rates, EXACT)
    if not np.isfinite(truth):
        assert res.status == "infeasible"
        return
    assert res.has_solution
    assert res.objective == pytest.approx(truth, rel=1e-5)
    assert res.bound <= truth * (1 + 1e-5)
    check_breakdown(case, rates, ib, res)
    served = np.asarray(res.served.sum(axis=1)).ravel()
    assert np.all(served <= 40.0 * res.area_m2 + 1e-6)


def check_breakdown(case: Case, rates: LandedRates, ib: Inbound, res: object) -> None:
    """Every component of the breakdown is what its formula gives on the plan."""
    from hzlogistics.solvers.problem import SolveResult

    assert isinstance(res, SolveResult)
    p = case.problem
    b = res.info["landed"]
    days = rates.days_per_year
    x = res.served.toarray()
    vol = x.sum(axis=1)
    assert p.rent_usd_m2_year is not None and p.fixed_cost_usd_year is not None
    expect = dict.fromkeys(COMPONENTS, 0.0)
    for i in np.flatnonzero(vol > 0):
        p_i = ib.port[i]
        assert p_i >= 0
        expect["sea"] += vol[i] * days * rates.sea_usd_per_container_km * case.sea_km[p_i] \
            / rates.parcels_per_container
        expect["port"] += vol[i] * days * rates.port_usd_per_container \
            / rates.parcels_per_container
        expect["drayage"] += vol[i] * days * rates.drayage_usd_per_container_km \
            * case.road_km[p_i, i] / rates.parcels_per_container
        expect["duty"] += vol[i] * days * (1.5 if case.site_country[i] == "US" else 0.0)
    tt = p.travel_time_h.toarray() if p.travel_time_h is not None else None
    assert tt is not None and p.group is not None and p.demand_group is not None
    for i, j in zip(*np.nonzero(x), strict=True):
        expect["last_mile"] += x[i, j] * days * rates.last_mile_usd_per_parcel_h * tt[i, j]
        if p.group[i] != p.demand_group[j] and p.group_names[p.demand_group[j]] == "NL":
            expect["cross_border"] += x[i, j] * days * 0.7
    open_ = res.area_m2 > 0
    expect["rent"] = float((p.rent_usd_m2_year * res.area_m2).sum())
    expect["fixed"] = float(p.fixed_cost_usd_year[open_].sum())
    for k in COMPONENTS:
        assert b.totals[k] == pytest.approx(expect[k], rel=1e-9, abs=1e-6), k
    assert b.totals["total"] == pytest.approx(res.objective, rel=REL)
    assert b.usd_per_parcel == pytest.approx(res.objective / (p.weight.sum() * days), rel=REL)
    assert b.by_country["total"].sum() == pytest.approx(b.totals["total"], rel=1e-9)
    # ports of entry used, with their volumes
    want: dict[int, float] = {}
    for i in np.flatnonzero(vol > 0):
        want[int(ib.port[i])] = want.get(int(ib.port[i]), 0.0) + vol[i]
    got = dict(zip(b.ports["port"], b.ports["parcels_day"], strict=True))
    assert set(got) == {ib.port_ids[k] for k in want}
    for k, v in want.items():
        assert got[ib.port_ids[k]] == pytest.approx(v)
        row = b.ports[b.ports["port"] == ib.port_ids[k]].iloc[0]
        assert row["containers_year"] == pytest.approx(v * days / rates.parcels_per_container)
    # each warehouse: its port and its cost per parcel
    assert sorted(b.sites["site"]) == sorted(p.site_ids[open_])
    for _, row in b.sites.iterrows():
        i = int(str(row["site"])[1:])
        assert row["port"] == ib.port_ids[ib.port[i]]
        if vol[i] > 0:
            own = (p.fixed_cost_usd_year[i] + p.rent_usd_m2_year[i] * res.area_m2[i]
                   + vol[i] * days * ib.usd_per_parcel[i]
                   + sum(x[i, j] * days * (pair_cost_per_parcel(case, rates, ib, i, j)
                                           - ib.usd_per_parcel[i]) for j in range(p.n_demand)))
            assert row["usd_per_parcel"] == pytest.approx(own / (vol[i] * days), rel=1e-9)


def test_assign_cost_is_weight_days_and_cost_per_parcel() -> None:
    case = make_case(3)
    rates = rates_for(3)
    ib = inbound_for(case, rates)
    landed = build_landed_problem(case.problem, ib, rates)
    assert landed.assign_cost is not None and landed.forbidden is not None
    a = landed.assign_cost.toarray()
    cover = case.problem.cover.toarray() > 0
    for i, j in zip(*np.nonzero(cover), strict=True):
        if ib.has_port[i]:
            want = case.problem.weight[j] * 365 * pair_cost_per_parcel(case, rates, ib, i, j)
            assert a[i, j] == pytest.approx(want, rel=1e-12)
    assert landed.forbidden.tolist() == (~ib.has_port).tolist()


def test_last_mile_per_parcel_km_uses_the_distances() -> None:
    case = make_case(5)
    rates = rates_for(5, last_mile_unit="km", last_mile_usd_per_parcel_km=0.07)
    ib = inbound_for(case, rates)
    with pytest.raises(ValidationError, match="needs distance_km"):
        build_landed_problem(case.problem, ib, rates)
    landed = build_landed_problem(case.problem, ib, rates, distance_km=case.distance_km)
    assert landed.assign_cost is not None
    i, j = next((i, j) for i, j in zip(*case.problem.cover.nonzero(), strict=True)
                if ib.has_port[i])
    want = case.problem.weight[j] * 365 * pair_cost_per_parcel(case, rates, ib, i, j)
    assert landed.assign_cost[i, j] == pytest.approx(want, rel=1e-12)


def test_unserved_demand_is_infeasible_or_charged_the_penalty() -> None:
    case = make_case(11, full_cover=True)
    p = case.problem
    cover = p.cover.toarray()
    cover[:, 0] = 0  # demand point 0 is reached by no site
    tt = p.travel_time_h.toarray() * (cover > 0) if p.travel_time_h is not None else None
    p2 = dataclasses.replace(p, cover=sp.csr_matrix(cover), travel_time_h=sp.csr_matrix(tt))
    case2 = dataclasses.replace(case, problem=p2)
    strict = rates_for(11, unserved="infeasible")
    ib = inbound_for(case2, strict)
    assert solve_landed(p2, ib, strict, EXACT).status == "infeasible"
    soft = rates_for(11, unserved="penalty", unserved_usd_per_parcel=30.0)
    res = solve_landed(p2, ib, soft, EXACT)
    keep = np.ones(p.n_demand, bool)
    keep[0] = False
    rest = brute_force(dataclasses.replace(case2, problem=p2.restrict_demand(keep)), soft, ib)
    penalty = p.weight[0] * 365 * 30.0
    assert res.status == "optimal"
    assert res.objective == pytest.approx(rest + penalty, rel=REL)
    assert res.bound <= res.objective * (1 + REL)
    assert res.served.shape == (p.n_sites, p.n_demand)
    assert res.served[:, 0].sum() == 0
    b = res.info["landed"]
    assert b.totals["unserved"] == pytest.approx(penalty)
    assert b.totals["total"] == pytest.approx(res.objective, rel=REL)


def test_raising_the_sea_rate_never_moves_volume_to_farther_ports() -> None:
    for seed in range(6):
        case = make_case(seed, n_ports=4)
        sea_km_used = []
        for rate in (0.02, 0.2, 2.0):
            rates = rates_for(seed, sea_usd_per_container_km=rate)
            ib = inbound_for(case, rates)
            res = solve_landed(case.problem, ib, rates, EXACT)
            if not res.has_solution:
                break
            vol = np.asarray(res.served.sum(axis=1)).ravel()
            sea_km_used.append(float((vol * np.where(vol > 0, ib.sea_km, 0.0)).sum()))
        assert all(b <= a * (1 + 1e-9) + 1e-9 for a, b in itertools.pairwise(sea_km_used))


# --- input checks ------------------------------------------------------------------------------


def test_rates_are_checked_all_at_once() -> None:
    with pytest.raises(ValidationError) as e:
        LandedRates(sea_usd_per_container_km=-1, parcels_per_container=0, drayage_unit="van",
                    duty_usd_per_parcel={"DE": float("nan")})  # type: ignore[arg-type]
    text = str(e.value)
    for name in ("sea_usd_per_container_km", "parcels_per_container", "drayage_unit",
                 "duty_usd_per_parcel['DE']"):
        assert name in text


def test_inbound_of_another_size_or_sites_is_refused() -> None:
    case = make_case(1)
    rates = rates_for(1)
    ib = inbound_for(case, rates)
    wrong = dataclasses.replace(ib, site_ids=ib.site_ids[::-1] if ib.site_ids is not None
                                else None)
    with pytest.raises(ValidationError, match="site ids differ"):
        build_landed_problem(case.problem, wrong, rates)
    with pytest.raises(ValidationError, match="drayage_km: shape"):
        compute_inbound(["DE"], ["DE"], np.array([1.0]), np.array([1.0]), rates)


def test_landed_breakdown_needs_a_plan() -> None:
    case = make_case(2)
    rates = rates_for(2)
    ib = inbound_for(case, rates)
    p = dataclasses.replace(case.problem, count_max=0)
    res = solve_landed(p, ib, rates, EXACT)
    assert res.status == "infeasible"
    with pytest.raises(ValidationError, match="no plan"):
        landed_breakdown(p, ib, res, rates)


def test_read_sea_distances(tmp_path: Path) -> None:
    f = tmp_path / "sea.csv"
    f.write_text("origin,port,country,name,candidate,distance_km\n"
                 "port-CNNGB,port-NLRTM,NL,Rotterdam,1,19500.5\n"
                 "port-CNNGB,port-DEHAM,DE,Hamburg,0,20100\n"
                 "port-CNNGB,port-XXAAA,XX,Nowhere,1,\n"
                 "port-CNSHA,port-NLRTM,NL,Rotterdam,1,19400\n")
    sea = read_sea_distances(f)
    assert sea["port"].tolist() == ["port-DEHAM", "port-NLRTM"]
    assert sea["distance_km"].tolist() == [20100.0, 19500.5]
    assert sea["candidate"].tolist() == [0, 1]
    assert read_sea_distances(f, "port-CNSHA")["distance_km"].tolist() == [19400.0]
    with pytest.raises(ValidationError, match="valid: port-CNNGB, port-CNSHA"):
        read_sea_distances(f, "port-CNSZX")
    with pytest.raises(ValidationError, match="not found"):
        read_sea_distances(tmp_path / "none.csv")
    f.write_text("origin,port,country,name,candidate,distance_km\n"
                 "port-CNNGB,port-NLRTM,NL,Rotterdam,1,far\n")
    with pytest.raises(ValidationError, match="row 2, distance_km 'far'"):
        read_sea_distances(f)


# --- real data ---------------------------------------------------------------------------------


@pytest.mark.skipif(not SEA_FILE.is_file(),
                    reason="data/countries/sea_distances.csv is not in this checkout (built "
                           "with the data set)")
def test_real_data_higher_sea_rate_moves_volume_nearer_hangzhou() -> None:
    from hzlogistics.models.landed import inbound_from_frames
    from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs
    from hzlogistics.scenario import Scenario

    scenario = Scenario(objective="cost", countries=["NL", "BE", "PT"], capacity_per_m2=None,
                        count_min=0, count_max=None, area_budget_m2=None,
                        fixed_cost_usd_year=50_000.0, cross_border_groups=["EU"])
    inputs = load_inputs(scenario)
    cov = build_scenario_coverage(scenario, inputs)
    problem = build_problem(scenario, inputs, cov)
    sea = read_sea_distances(SEA_FILE)
    used = []
    for rate in (0.05, 0.15, 1.0, 5.0):
        rates = LandedRates(sea_usd_per_container_km=rate, unserved="penalty")
        ib = inbound_from_frames(inputs.demand, inputs.sites, inputs.countries, sea, rates,
                                 cross_border=["EU"])
        assert ib.has_port.any()
        res = solve_landed(problem, ib, rates, SolveOptions(time_limit_s=60, gap=0.0))
        assert res.status == "optimal"
        b = res.info["landed"]
        assert b.totals["total"] == pytest.approx(res.objective, rel=1e-6)
        vol = np.asarray(res.served.sum(axis=1)).ravel()
        used.append(float((vol * np.where(vol > 0, ib.sea_km, 0.0)).sum()) / vol.sum())
        assert set(b.ports["port"]) <= set(sea["port"])
    # parcel-weighted sea km from Ningbo never grows as the sea rate rises
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(used)), used
    # and at a high enough rate it does move: to Portugal's ports, nearer by sea
    assert used[-1] < 0.95 * used[0], used


# --- drayage distances from GeoDataFrames ------------------------------------------------------


def small_frames(seed: int):  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from shapely.geometry import Point

    rng = np.random.default_rng(seed)
    rows = []
    for c, (x0, y0) in {"DE": (10.0, 51.0), "NL": (5.0, 52.0), "CZ": (15.0, 50.0),
                        "US": (-90.0, 40.0)}.items():
        for k in range(4):
            rows.append((f"{c}{k}", c, x0 + rng.uniform(-1, 1), y0 + rng.uniform(-1, 1)))
    sites = gpd.GeoDataFrame({"id": [r[0] for r in rows], "country": [r[1] for r in rows]},
                             geometry=[Point(r[2], r[3]) for r in rows], crs=4326)
    drows = [(f"d{sid}-{k}", c, x + rng.uniform(-0.5, 0.5), y + rng.uniform(-0.5, 0.5))
             for (sid, c, x, y) in rows for k in range(3)]
    demand = gpd.GeoDataFrame({"id": [r[0] for r in drows], "country": [r[1] for r in drows]},
                              geometry=[Point(r[2], r[3]) for r in drows], crs=4326)
    return demand, sites


def test_site_network_km_is_the_shortest_path_of_the_country_network() -> None:
    import networkx as nx

    from hzlogistics.network import build_country_network, site_network_km

    demand, sites = small_frames(0)
    km = site_network_km(demand, sites, sources=["DE0", "NL2", "DE3"])
    ids = sites["id"].tolist()
    for r, src in enumerate(["DE0", "NL2", "DE3"]):
        c = src[:2]
        G = build_country_network(demand, sites, country=c)
        dist = nx.single_source_dijkstra_path_length(G, ("site", src), weight="length_km")
        for k, sid in enumerate(ids):
            if sid[:2] != c:
                assert np.isinf(km[r, k])
            else:
                assert km[r, k] == pytest.approx(dist[("site", sid)], rel=1e-9)
    with pytest.raises(ValidationError, match="not site ids"):
        site_network_km(demand, sites, sources=["XX9"])


def test_drayage_and_inbound_from_frames() -> None:
    from hzlogistics.models.landed import drayage_km_from_frames, inbound_from_frames
    from hzlogistics.network import site_network_km
    from hzlogistics.projection import geodesic_km

    demand, sites = small_frames(1)
    ports = ["DE0", "NL0"]
    own = site_network_km(demand, sites, sources=ports)
    km = drayage_km_from_frames(demand, sites, None, ports, cross_border=["EU"])
    lon, lat = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    ids = sites["id"].tolist()
    for r, p in enumerate(ports):
        k0 = ids.index(p)
        for k, sid in enumerate(ids):
            if sid[:2] == p[:2]:
                assert km[r, k] == own[r, k]
            elif sid[:2] in ("DE", "NL", "CZ"):  # EU partner, or CZ without a port
                assert km[r, k] == pytest.approx(
                    1.3 * float(geodesic_km(lon[k0], lat[k0], lon[k], lat[k])), rel=1e-9)
            else:
                assert np.isinf(km[r, k])  # US: no port of its own, none within 1,500 km
    sea = pd.DataFrame({"port": ["DE0", "NL0", "US1", "port-ZZZ"], "country": ["DE", "NL", "US",
                                                                               "ZZ"],
                        "name": ["a", "b", "c", "d"], "candidate": [1, 1, 0, 1],
                        "distance_km": [20_000.0, 19_000.0, 15_000.0, 100.0]})
    ib = inbound_from_frames(demand, sites, None, sea, LandedRates(), cross_border=["EU"])
    assert ib.port_ids.tolist() == ["DE0", "NL0"]  # candidate sites only
    assert ib.site_ids is not None and ib.site_ids.tolist() == ids
    us = [k for k, s in enumerate(ids) if s.startswith("US")]
    assert ib.port[us].tolist() == [-1] * 4  # the US port is no candidate site
    eu = [k for k, s in enumerate(ids) if not s.startswith("US")]
    assert (ib.port[eu] >= 0).all()


def test_penalty_with_last_mile_per_km_and_a_bad_distance_matrix() -> None:
    case = make_case(4)
    p = case.problem
    cover = p.cover.toarray()
    cover[:, 1] = 0
    dist = case.distance_km.toarray() * (cover > 0)
    p2 = dataclasses.replace(p, cover=sp.csr_matrix(cover),
                             travel_time_h=sp.csr_matrix(p.travel_time_h.toarray() * (cover > 0))
                             if p.travel_time_h is not None else None)
    case2 = dataclasses.replace(case, problem=p2, distance_km=sp.csr_matrix(dist))
    rates = rates_for(4, unserved="penalty", unserved_usd_per_parcel=12.0, last_mile_unit="km")
    ib = inbound_for(case2, rates)
    with pytest.raises(ValidationError, match="distance_km: shape"):
        solve_landed(p2, ib, rates, EXACT, distance_km=sp.csr_matrix((2, 2)))
    res = solve_landed(p2, ib, rates, EXACT, distance_km=case2.distance_km)
    keep = np.ones(p.n_demand, bool)
    keep[1] = False
    rest = brute_force(dataclasses.replace(
        case2, problem=p2.restrict_demand(keep),
        distance_km=sp.csr_matrix(dist[:, keep])), rates, ib)
    assert res.objective == pytest.approx(rest + p.weight[1] * 365 * 12.0, rel=REL)
    assert res.info["landed"].totals["total"] == pytest.approx(res.objective, rel=REL)
