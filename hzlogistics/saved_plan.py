"""A plan folder read back into a :class:`~hzlogistics.plan.Plan`.

:func:`read_plan` rebuilds what :func:`hzlogistics.report.write_plan` wrote:
sites, demand, countries, assignments, the solve's figures from
``summary.json`` and the scenario from ``scenario.toml``. ``hzlogistics
compare`` reads its two plans this way.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.io import gdal_readable
from hzlogistics.plan import Plan
from hzlogistics.report import PLAN_FILES
from hzlogistics.scenario import loads_scenario
from hzlogistics.solvers.problem import SolveResult

logger = logging.getLogger(__name__)


def read_plan(out_dir: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by :func:`~hzlogistics.report.write_plan` back into a Plan.

    Parameters
    ----------
    out_dir
        The folder holding ``plan.gpkg`` and ``summary.json``.

    Returns
    -------
    Plan
        With sites, demand, countries, assignments and a result rebuilt from
        the summary; ``problem`` and ``coverage`` are ``None``; ``scenario`` is
        read from ``scenario.toml`` when present and valid.

    Raises
    ------
    ValidationError
        When the folder or one of its files is missing or unreadable.
    """
    folder = Path(out_dir)
    gpkg = folder / PLAN_FILES["gpkg"]
    summary_path = folder / PLAN_FILES["summary"]
    missing = [p.name for p in (gpkg, summary_path) if not p.is_file()]
    if not folder.is_dir():
        raise ValidationError(f"{folder}: no such plan folder; expected the output folder of "
                              "`hzlogistics plan` (holding plan.gpkg and summary.json)")
    if missing:
        raise ValidationError(f"{folder}: not a plan folder, missing {', '.join(missing)}")
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        readable, cleanup = gdal_readable(gpkg)
        layers = {layer: gpd.read_file(readable, layer=layer)
                  for layer in ("sites", "demand", "assignments", "countries")}
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{folder}: cannot read the plan files ({exc})") from None
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise ValidationError(f"{gpkg}: cannot read the GeoPackage ({exc})") from None
    finally:
        cleanup()
    sites, demand = layers["sites"], layers["demand"]
    for frame in (sites, demand):
        frame["id"] = frame["id"].astype(str)
    assignments = pd.DataFrame(layers["assignments"].drop(columns="geometry"))
    for col in ("site_id", "demand_id"):
        assignments[col] = assignments[col].astype(str)
    site_index = pd.Series(np.arange(len(sites)), index=sites["id"].to_numpy())
    demand_index = pd.Series(np.arange(len(demand)), index=demand["id"].to_numpy())
    served = sp.csr_matrix(
        (assignments["weight"].to_numpy(dtype=float),
         (site_index.reindex(assignments["site_id"]).to_numpy(dtype=np.int64),
          demand_index.reindex(assignments["demand_id"]).to_numpy(dtype=np.int64))),
        shape=(len(sites), len(demand)),
    )

    def num(key: str) -> float:
        v = summary.get(key)
        return float("nan") if v is None else float(v)

    result = SolveResult(
        status=summary.get("status", "feasible"),
        objective=num("objective"),
        bound=num("bound"),
        gap=num("gap"),
        wall_s=num("wall_s"),
        area_m2=sites["area_m2"].to_numpy(dtype=float),
        served=served,
        sense=summary.get("sense", "max"),
        objective_name=summary.get("objective_name", "coverage"),
    )
    scenario = None
    scenario_path = folder / PLAN_FILES["scenario"]
    if scenario_path.is_file():
        try:
            scenario = loads_scenario(scenario_path.read_text(encoding="utf-8"),
                                      source=str(scenario_path))
        except ValidationError as exc:
            logger.warning("%s: not read back (%s)", scenario_path, exc)
    countries = layers["countries"]
    if not isinstance(countries, gpd.GeoDataFrame):  # pragma: no cover - table without geometry
        countries = gpd.GeoDataFrame(countries, geometry=gpd.GeoSeries([None] * len(countries),
                                                                        crs="EPSG:4326"))
    return Plan(
        name=summary.get("name", folder.name),
        title=summary.get("title", folder.name),
        sites=sites,
        demand=demand,
        countries=countries,
        assignments=assignments,
        result=result,
        scenario=scenario,
        timings={k: float(v) for k, v in (summary.get("timings") or {}).items()},
    )


__all__ = ["read_plan"]
