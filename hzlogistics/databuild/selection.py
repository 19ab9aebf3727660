"""Which countries a build covers, by name, and how their demand is drawn."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hzlogistics.countries import COUNTRY_CODES, COUNTRY_NAMES, validate_codes


@dataclass
class Selection:
    """The countries of one build and how their demand is drawn."""

    codes: tuple[str, ...]
    names: dict[str, str]
    min_population: int | None  # None: the rule of the built-in data set
    requested: str  # "default", "all" or the codes as given
    gdp_fallback_per_capita_usd: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.requested == "default"


def select_countries(
    raw: pd.DataFrame, countries: str | Iterable[str] | None, min_population: int | None
) -> Selection:
    """Resolve ``countries`` (None = the 50 markets, "all", or codes) against Natural Earth."""
    names: dict[str, str] = {}
    order = raw.sort_values("POP_EST", ascending=False, kind="stable")
    for code, name in zip(order["ISO_A2_EH"], order["NAME_EN"], strict=True):
        names.setdefault(str(code), COUNTRY_NAMES.get(str(code), str(name)))
    totals = raw.groupby("ISO_A2_EH")[["POP_EST", "GDP_MD"]].sum()
    if countries is None:
        codes, requested = list(COUNTRY_CODES), "default"
    elif isinstance(countries, str) and countries.strip().lower() == "all":
        codes = sorted(c for c in totals.index if totals.loc[c, "POP_EST"] > 0)
        requested = "all"
    else:
        codes = sorted(validate_codes(countries, valid=dict(sorted(names.items()))))
        requested = ",".join(codes)
    both = totals[(totals["POP_EST"] > 0) & (totals["GDP_MD"] > 0)]
    fallback = round(float(np.median(both["GDP_MD"] * 1e6 / both["POP_EST"])), 1)
    return Selection(codes=tuple(codes), names={c: names[c] for c in codes},
                     min_population=min_population, requested=requested,
                     gdp_fallback_per_capita_usd=fallback)
