"""Build the example notebooks from the Python source in this file.

Every notebook is written here as a list of Markdown and code cells, so that a
change to a notebook is reviewed as a change to this file. The notebooks are
written with their outputs cleared and with fixed cell ids, so that building
them twice gives the same files.

Run from the repository root::

    python notebooks/make_notebooks.py           # (re)write every notebook
    python notebooks/make_notebooks.py --check   # exit 1 if a notebook is out of date
    python notebooks/make_notebooks.py --data    # also rewrite data/my_demand.csv

Run the notebooks in Jupyter, or execute them all with
``pytest -m slow tests/test_notebooks.py``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

#: Folder of the notebooks (this file's folder).
HERE = Path(__file__).resolve().parent

#: Countries of the planner's own data in ``data/`` (notebook 03).
OWN_DATA_COUNTRIES: tuple[str, ...] = ("DE", "NL", "BE")

#: Grid cell of the demand regions in ``data/my_demand.csv``, degrees.
DEMAND_CELL_DEG: float = 0.5

Cell = tuple[str, str]


def md(text: str) -> Cell:
    """A Markdown cell."""
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> Cell:
    """A code cell."""
    return ("code", textwrap.dedent(text).strip("\n"))


# ---------------------------------------------------------------------------
# 01: quickstart
# ---------------------------------------------------------------------------
QUICKSTART: list[Cell] = [
    md("""
    # Quickstart: where should Hangzhou's overseas warehouses go?

    Hangzhou's cross-border e-commerce firms plan about 1,000 overseas warehouses in
    50 countries, with 200,000 m² of floor area in all. This notebook answers the first
    questions a planner asks of that network:

    * Which candidate sites should open, and how large should each one be?
    * How much of the expected demand can the network then deliver next-day?
    * How does the floor area split between countries, and between small and large
      warehouses?

    It plans all 50 countries with the built-in scenario, `hangzhou-2020`, and runs in
    about a minute (the optimizer gets 30 seconds of it).
    """),
    code("""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from matplotlib.ticker import StrMethodFormatter

    import hzlogistics as hz
    from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs

    pd.set_option("display.max_rows", 60)
    thousands = StrMethodFormatter("{x:,.0f}")
    """),
    md("""
    ## The assumptions

    A scenario holds every assumption of a plan: the countries, the delivery promise,
    the area budget, the sizes a warehouse may take, how many warehouses to open and
    how many parcels a square metre of floor handles a day. The built-in scenario is the
    2020 plan. A copy can be edited as a TOML file (`hzlogistics init my-plan.toml`) or
    changed in code, as the other notebooks do.
    """),
    code("""
    scenario = hz.load_scenario("hangzhou-2020")
    pd.Series(
        {
            "countries": "all 50" if scenario.countries is None else ", ".join(scenario.countries),
            "service level": scenario.service_level,
            "area budget, m²": f"{scenario.area_budget_m2:,.0f}",
            "size tiers, m²": ", ".join(f"{t:,.0f}" for t in scenario.size_tiers_m2),
            "number of warehouses": f"{scenario.count_min:,} to {scenario.count_max:,}",
            "warehouses in every country, at least": scenario.min_sites_per_country,
            "parcels/day one m² handles": scenario.capacity_per_m2,
            "existing warehouses stay open": scenario.keep_existing,
        },
        name=scenario.name,
    ).to_frame()
    """),
    md("""
    ## Demand and candidate sites

    Demand is the expected number of parcels a day that Hangzhou firms send to each town
    and city of the 50 countries. The candidates are the towns, airports and ports where
    a warehouse could be leased, and the warehouses the firms already run.
    """),
    code("""
    inputs = load_inputs(scenario)
    demand, sites = inputs.demand, inputs.sites
    n_existing = int((sites["existing_area_m2"] > 0).sum())
    print(f"{len(demand):,} demand points, {demand['weight'].sum():,.0f} parcels/day in all")
    print(f"{len(sites):,} candidate sites, {n_existing} of them warehouses run today")

    markets = hz.country_table().set_index("code")
    markets["share of demand"] = markets["weight"] / markets["weight"].sum()
    markets.nlargest(10, "weight")[["name", "n_demand", "n_sites", "weight", "share of demand"]]
    """),
    md("""
    ## Who can be reached next-day?

    Before any site is chosen, the delivery network says which candidate can reach which
    demand point within the service level: for next-day delivery, 6 hours of road travel
    over a road network built for each country (ferries link its islands). A demand
    point that no candidate reaches cannot be served by any plan, whatever its budget.
    """),
    code("""
    coverage = build_scenario_coverage(scenario, inputs)
    reached = np.asarray(coverage.cover.sum(axis=0)).ravel() > 0
    weight = demand["weight"].to_numpy()
    print(f"{coverage.nnz:,} site-to-demand pairs within {coverage.cutoff_h:g} h of road travel")
    print(f"{weight[reached].sum() / weight.sum():.2%} of the demand is within reach "
          "of at least one candidate")
    """),
    md("""
    ## Choosing the sites

    The optimizer picks the sites and their sizes to deliver as many parcels as possible
    next-day, within the area budget, the number of warehouses, the floor capacity and
    the other limits of the scenario. Besides the plan it reports a *bound*: no plan can
    deliver more than the bound, so the gap between the two says how far from the best
    possible plan this one can be at most.

    Here the solver gets 30 seconds, to keep the notebook short; the scenario allows 60,
    which the command line (`hzlogistics plan`) uses.
    """),
    code("""
    problem = build_problem(scenario, inputs, coverage)
    options = hz.SolveOptions(time_limit_s=30.0, gap=scenario.gap, seed=scenario.seed)
    result = hz.solve(problem, scenario.objective, options)
    plan = hz.make_plan(result, problem, demand, sites, inputs.countries, coverage=coverage,
                        name=scenario.name, title=scenario.title, scenario=scenario)

    s = plan.summary()
    pd.Series(
        {
            "status": s["status"],
            "warehouses": f"{s['n_open']:,} ({s['n_existing']} of them run today)",
            "countries with a warehouse": s["n_countries"],
            "floor area, m²": f"{s['total_area_m2']:,.0f} of {s['area_budget_m2']:,.0f}",
            "parcels/day delivered next-day": f"{s['covered_weight']:,.0f} "
                                              f"of {s['total_weight']:,.0f}",
            "share of demand": f"{s['covered_share']:.2%}",
            "gap to the bound": "unknown" if s["gap"] is None else f"{s['gap']:.3%}",
            "yearly rent, USD": f"{s['rent_usd_year']:,.0f}",
        },
        name=plan.title,
    ).to_frame()
    """),
    md("""
    The four steps above (inputs, coverage, problem, solve) are also one call:
    `plan = hz.run_scenario(scenario)`.

    ## The plan on a map

    The map shows the open warehouses (size and colour by floor area; click one for its
    figures), demand as a heat map, the demand left unserved, and the countries coloured
    by the share of their demand delivered next-day. To keep the notebook light, the
    map below leaves out the service areas and the sea lanes and draws the heat map on a
    coarser grid. The full map is written to `outputs/hangzhou-2020.html`, a page that
    opens in any browser, without a network connection.
    """),
    code("""
    plan.to_map(path="outputs/hangzhou-2020.html", self_contained=True)
    plan.to_map(sea_lanes=False, show_service_areas=False, max_heat_points=2_000,
                self_contained=True)
    """),
    md("""
    ## Country by country

    For every country: the warehouses it gets, their floor area, its demand, the parcels
    delivered next-day and the mean road travel time from warehouse to customer, largest
    markets first.
    """),
    code("""
    table = (
        plan.countries.drop(columns="geometry")
        .set_index("country")[["name", "n_sites", "area_m2", "demand_weight", "served_weight",
                               "covered_share", "mean_travel_time_h"]]
        .sort_values("demand_weight", ascending=False)
    )
    table.round({"area_m2": 0, "demand_weight": 0, "served_weight": 0, "covered_share": 4,
                 "mean_travel_time_h": 2})
    """),
    md("""
    The countries where the plan delivers the smallest share of the demand next-day.
    Where the share is well below what the candidates can reach, more sites or a larger
    budget would help; where nothing reaches the demand, only new candidate sites would.
    """),
    code("""
    table.nsmallest(5, "covered_share")[["name", "n_sites", "demand_weight", "covered_share"]]
    """),
    md("""
    ## Where the floor area went

    A country's share of the floor area can differ from its share of the demand:
    demand spread over a large territory needs many warehouses, each of at least the
    smallest size, while dense demand fills a few large ones.
    """),
    code("""
    top = table.assign(
        floor_area=table["area_m2"] / table["area_m2"].sum(),
        demand=table["demand_weight"] / table["demand_weight"].sum(),
    ).nlargest(15, "area_m2")
    ax = top[["floor_area", "demand"]].plot.bar(figsize=(11, 4), width=0.8,
                                                color=["#6a51a3", "#fe9929"])
    ax.set(xlabel="", ylabel="share of the total",
           title="The 15 countries with the most floor area")
    ax.legend(["floor area", "demand"])
    plt.show()
    """),
    md("""
    And by size: how many warehouses of each size the plan opens, and how much of the
    floor area and of the parcels each size carries.
    """),
    code("""
    open_sites = plan.open_sites
    by_size = open_sites.groupby("area_m2").agg(
        warehouses=("id", "size"), floor_area_m2=("area_m2", "sum"),
        parcels_per_day=("served_weight", "sum"),
    )
    by_size.index = [f"{a:,.0f}" for a in by_size.index]
    by_size.index.name = "size, m²"
    by_size["share of floor area"] = by_size["floor_area_m2"] / by_size["floor_area_m2"].sum()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
    by_size["warehouses"].plot.bar(ax=left, color="#6a51a3", title="Warehouses by size")
    by_size["floor_area_m2"].plot.bar(ax=right, color="#9e9ac8", title="Floor area by size, m²")
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=0)
        ax.yaxis.set_major_formatter(thousands)
    plt.show()
    by_size.round({"floor_area_m2": 0, "parcels_per_day": 0, "share of floor area": 3})
    """),
    md("""
    The warehouses run today stay open, at their current size or larger:
    """),
    code("""
    existing = open_sites[open_sites["status"] == "existing"]
    existing[["name", "country", "existing_area_m2", "area_m2", "served_weight",
              "utilisation"]].round(2)
    """),
    md("""
    ## Saving the plan

    `plan.to_files(folder)` writes the plan for other tools: the open sites as CSV and
    GeoJSON, a GeoPackage for GIS, which site serves which demand point, a Markdown
    report, a JSON summary and the scenario as TOML (so that the plan can be re-run).
    """),
    code("""
    files = plan.to_files("outputs/hangzhou-2020")
    pd.Series({kind: path.name for kind, path in files.items()}, name="file").to_frame()
    """),
    md("""
    ## Next

    * `02_area_budget_tradeoff.ipynb`: is 200,000 m² the right budget?
    * `03_bring_your_own_sites.ipynb`: plan on your own shortlist of sites, keep the
      warehouses you run, rule some sites out.
    * `04_service_levels.ipynb`: same-day, next-day or two-day delivery, and what
      cross-border delivery inside the EU changes.
    * `05_area_speed_cost.ipynb`: the least floor area for 95 % next-day, the fastest
      average delivery, the cheapest network.
    """),
]


# ---------------------------------------------------------------------------
# 02: area budget trade-off
# ---------------------------------------------------------------------------
AREA_BUDGET: list[Cell] = [
    md("""
    # How much floor area is enough?

    The 2020 plan caps the network at 200,000 m² of floor area. Would less do nearly as
    well? Would more deliver much more? This notebook plans the network for area budgets
    from 50,000 m² to 400,000 m² and shows

    * the share of the demand delivered next-day at each budget,
    * what the next 10,000 m² would add, and
    * the same two questions asked of the number of warehouses instead of the floor area.

    **Size of the run.** Planning all 50 countries at fifteen budgets takes several
    minutes. So that the notebook runs in about two minutes, it plans by default the 12
    EU markets only, and scales every budget and every number of warehouses to their
    share of the demand (printed below): a 200,000 m² network for all 50 countries
    corresponds to that share of 200,000 m² in the EU. The charts show both scales. Each
    plan gets at most 10 seconds of solver time. Set `ALL_COUNTRIES = True` to plan all
    50 countries with the budgets as they are.
    """),
    code("""
    ALL_COUNTRIES = False
    SUBSET = ["BE", "CZ", "DE", "ES", "FR", "HU", "IT", "NL", "PL", "PT", "RO", "SE"]  # EU markets
    TIME_LIMIT_S = 10.0
    # Area budgets and numbers of warehouses of the whole network (scaled for a subset).
    BUDGETS_M2 = list(range(50_000, 400_001, 25_000))
    SITE_COUNTS = [100, 150, 200, 300, 600, 1_000]
    """),
    code("""
    import dataclasses

    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import StrMethodFormatter

    import hzlogistics as hz

    base = hz.load_scenario("hangzhou-2020")
    weight = hz.country_table().set_index("code")["weight"]
    codes = list(weight.index) if ALL_COUNTRIES else SUBSET
    scale = float(weight[codes].sum() / weight.sum())
    scenario = dataclasses.replace(
        base, name="area-tradeoff", countries=None if ALL_COUNTRIES else SUBSET,
        count_min=0, count_max=None, time_limit_s=TIME_LIMIT_S,
    )
    print(f"Planning {len(codes)} countries with {scale:.1%} of all demand.")
    print(f"The plan's {base.area_budget_m2:,.0f} m² correspond to "
          f"{base.area_budget_m2 * scale:,.0f} m² here.")
    """),
    md("""
    The default plan also fixes the number of warehouses (950 to 1,050). For this
    question the optimizer may open as many or as few as it needs, so that only the floor
    area limits the plan. Every country still gets at least one warehouse, every
    warehouse at least the smallest size, and each m² handles the scenario's number of
    parcels a day; so 10,000 m² more can never deliver more than that many parcels times
    10,000 (the dashed line in the charts of gains).
    """),
    code("""
    total_weight = float(weight.sum())  # parcels/day of the whole network


    def gain_per(table, x, step):
        \"\"\"Percentage points of demand gained per `step` more of `x` (whole network).\"\"\"
        dx = np.diff(table[x].to_numpy(dtype=float)) / scale
        dy = 100 * np.diff(table["covered_share"].to_numpy(dtype=float))
        return dy / dx * step


    def plot_tradeoff(table, x, x_label, step, step_label, ceiling_pp=None):
        \"\"\"Share delivered against `x` (with the bound), and the gain of `step` more.\"\"\"
        xs = table[x].to_numpy(dtype=float)
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
        left.plot(xs, 100 * table["covered_share"], "o-", color="#6a51a3", label="plan")
        left.plot(xs, 100 * table["bound_share"], ":", color="#888888",
                  label="bound (no plan does better)")
        left.set(xlabel=f"{x_label}, this run", ylabel="demand delivered next-day, %",
                 title="Demand delivered")
        left.legend(loc="lower right")
        right.bar(xs[:-1], gain_per(table, x, step), width=np.diff(xs), align="edge",
                  color="#9e9ac8", edgecolor="white")
        if ceiling_pp is not None:
            right.axhline(ceiling_pp, color="#3f007d", linestyle="--", linewidth=1)
        right.set(xlabel=f"{x_label}, this run", ylabel="percentage points of demand",
                  title=f"Gain of the next {step_label}")
        for ax in (left, right):
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
            if scale < 1:
                top = ax.secondary_xaxis("top", functions=(lambda v: v / scale,
                                                           lambda v: v * scale))
                top.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
                top.set_xlabel(f"{x_label}, whole network")
        fig.tight_layout()
        plt.show()
    """),
    md("""
    ## Demand delivered against floor area

    One plan per budget. The plans are solved in order of budget, each starting from the
    plan of the budget before it, so a larger budget never delivers less. Budgets are
    rounded to 100 m², a multiple of every size tier.
    """),
    code("""
    budgets = sorted({round(b * scale, -2) for b in BUDGETS_M2})
    by_area = hz.sweep(scenario, {"area_budget_m2": budgets})
    by_area["whole_network_m2"] = by_area["area_budget_m2"] / scale
    ceiling_pp = 100 * base.capacity_per_m2 * 10_000 / total_weight
    plot_tradeoff(by_area, "area_budget_m2", "area budget, m²", 10_000,
                  "10,000 m² (whole network)", ceiling_pp=ceiling_pp)
    by_area[["whole_network_m2", "area_budget_m2", "area_m2", "n_sites", "covered_share",
             "bound_share", "status"]].round({"whole_network_m2": -3, "covered_share": 4,
                                              "bound_share": 4})
    """),
    md("""
    Two things limit a plan. While the budget is tight, every square metre opened is
    filled with parcels, and each 10,000 m² adds about the most it can (the dashed line).
    Once the warehouses reach nearly all the demand within a day, more floor area has
    nothing left to deliver and the curve flattens: the demand still left out is beyond
    the reach of every candidate site, not short of floor area.
    """),
    code("""
    gains = gain_per(by_area, "area_budget_m2", 10_000)
    at = by_area["whole_network_m2"].to_numpy()
    plan_budget = base.area_budget_m2
    k = int(np.argmin(np.abs(at - plan_budget)))
    best = by_area["covered_share"].max()
    enough = by_area.loc[by_area["covered_share"] >= best - 0.005, "whole_network_m2"].min()
    print(f"Each m² handles {base.capacity_per_m2:g} parcels/day: 10,000 m² more can add at most "
          f"{ceiling_pp:.2f} percentage points of the demand.")
    if k < len(gains):
        step_m2 = round(at[k + 1] - at[k], -3)
        print(f"Above the plan's {plan_budget:,.0f} m², the next {step_m2:,.0f} m² add "
              f"{gains[k]:.2f} percentage points of the demand per 10,000 m².")
    print(f"The most demand any budget delivers: {best:.2%}, reached within 0.5 percentage "
          f"points from {round(enough, -3):,.0f} m² (whole network) on.")
    """),
    md("""
    ## And the number of warehouses?

    Floor area is one budget; the number of warehouses is another (each one is a lease,
    a team and a customs registration). Here the area budget stays at the plan's
    200,000 m² (scaled) and the largest number of warehouses allowed grows. With few
    warehouses the solver may stop before it proves its plan is the best: the dotted
    bound shows how much better a plan could at most be.
    """),
    code("""
    counts = sorted({max(len(codes), round(n * scale)) for n in SITE_COUNTS})
    by_count = hz.sweep(
        dataclasses.replace(scenario, area_budget_m2=round(base.area_budget_m2 * scale, -2)),
        {"count_max": counts},
    )
    by_count["whole_network_sites"] = by_count["count_max"] / scale
    plot_tradeoff(by_count, "count_max", "warehouses allowed", 10,
                  "10 warehouses (whole network)")
    by_count[["whole_network_sites", "count_max", "n_sites", "area_m2", "covered_share",
              "bound_share", "status"]].round({"whole_network_sites": 0, "covered_share": 4,
                                               "bound_share": 4})
    """),
    code("""
    best = by_count["covered_share"].max()
    enough = by_count.loc[by_count["covered_share"] >= best - 0.005, "whole_network_sites"].min()
    print(f"With the plan's floor area, up to {by_count['whole_network_sites'].max():,.0f} "
          f"warehouses (whole network) deliver {best:.2%} of the demand;")
    print(f"about {round(enough, -1):,.0f} warehouses come within 0.5 percentage points of that.")
    """),
    md("""
    ## Reading the curves

    * Where the area curve climbs at the dashed line, every extra m² is used in full:
      the budget decision is a direct trade of floor area for parcels.
    * Where it flattens, the budget no longer holds the network back: a smaller budget
      delivers almost as much, and reach (more candidate sites, or a longer delivery
      promise; see `04_service_levels.ipynb`) is what would help.
    * The warehouse-count curve tells how many leases the floor area really needs: past
      its knee, more warehouses only split the same parcels between more sites.
    """),
]


# ---------------------------------------------------------------------------
# 03: bring your own sites
# ---------------------------------------------------------------------------
OWN_SITES: list[Cell] = [
    md("""
    # Bring your own candidate sites

    The built-in candidates are towns, airports and ports. A planning team usually has
    its own shortlist: logistics parks it has visited, offers from landlords, and the
    warehouses it already runs. This notebook plans Germany, the Netherlands and Belgium
    on such a shortlist and asks:

    * How does a plan on the shortlist compare with one chosen from the built-in
      candidates?
    * Do the warehouses we run today stay, and at what size?
    * What does ruling out some sites (a lease fell through, a site is too expensive)
      cost in delivered demand?

    The shortlist is `data/my_sites.csv` (see `data/README.md`). The three countries are
    small enough for every plan here to solve in seconds; the area budget is the three
    countries' share of the 200,000 m² of the whole network, by their share of demand.
    """),
    code("""
    import dataclasses
    from pathlib import Path

    import pandas as pd
    from IPython.display import display

    import hzlogistics as hz
    from hzlogistics.io import read_sites_csv
    from hzlogistics.maps import compare_map

    COUNTRIES = ["DE", "NL", "BE"]
    SITES_CSV = Path("data") / "my_sites.csv"
    FORBIDDEN = ["NL-RTM", "NL-AMS", "DE-FRA"]  # the lease fell through / too expensive
    DEMAND_CSV = Path("data") / "my_demand.csv"  # optional, see the end of the notebook
    """),
    md("""
    ## The shortlist

    A sites file needs an `id` and the coordinates (`lon`, `lat`, in degrees) of every
    site. Optional columns: `name`, `country` (ISO code), `max_area_m2` (the largest size
    the site can take), `rent_usd_m2_year` and `existing_area_m2` (the floor area run
    there today; blank or 0 for a new site).
    """),
    code("""
    own_sites = read_sites_csv(SITES_CSV)
    print(f"{len(own_sites)} sites, per country: {own_sites['country'].value_counts().to_dict()}")
    own_sites.drop(columns="geometry")
    """),
    md("""
    The file is checked before anything is planned. A mistake is reported with the
    file, the row and the column, and every mistake of the file at once, as with this
    copy with a missing latitude and a negative size:
    """),
    code("""
    broken = Path("outputs") / "my_sites_broken.csv"
    broken.parent.mkdir(exist_ok=True)
    lines = SITES_CSV.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",52.37,", ",,")
    lines[5] = lines[5].replace(",2000,", ",-2000,")
    broken.write_text("\\n".join(lines) + "\\n", encoding="utf-8")
    try:
        read_sites_csv(broken)
    except hz.ValidationError as err:
        print(err)
    """),
    md("""
    ## Two plans for the same demand

    Both plans serve the built-in demand of the three countries next-day, with the same
    area budget and no limit on the number of warehouses. The first chooses among the
    built-in candidates; the second among the shortlist, keeping the warehouses run today
    open (at their size or larger) and never opening the ruled-out sites.
    """),
    code("""
    base = hz.load_scenario("hangzhou-2020")
    weight = hz.country_table().set_index("code")["weight"]
    budget_m2 = round(base.area_budget_m2 * weight[COUNTRIES].sum() / weight.sum(), -2)
    print(f"Area budget: {budget_m2:,.0f} m²")

    builtin = dataclasses.replace(
        base, name="builtin-candidates", title="Built-in candidates", countries=COUNTRIES,
        area_budget_m2=budget_m2, count_min=0, count_max=None,
    )
    shortlist = dataclasses.replace(
        builtin, name="own-shortlist", title="Own shortlist", sites_file=str(SITES_CSV),
        keep_existing=True, forbidden_sites=FORBIDDEN,
    )
    plan_builtin = hz.run_scenario(builtin)
    plan_own = hz.run_scenario(shortlist)


    def headline(plan):
        \"\"\"The figures that tell two plans apart.\"\"\"
        s = plan.summary()
        d = plan.demand
        served = d["served_weight"].sum()
        delivered_h = (d["served_weight"] * d["travel_time_h"].fillna(0.0)).sum()
        mean_h = delivered_h / served if served else None
        return pd.Series({
            "warehouses": s["n_open"],
            "of them run today": s["n_existing"],
            "floor area, m²": round(s["total_area_m2"]),
            "parcels/day delivered": round(s["covered_weight"]),
            "share of demand": round(s["covered_share"], 4),
            "mean travel time, h": None if mean_h is None else round(mean_h, 2),
            "yearly rent, USD": round(s["rent_usd_year"]),
            "status": s["status"],
        }, name=plan.title)


    pd.concat([headline(plan_builtin), headline(plan_own)], axis=1)
    """),
    md("""
    Country by country: warehouses, floor area and the share of demand delivered.
    """),
    code("""
    cols = ["n_sites", "area_m2", "covered_share", "mean_travel_time_h"]
    by_country = pd.concat(
        {p.title: p.countries.set_index("country")[cols] for p in (plan_builtin, plan_own)},
        axis=1,
    )
    by_country.round(3)
    """),
    md("""
    ## The warehouses we run today, and the ruled-out sites

    Existing warehouses stay open, at their current size or a larger one if the plan
    needs it. The ruled-out sites stay closed.
    """),
    code("""
    sites = plan_own.sites.set_index("id")
    existing = sites[sites["existing_area_m2"] > 0]
    print(existing[["name", "existing_area_m2", "area_m2", "served_weight", "status"]])
    print()
    print(sites.loc[FORBIDDEN, ["name", "area_m2", "status"]])
    """),
    md("""
    What ruling the sites out costs: the same plan with every site allowed. When the
    floor area is the limit, other sites can often deliver the same parcels, and the
    cost shows in rent and travel time rather than in parcels.
    """),
    code("""
    plan_all = hz.run_scenario(dataclasses.replace(shortlist, name="own-all-allowed",
                                                   title="Own shortlist, all allowed",
                                                   forbidden_sites=[]))
    cost = pd.concat([headline(plan_own), headline(plan_all)], axis=1)
    a, b = plan_own.summary(), plan_all.summary()
    parcels = b["covered_weight"] - a["covered_weight"]
    rent = a["rent_usd_year"] - b["rent_usd_year"]
    print(f"Ruling out {', '.join(FORBIDDEN)} changes the parcels delivered next-day by "
          f"{-parcels:+,.0f} a day and the yearly rent by {rent:+,.0f} USD.")
    cost
    """),
    md("""
    ## The two plans on one map

    Sites only the built-in plan opens are marked *closed*, sites only the shortlist
    plan opens *opened*; countries are coloured by the change of their delivered share.
    Click a site for its figures.
    """),
    code("""
    compare_map(plan_builtin, plan_own, self_contained=True)
    """),
    md("""
    ## Your own demand too

    A demand file has an `id`, `lon`, `lat` and `weight` (parcels a day), and optionally
    `name` and `country`; give it with `demand_file`. `data/my_demand.csv` holds parcels
    a day by delivery region: the built-in demand of the three countries summed on a
    half-degree grid, each region placed at its largest town. With the `country` column
    present, each region is served over its own country's road network.
    """),
    code("""
    if DEMAND_CSV.exists():
        own_demand = dataclasses.replace(shortlist, name="own-demand",
                                         title="Own shortlist, own demand",
                                         demand_file=str(DEMAND_CSV))
        plan_own_demand = hz.run_scenario(own_demand)
        print(f"{len(plan_own_demand.demand)} demand regions, "
              f"{plan_own_demand.demand['weight'].sum():,.0f} parcels/day")
        display(pd.concat([headline(plan_own), headline(plan_own_demand)], axis=1))
    """),
]


# ---------------------------------------------------------------------------
# 04: service levels
# ---------------------------------------------------------------------------
SERVICE_LEVELS: list[Cell] = [
    md("""
    # Same-day, next-day, two-day: what does speed cost?

    The 2020 plan promises next-day delivery: a parcel leaves the warehouse and reaches
    the customer within 6 hours of road travel. A faster promise needs warehouses closer
    to the customers; a slower one lets each warehouse serve a wider area. This notebook
    asks:

    * How much of the demand can each service level reach at all from the candidate
      sites?
    * How much does a plan deliver at each service level, with the plan's floor area and
      with room to serve everyone, and how many warehouses does it open?
    * What changes when a warehouse may also deliver across borders inside the EU (one
      in Germany serving Poland, say)?

    **Size of the run.** Cross-border delivery is an EU question, so the notebook plans
    the 12 EU markets. Their area budget is their share (by demand) of the 200,000 m² of
    the whole network; "room to serve everyone" is twice that, the EU's share of
    400,000 m². There is no fixed number of warehouses. Each plan gets at most 10 seconds
    of solver time; the whole notebook runs in about two minutes.
    """),
    code("""
    import dataclasses

    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    import hzlogistics as hz
    from hzlogistics import settings
    from hzlogistics.maps import compare_map
    from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs

    EU = list(settings.CROSS_BORDER_GROUPS["EU"])
    LEVELS = list(settings.SERVICE_LEVELS_H)  # same-day, next-day, two-day
    BORDERS = {"national": [], "across EU borders": ["EU"]}
    TIME_LIMIT_S = 10.0

    base = hz.load_scenario("hangzhou-2020")
    weight = hz.country_table().set_index("code")["weight"]
    share = float(weight[EU].sum() / weight.sum())
    budgets_m2 = {
        "plan's floor area": round(base.area_budget_m2 * share, -2),
        "room for everyone": round(2 * base.area_budget_m2 * share, -2),
    }
    scenario = dataclasses.replace(
        base, name="eu-service-levels", countries=EU, count_min=0, count_max=None,
        time_limit_s=TIME_LIMIT_S,
    )
    inputs = load_inputs(scenario)
    demand = inputs.demand
    print("EU markets:", ", ".join(EU), f"({share:.1%} of all demand)")
    print("Service levels:",
          ", ".join(f"{k} ({v:g} h)" for k, v in settings.SERVICE_LEVELS_H.items()))
    print("Area budgets:", ", ".join(f"{k} {v:,.0f} m²" for k, v in budgets_m2.items()))
    """),
    md("""
    ## How far each promise reaches

    First, no plan yet: which demand points can any candidate site reach within each
    service level? Demand out of reach stays unserved whatever the budget. The delivery
    network is built once per service level, for national delivery and for delivery
    across EU borders.
    """),
    code("""
    coverages = {}
    for level in LEVELS:
        for borders, groups in BORDERS.items():
            variant = dataclasses.replace(scenario, service_level=level,
                                          cross_border_groups=groups)
            coverages[level, borders] = (variant, build_scenario_coverage(variant, inputs))


    def reachable(coverage):
        \"\"\"Whether at least one candidate reaches each demand point.\"\"\"
        return np.asarray(coverage.cover.sum(axis=0)).ravel() > 0


    w = demand["weight"].to_numpy()
    reach = pd.DataFrame(
        {b: [w[reachable(coverages[level, b][1])].sum() / w.sum() for level in LEVELS]
         for b in BORDERS},
        index=LEVELS,
    )
    reach.round(4)
    """),
    md("""
    Country by country, for national delivery: the share of each country's demand that
    some candidate reaches within each promise, lowest same-day reach first.
    """),
    code("""
    by_country = pd.DataFrame({
        level: (demand.assign(r=np.where(reachable(coverages[level, "national"][1]), w, 0.0))
                .groupby("country")["r"].sum() / demand.groupby("country")["weight"].sum())
        for level in LEVELS
    })
    names = hz.country_table().set_index("code")["name"]
    by_country.insert(0, "name", names.reindex(by_country.index))
    by_country.sort_values(LEVELS[0]).round(3)
    """),
    md("""
    ## What the plans deliver

    Now one plan per service level and border rule, at two area budgets: the plan's
    floor area, and room to serve everyone. For each: the share of demand delivered,
    the warehouses opened, the floor area used and the mean road travel time of a
    delivered parcel.
    """),
    code("""
    def mean_travel_time_h(plan):
        \"\"\"Mean road travel time of a delivered parcel, hours.\"\"\"
        d = plan.demand
        served = d["served_weight"].sum()
        return (d["served_weight"] * d["travel_time_h"].fillna(0.0)).sum() / served


    def solve_variant(variant, coverage, area_budget_m2, title):
        \"\"\"Plan one variant with a given area budget.\"\"\"
        variant = dataclasses.replace(variant, area_budget_m2=area_budget_m2)
        problem = build_problem(variant, inputs, coverage)
        options = hz.SolveOptions(time_limit_s=variant.time_limit_s, gap=variant.gap,
                                  seed=variant.seed)
        result = hz.solve(problem, variant.objective, options)
        return hz.make_plan(result, problem, inputs.demand, inputs.sites, inputs.countries,
                            coverage=coverage, name=variant.name, title=title,
                            scenario=variant)


    plans, rows = {}, []
    for budget, area_m2 in budgets_m2.items():
        for (level, borders), (variant, coverage) in coverages.items():
            plan = solve_variant(variant, coverage, area_m2, f"{level}, {borders}")
            plans[budget, level, borders] = plan
            s = plan.summary()
            rows.append({
                "budget": budget, "service level": level, "borders": borders,
                "delivered": s["covered_share"], "warehouses": s["n_open"],
                "floor area, m²": s["total_area_m2"],
                "mean travel time, h": mean_travel_time_h(plan),
                "gap": s["gap"], "status": s["status"],
            })
    results = pd.DataFrame(rows).set_index(["budget", "service level", "borders"])
    results.round(4)
    """),
    code("""
    fig, axes = plt.subplots(2, 3, figsize=(14, 7), sharex=True)
    charts = {"delivered": "demand delivered, %", "warehouses": "warehouses",
              "mean travel time, h": "mean travel time, h"}
    for row, budget in zip(axes, budgets_m2, strict=True):
        for ax, (column, label) in zip(row, charts.items(), strict=True):
            table = results.loc[budget][column].unstack("borders").reindex(LEVELS)[list(BORDERS)]
            if column == "delivered":
                table = 100 * table
            table.plot.bar(ax=ax, rot=0, color=["#9e9ac8", "#3f007d"], legend=False)
            ax.set(title=f"{label}: {budget}", xlabel="")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper center", ncol=2)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    plt.show()
    """),
    code("""
    for budget in budgets_m2:
        print(f"{budget} ({budgets_m2[budget]:,.0f} m²):")
        for level in LEVELS:
            a, b = (results.loc[budget, level, borders] for borders in BORDERS)
            print(f"  {level:>9}: {a['delivered']:.2%} delivered with {a['warehouses']:.0f} "
                  f"warehouses; across EU borders {b['delivered']:.2%} with "
                  f"{b['warehouses']:.0f}")
    """),
    md("""
    ## Where cross-border delivery helps

    The next-day plans with room for everyone, national and across EU borders, on one
    map. Sites only the cross-border plan opens are *opened*, sites it no longer needs
    are *closed*; countries are coloured by the change of their delivered share.
    """),
    code("""
    national = plans["room for everyone", "next-day", "national"]
    crossing = plans["room for everyone", "next-day", "across EU borders"]
    cols = ["n_sites", "area_m2", "covered_share"]
    change = pd.concat({"national": national.countries.set_index("country")[cols],
                        "across EU borders": crossing.countries.set_index("country")[cols]},
                       axis=1)
    change.round(4)
    """),
    code("""
    compare_map(national, crossing, self_contained=True)
    """),
    md("""
    ## Reading the results

    * Reach sets the ceiling: demand that no candidate reaches within the promise stays
      unserved whatever the budget. Compare the reach table with what the plans deliver.
    * If every service level delivers about the same share at the plan's floor area,
      floor area, not speed, is the limit at that budget; the promise then changes how
      many warehouses the plan opens and how long parcels travel.
    * With room for everyone, a faster promise needs more, smaller warehouses closer to
      the customers. Cross-border delivery lets a warehouse near a border serve both
      sides; it matters most where small markets sit next to large ones.
    """),
]


# ---------------------------------------------------------------------------
# 05: least area, fastest delivery, least cost
# ---------------------------------------------------------------------------
AREA_SPEED_COST: list[Cell] = [
    md("""
    # Least area, fastest delivery, least cost

    The default plan answers one question: with 200,000 m² and about 1,000 warehouses,
    how much demand can be delivered next-day? Planners ask three more, each an
    objective of the optimizer:

    * **`min-area`**: how much floor area do we really need to deliver 95 % of the
      demand next-day?
    * **`median`**: with that many warehouses, where should they go for the fastest
      average delivery, every parcel served?
    * **`cost`**: what is the cheapest network (rent, a yearly running cost per
      warehouse, delivery) that delivers everything?

    Every answer comes with a proven bound on the best possible plan and the gap
    between the two.

    **Size of the run.** The notebook plans Germany, France, the Netherlands and
    Belgium, with no area budget and no fixed number of warehouses; each plan gets at
    most 20 seconds of solver time, and the notebook runs in about two minutes. The
    same calls plan all 50 countries (see the README for the figures).
    """),
    code("""
    import dataclasses

    import pandas as pd

    import hzlogistics as hz

    COUNTRIES = ["DE", "FR", "NL", "BE"]
    TIME_LIMIT_S = 20.0
    RUNNING_COST_USD_YEAR = 50_000.0  # per warehouse, beyond its rent: an assumption to vary

    base = hz.load_scenario("hangzhou-2020")
    region = dataclasses.replace(
        base, name="core-eu", countries=COUNTRIES, count_min=0, count_max=None,
        area_budget_m2=None, time_limit_s=TIME_LIMIT_S,
    )
    print(f"{', '.join(COUNTRIES)}: capacity {region.capacity_per_m2:g} parcels/day per m², "
          f"sizes {', '.join(f'{a:,.0f}' for a in region.size_tiers_m2)} m²")
    """),
    md("""
    ## How much floor area for 95 % next-day?

    `min-area` opens the least floor area that still delivers 95 % of the parcels within
    the next-day service level, at 8 parcels/day per m² of floor.
    """),
    code("""
    least_area = hz.run_scenario(dataclasses.replace(
        region, name="core-eu-min-area", objective="min-area", required_share=0.95))
    s = least_area.summary()
    print(f"{s['status']}: {s['n_open']} warehouses, {s['total_area_m2']:,.0f} m², "
          f"{s['covered_share']:.1%} of demand next-day (gap {s['gap']:.2%})")
    """),
    md("""
    ## With as many warehouses, how fast on average?

    `median` places a given number of warehouses so that the parcel-weighted travel time
    is least, every parcel served (by the nearest open warehouse, within 48 hours of
    road travel). Here: as many warehouses as the least-area plan opens, and no capacity
    limit, so that only the locations matter.
    """),
    code("""
    n_sites = least_area.summary()["n_open"]
    fastest = hz.run_scenario(dataclasses.replace(
        region, name="core-eu-median", objective="median", capacity_per_m2=None,
        count_min=n_sites, count_max=n_sites))
    s = fastest.summary()
    print(f"{s['status']}: {s['n_open']} warehouses, mean delivery "
          f"{s['mean_travel_time_h']:.2f} h per parcel (gap {s['gap']:.2%})")
    """),
    md("""
    ## The cheapest network that delivers everything

    `cost` adds up, per year, the rent of the floor area, a running cost per warehouse
    and the delivery (per parcel and hour of travel), and finds the network with the
    least total. Without a capacity limit each warehouse takes the smallest size, so the
    running cost is what keeps the number of warehouses down: raise it and the network
    thins out.
    """),
    code("""
    cheapest = hz.run_scenario(dataclasses.replace(
        region, name="core-eu-cost", objective="cost", capacity_per_m2=None,
        fixed_cost_usd_year=RUNNING_COST_USD_YEAR))
    s = cheapest.summary()
    print(f"{s['status']}: {s['n_open']} warehouses, USD {s['objective'] / 1e6:,.1f} million "
          f"a year (gap {s['gap']:.2%})")
    """),
    md("""
    ## Side by side

    The three plans answer different questions, so they differ in every figure: the
    least-area plan packs the floor into few large warehouses near the big cities, the
    fastest plan spreads the same number of warehouses over the map, and the cheapest
    plan weighs each warehouse's running cost against the delivery it saves.
    """),
    code("""
    plans = {"least area": least_area, "fastest": fastest, "cheapest": cheapest}
    rows = {}
    for label, plan in plans.items():
        s = plan.summary()
        rows[label] = {
            "objective": s["objective_name"], "status": s["status"], "gap": s["gap"],
            "warehouses": s["n_open"], "floor area (m²)": s["total_area_m2"],
            "demand served (share)": s["covered_share"],
            "mean delivery (h)": s["mean_travel_time_h"],
            "rent (USD million/year)": s["rent_usd_year"] / 1e6,
        }
    pd.DataFrame(rows).T
    """),
    code("""
    pd.DataFrame({label: plan.countries.set_index("country")["n_sites"]
                  for label, plan in plans.items()}).rename_axis("warehouses per country")
    """),
    md("""
    ## The cheapest network on the map

    Warehouses are sized by their floor area; a click shows what each one serves and at
    what travel time.
    """),
    code("""
    cheapest.to_map()
    """),
    md("""
    ## What to take from it

    * The area needed for 95 % next-day is set by throughput: at 8 parcels/day per m²
      each parcel needs its eighth of a square metre, and the plan adds little on top.
    * The fastest plan and the cheapest plan choose different places: travel time alone
      pulls warehouses towards every cluster of demand, cost trades that against rent
      and running costs.
    * The running cost per warehouse is an assumption: run the last plan again with
      another value, or give each site its own `fixed_cost` column in your sites file.
    """),
]


# ---------------------------------------------------------------------------
# 06: phased roll-out
# ---------------------------------------------------------------------------
PHASED: list[Cell] = [
    md("""
    # A phased roll-out: which warehouses open first?

    Hangzhou's plan grows from the 13 warehouses running today to about 1,000 by 2020.
    A planner has to say which sites open in 2018, which in 2019 and which in 2020, as
    demand grows. This notebook asks what planning the years together is worth:

    * **multi-period**: every year planned at once, the networks nested (a site that
      opens stays open, and never shrinks), the demand covered summed over the years;
    * **myopic**: each year planned for its own demand, then forced to nest (the
      previous year's sites stay open);
    * **last year first**: 2020 planned alone, then each earlier year chooses which of
      next year's sites open first.

    **Size of the run.** Five markets (Germany, France, the Netherlands, Belgium and
    Poland), same-day delivery, 5 more warehouses each year up to 20 in 2020, and no
    capacity limit, so that where the warehouses stand is all that matters. Demand
    grows at different rates: Poland doubles every year, France grows 50 %, Germany
    stays flat (an assumption to vary, `country_growth`). Each solve gets at most 30
    seconds; the notebook runs in well under a minute.
    """),
    code("""
    import dataclasses

    import pandas as pd

    import hzlogistics as hz
    from hzlogistics.models import solve
    from hzlogistics.models.phased import solve_last_year_first, solve_myopic, year_problem

    base = hz.load_scenario("hangzhou-2017-2020")
    scenario = dataclasses.replace(
        base, name="eu-rollout", title="Five EU markets, roll-out 2017-2020",
        countries=["DE", "FR", "NL", "BE", "PL"], service_level="same-day",
        capacity_per_m2=None, area_budget_m2=None, count_min=20, count_max=20,
        min_sites_per_country=0, time_limit_s=30.0,
        phasing=dataclasses.replace(
            base.phasing, area_budget_m2=None, count=None,  # 5, 10, 15, 20 warehouses
            country_growth={"PL": 1.0, "FR": 0.5, "DE": 0.0}),
    )
    scenario.phasing
    """),
    md("""
    ## The multi-period plan

    `run_scenario` solves the roll-out; the plan it returns is 2020's, and knows its
    years: `plan.year(2018)` is 2018's plan with its own KPIs. The objective is the
    parcels/day covered each year, summed over the years, with a proven bound.
    """),
    code("""
    plan = hz.run_scenario(scenario)
    s = plan.summary()
    print(f"{s['status']}: {s['objective']:,.0f} parcels/day-years covered, bound "
          f"{s['bound']:,.0f} (gap {s['gap']:.2%}), solved in {s['wall_s']:.1f} s")
    pd.DataFrame(s["years"]).set_index("year")[
        ["n_open", "n_new", "covered_weight", "total_weight", "covered_share"]]
    """),
    code("""
    y2018 = plan.year(2018)
    y2018.open_sites[["id", "name", "country", "area_m2"]]
    """),
    md("""
    ## Each year on its own does not nest

    Planned alone, each year picks the best sites for its own demand. Read one after
    the other, those plans close warehouses that an earlier year opened: a network
    cannot be built that way.
    """),
    code("""
    phased = plan.phases.problem
    options = hz.SolveOptions(time_limit_s=10.0, gap=scenario.gap)
    alone = {}
    for t, year in enumerate(plan.years):
        problem, sites = year_problem(phased, t)
        result = solve(problem, "coverage", options)
        alone[year] = set(phased.base.site_ids[sites][result.open])
    for a, b in zip(plan.years, plan.years[1:]):
        print(f"{a} -> {b}: {len(alone[a] - alone[b])} of the {len(alone[a])} warehouses of "
              f"{a}'s own plan are not in {b}'s")
    """),
    md("""
    ## Against the two baselines

    Both baselines run on the same phased problem; the multi-period solve runs both of
    them too, so its roll-out is never worse than either.
    """),
    code("""
    runs = {
        "multi-period": plan.phases.result,
        "myopic": solve_myopic(phased, options),
        "last year first": solve_last_year_first(phased, options),
    }
    best = runs["multi-period"].objective
    table = pd.DataFrame({
        name: {"objective": r.objective, "vs multi-period": r.objective / best - 1,
               **{f"covered {y}": share for y, share in zip(r.years, r.covered_share)}}
        for name, r in runs.items()}).T
    table.loc["bound (each year alone)"] = {"objective": runs["multi-period"].bound}
    table
    """),
    code("""
    shares = pd.DataFrame({name: pd.Series(r.covered_share, index=r.years)
                           for name, r in runs.items()})
    ax = shares.plot(marker="o", figsize=(7, 4), title="Demand covered same-day, by year")
    ax.set_xticks(plan.years)
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("share of the year's demand");
    """),
    md("""
    ## The roll-out on the map

    A slider at the top shows one year at a time; the warehouses that open in the year
    shown have an orange rim, and the legend gives each year's covered share.
    """),
    code("""
    plan.to_map(sea_lanes=False)
    """),
    md("""
    ## What to take from it

    * A plan that knows where demand will grow opens warehouses there early: the
      myopic roll-out fills its early years' quota where demand is today and keeps
      those sites for good.
    * How much that is worth depends on how unevenly demand grows and how tight the
      yearly limits are; on the default 50-country roll-out, where floor area and
      throughput bind every year, the myopic plan is within a few hundredths of a
      percent of the multi-period one (see the README).
    * The growth rates are assumptions: try other `country_growth` values, a
      `discount`, or `max_openings` to cap how many warehouses a year can open.
    """),
]


# ---------------------------------------------------------------------------
# 07: landed cost from Hangzhou
# ---------------------------------------------------------------------------
LANDED_COST: list[Cell] = [
    md("""
    # Landed cost: from Hangzhou to the buyer's door

    The goods in these warehouses come from Hangzhou. They leave by sea through
    Ningbo–Zhoushan, land at a port of entry, go by truck to the warehouse (drayage),
    wait there (rent, running cost) and go out to the buyer (last mile). The
    **`landed`** objective opens the warehouses that make the sum of all of it least
    over a year, within the service level; the rent-only **`cost`** objective sees
    rent, running cost and the last mile, not the inbound leg.

    This notebook plans the same countries three ways and prices every plan at its
    landed cost:

    * the **landed** plan;
    * the rent-only **cost** plan;
    * the **coverage** plan with as many warehouses as the landed plan.

    It shows where the warehouses move and what the inbound leg is worth.

    **Size of the run.** Germany, the Netherlands, Belgium, Poland and Czechia, with
    cross-border delivery inside the EU (so a German warehouse may take Rotterdam or
    Antwerp as its port); each plan gets at most 20 seconds and a 0.5 % gap. The
    notebook runs in well under a minute.
    """),
    code("""
    import dataclasses

    import pandas as pd

    import hzlogistics as hz
    from hzlogistics import settings
    from hzlogistics.plan_landed import landed_cost_of, landed_rates

    COUNTRIES = ["DE", "NL", "BE", "PL", "CZ"]
    RUNNING_COST_USD_YEAR = 50_000.0  # per warehouse, beyond its rent: an assumption

    base = hz.load_scenario("hangzhou-2020")
    region = dataclasses.replace(
        base, name="landed-eu", countries=COUNTRIES, cross_border_groups=["EU"],
        count_min=0, count_max=None, area_budget_m2=None, min_sites_per_country=0,
        capacity_per_m2=None, fixed_cost_usd_year=RUNNING_COST_USD_YEAR,
        cutoff_h=settings.SERVICE_LEVELS_H["next-day"], time_limit_s=20.0, gap=0.005,
    )
    """),
    md("""
    ## The rates

    Every rate is a key of the scenario's `[landed]` section, with its unit, its
    default and the source or assumption behind it (`docs/scenario.md`). A container
    rate becomes a rate per parcel through the parcels per container.
    """),
    code("""
    rates = landed_rates(region)
    pd.Series({
        "origin": rates.origin,
        "sea, USD per container-km": rates.sea_usd_per_container_km,
        "parcels per container": rates.parcels_per_container,
        "port handling, USD per container": rates.port_usd_per_container,
        "drayage, USD per container-km": rates.drayage_usd_per_container_km,
        "last mile, USD per parcel-hour": rates.last_mile_usd_per_parcel_h,
        "sea, USD per parcel over 19,500 km": rates.sea_usd_per_parcel_km * 19_500,
        "drayage, USD per parcel over 200 km": rates.drayage_usd_per_parcel_km * 200,
    }, name="rate").to_frame()
    """),
    md("""
    ## Three plans
    """),
    code("""
    landed = hz.run_scenario(dataclasses.replace(region, name="landed-eu-landed",
                                                 objective="landed"))
    cost = hz.run_scenario(dataclasses.replace(region, name="landed-eu-cost", objective="cost"))
    n_open = landed.summary()["n_open"]
    coverage = hz.run_scenario(dataclasses.replace(
        region, name="landed-eu-coverage", objective="coverage", count_min=n_open,
        count_max=n_open))
    plans = {"landed": landed, "cost (rent only)": cost, "coverage": coverage}
    for label, plan in plans.items():
        s = plan.summary()
        print(f"{label:17} {s['status']:8} {s['n_open']:4} warehouses, gap {s['gap']:.2%}")
    """),
    md("""
    ## Every plan at its landed cost

    `landed_cost_of` prices any plan as the landed objective would: each open
    warehouse takes its cheapest port of entry, and the sea, port, drayage, rent,
    running cost and last mile of what it serves are added up (USD million a year).
    """),
    code("""
    priced = {label: landed_cost_of(plan, region) for label, plan in plans.items()}
    table = pd.DataFrame({label: {**{k: v / 1e6 for k, v in b.totals.items()},
                                  "USD per parcel": b.usd_per_parcel}
                          for label, b in priced.items()})
    table.round(3)
    """),
    code("""
    best = priced["landed"].totals["total"]
    for label, b in priced.items():
        extra = b.totals["total"] - best
        print(f"{label:17} USD {b.usd_per_parcel:.3f} per parcel, "
              f"{extra / 1e6:+.2f} million a year against the landed plan")
    inbound = sum(priced["landed"].totals[k] for k in ("sea", "port", "drayage", "duty"))
    print(f"inbound leg of the landed plan: {inbound / best:.0%} of its landed cost")
    """),
    md("""
    ## Where the warehouses move

    Warehouses per country, and the parcels each port of entry takes. A plan that
    ignores the inbound leg may still pick good places when the last mile dominates;
    the coverage plan, which counts neither rent nor cost, moves the most.
    """),
    code("""
    pd.DataFrame({label: plan.open_sites.groupby("country").size()
                  for label, plan in plans.items()}).fillna(0).astype(int)
    """),
    code("""
    def drayage_km(b):
        s = b.sites
        return float((s["drayage_km"] * s["parcels_day"]).sum() / s["parcels_day"].sum())

    ids = {label: set(plan.open_sites["id"]) for label, plan in plans.items()}
    for label in ("cost (rent only)", "coverage"):
        moved = len(ids[label] ^ ids["landed"]) // 2
        print(f"{label:17} about {moved} warehouses elsewhere than in the landed plan; "
              f"mean drayage {drayage_km(priced[label]):,.0f} km per parcel "
              f"(landed plan: {drayage_km(priced['landed']):,.0f} km)")
    """),
    code("""
    ports = pd.DataFrame({label: b.ports.set_index("port")["parcels_day"]
                          for label, b in priced.items()}).fillna(0.0)
    ports.sort_values("landed", ascending=False).round(0)
    """),
    md("""
    ## When trucking is dear

    At a full truckload's rate, drayage is a small part of a parcel's cost, so the
    inbound leg hardly moves the warehouses. Where only small trucks or pallet freight
    are at hand, it counts for more: here drayage at ten times the rate. The landed
    plan pulls its warehouses towards the ports; the rent-only plan cannot see why.
    """),
    code("""
    dear = dataclasses.replace(region, drayage_usd_per_container_km=20.0)
    landed_dear = hz.run_scenario(dataclasses.replace(dear, name="landed-eu-dear",
                                                      objective="landed"))
    at_dear = {"landed, dear drayage": landed_cost_of(landed_dear, dear),
               "cost (rent only)": landed_cost_of(cost, dear)}
    for label, b in at_dear.items():
        print(f"{label:21} USD {b.usd_per_parcel:.3f} per parcel, drayage "
              f"{b.totals['drayage'] / 1e6:,.1f} million a year, mean drayage "
              f"{drayage_km(b):,.0f} km")
    """),
    md("""
    ## The landed plan on the map

    Sea lanes to the ports of entry, wider for more parcels, with their yearly sea
    freight and port handling in the tooltip; the landed cost per parcel by country;
    and each warehouse's port and cost breakdown in its popup.
    """),
    code("""
    landed.to_map()
    """),
    md("""
    ## What to take from it

    * The inbound leg is most of a parcel's landed cost, but its sea part is about the
      same through any port of a region: it moves the total, not the warehouses.
    * Drayage and the choice of port decide where the inbound leg moves warehouses;
      at a full truckload's rate the last mile outweighs them, and the landed and
      rent-only plans nearly agree. Dear drayage, or a sea rate that differs between
      ports, pulls warehouses towards the ports.
    * Every rate is an assumption with a stated source; set yours in `[landed]`.
    """),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_area_budget_tradeoff.ipynb": AREA_BUDGET,
    "03_bring_your_own_sites.ipynb": OWN_SITES,
    "04_service_levels.ipynb": SERVICE_LEVELS,
    "05_area_speed_cost.ipynb": AREA_SPEED_COST,
    "06_phased_rollout.ipynb": PHASED,
    "07_landed_cost.ipynb": LANDED_COST,
}


# ---------------------------------------------------------------------------
# Building and checking
# ---------------------------------------------------------------------------
def build_notebook(cells: list[Cell], stem: str):  # -> nbformat.NotebookNode
    """Turn a list of cells into a notebook with cleared outputs and fixed cell ids."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for k, (kind, text) in enumerate(cells):
        cell = v4.new_markdown_cell(text) if kind == "markdown" else v4.new_code_cell(text)
        cell["id"] = f"{stem[:2]}-{k:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebook_text(name: str) -> str:
    """The JSON text of the notebook ``name`` as this script writes it."""
    import nbformat

    nb = build_notebook(NOTEBOOKS[name], Path(name).stem)
    return nbformat.writes(nb) + "\n"


def write_notebooks(folder: Path = HERE) -> list[Path]:
    """Write every notebook into ``folder``; return the paths written."""
    paths = []
    for name in NOTEBOOKS:
        path = folder / name
        path.write_text(notebook_text(name), encoding="utf-8")
        paths.append(path)
    return paths


def stale_notebooks(folder: Path = HERE) -> list[str]:
    """Names of the notebooks in ``folder`` that differ from what this script writes."""
    stale = []
    for name in NOTEBOOKS:
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != notebook_text(name):
            stale.append(name)
    return stale


def write_demand_csv(path: Path = HERE / "data" / "my_demand.csv") -> Path:
    """Write the demand regions of notebook 03 from the built-in demand.

    The built-in demand points of :data:`OWN_DATA_COUNTRIES` are summed on a grid
    of :data:`DEMAND_CELL_DEG` degrees, per country; each region is placed at its
    largest point (a town, so on land and inside its country).
    """
    import numpy as np
    import pandas as pd

    from hzlogistics import load_demand

    demand = load_demand(list(OWN_DATA_COUNTRIES))
    frame = pd.DataFrame({
        "country": demand["country"].to_numpy(),
        "town": demand["name"].to_numpy(),
        "lon": demand.geometry.x.to_numpy(),
        "lat": demand.geometry.y.to_numpy(),
        "weight": demand["weight"].to_numpy(),
    })
    frame["cx"] = np.floor(frame["lon"] / DEMAND_CELL_DEG).astype(int)
    frame["cy"] = np.floor(frame["lat"] / DEMAND_CELL_DEG).astype(int)
    keys = ["country", "cy", "cx"]
    total = frame.groupby(keys)["weight"].sum()
    largest = frame.loc[frame.groupby(keys)["weight"].idxmax()].set_index(keys)
    regions = largest.assign(weight=total).reset_index().sort_values(keys)
    out = pd.DataFrame({
        "id": [f"{c}-{k:03d}" for k, c in enumerate(regions["country"], start=1)],
        "name": [f"{t} region" for t in regions["town"]],
        "country": regions["country"].to_numpy(),
        "lon": regions["lon"].round(5).to_numpy(),
        "lat": regions["lat"].round(5).to_numpy(),
        "weight": regions["weight"].round(1).to_numpy(),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook differs from this script")
    parser.add_argument("--data", action="store_true",
                        help="also rewrite data/my_demand.csv from the built-in demand")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_notebooks()
        for name in stale:
            print(f"{name}: out of date; run python notebooks/make_notebooks.py", file=sys.stderr)
        return 1 if stale else 0
    for path in write_notebooks():
        print(f"wrote {path}")
    if args.data:
        print(f"wrote {write_demand_csv()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
