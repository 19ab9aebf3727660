"""Checking scenario values: one key's value as a file gives it, and a whole scenario."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.scenario.keys import (
    FIELD_KEYS,
    KEYS,
    NONE,
    PHASING_KEY_INFO,
    QUOTA_KEY_INFO,
    CountryQuota,
    Phasing,
    Scenario,
    is_int,
    is_number,
    suggest,
)


def coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """Turn a TOML value into a field value of ``kind``; return (value, problem)."""
    if kind == "count":
        return coerce_count(value)
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if optional and isinstance(value, str) and value.strip().lower() == NONE:
        return None, None
    none_hint = ' or "none"' if optional else ""
    if base == "str":
        return (value, None) if isinstance(value, str) else (
            None, f"must be text in quotes{none_hint}, got {value!r}")
    if base == "path":
        return (value, None) if isinstance(value, str) and value.strip() else (
            None, f"must be a file path in quotes{none_hint}, got {value!r}")
    if base == "float":
        if is_number(value):
            return float(value), None
        return None, f"must be a number{none_hint}, got {value!r}"
    if base == "int":
        if is_int(value):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        return None, f"must be a whole number{none_hint}, got {value!r}"
    if base == "bool":
        return (value, None) if isinstance(value, bool) else (
            None, f"must be true or false, got {value!r}")
    if base in ("strs", "codes"):
        if base == "codes" and isinstance(value, str) and value.strip().lower() == "all":
            return None, None
        if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool)
                                           for v in value):
            items = [str(v).strip() for v in value]
            return ([v.upper() for v in items] if base == "codes" else items), None
        extra = ' or "all"' if base == "codes" else ""
        return None, f"must be a list of text values{extra}, got {value!r}"
    if base == "rates":
        if isinstance(value, dict) and all(is_number(v) for v in value.values()):
            return {str(k).strip().upper(): float(v) for k, v in value.items()}, None
        return None, ("must be a table of numbers by country code, e.g. { DE = 1.5 }, "
                      f"got {value!r}")
    if base == "floats":
        if isinstance(value, list) and all(is_number(v) for v in value):
            return [float(v) for v in value], None
        return None, f"must be a list of numbers{none_hint}, got {value!r}"
    if base == "ints":
        if isinstance(value, list) and all(is_int(v) or (isinstance(v, float) and v.is_integer())
                                           for v in value):
            return [int(v) for v in value], None
        return None, f"must be a list of whole numbers{none_hint}, got {value!r}"
    if base == "years":
        return coerce_years(value)
    if base == "counts":
        if isinstance(value, list):
            counts = [coerce_count(v) for v in value]
            if all(err is None for _, err in counts):
                return [c for c, _ in counts], None
        return None, (f'must be a list with one count per year (N, [min, max] or "none"), '
                      f"e.g. [[250, 300], [500, 550]]{none_hint}, got {value!r}")
    if base == "paths":
        if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
            return list(value), None
        return None, f"must be a list of file paths in quotes{none_hint}, got {value!r}"
    raise AssertionError(kind)  # pragma: no cover


def coerce_years(value: Any) -> tuple[list[int] | None, str | None]:
    """Years as a list of whole numbers, or a ``"FIRST:LAST"`` range.

    Examples
    --------
    >>> coerce_years("2017:2020")
    ([2017, 2018, 2019, 2020], None)
    >>> coerce_years([2018, 2020])
    ([2018, 2020], None)
    """
    problem = 'must be a list of years such as [2017, 2018, 2019, 2020] or "2017:2020"'
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            first, last = (int(p) for p in parts)
            if first <= last and last - first < 1000:
                return list(range(first, last + 1)), None
            return None, f"{problem} (FIRST <= LAST), got {value!r}"
    elif isinstance(value, list) and all(is_int(v) for v in value):
        return list(value), None
    elif is_int(value):
        return [value], None
    return None, f"{problem}, got {value!r}"


def coerce_count(value: Any) -> tuple[tuple[int, int | None] | None, str | None]:
    problem = 'must be a whole number N, a range [min, max] or "none"'
    if isinstance(value, str) and value.strip().lower() == NONE:
        return (0, None), None
    if is_int(value):
        return (value, value), None
    if isinstance(value, list) and len(value) == 2:
        lo, lo_err = coerce("int", value[0])
        hi, hi_err = coerce("int?", value[1])
        if lo_err is None and hi_err is None:
            return (lo, hi), None
    return None, f"{problem}, got {value!r}"


# ---------------------------------------------------------------------------
# Validation of values
# ---------------------------------------------------------------------------
# Validation of values
# ---------------------------------------------------------------------------
def known_country_codes(dataset: str | None = None) -> tuple[str, ...] | None:
    """Codes of the scenario's data set; ``None`` when that data set is not built yet."""
    from hzlogistics.countries import COUNTRY_CODES, dataset_names, find_dataset

    if dataset is None:
        return tuple(COUNTRY_CODES)
    try:
        return tuple(dataset_names(find_dataset(dataset)))
    except ValidationError:
        return None


def _nearest_countries(value: str, dataset: str | None) -> str:
    """' (nearest: ...)' naming the valid codes nearest to an unknown one."""
    from hzlogistics.countries import COUNTRY_NAMES, dataset_names, find_dataset, nearest_codes

    names = COUNTRY_NAMES if dataset is None else dataset_names(find_dataset(dataset))
    near = nearest_codes(str(value), names)
    return (" (nearest: " + ", ".join(f"{c} {names[c]}" for c in near) + ")") if near else ""


def _count_order(count_min: Any, count_max: Any) -> str | None:
    """The problem of a count range whose limits are each valid but out of order."""
    if is_int(count_min) and is_int(count_max) and count_max >= 1 and count_max < count_min:
        return f"must be >= count_min ({count_min}), got {count_max}"
    return None


def scenario_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Check every value of a scenario and every pair that must agree.

    Each value is checked by its key's :attr:`Key.check`; the rules that
    involve several keys (countries, count range, quotas) are checked here.

    Parameters
    ----------
    scenario
        The scenario to check.

    Returns
    -------
    list of (field, message)
        One entry per problem, in field order; empty when the scenario is valid.
        ``field`` is a dataclass field name, or ``quotas.XX.key`` for a quota.

    Examples
    --------
    >>> for field, message in scenario_problems(Scenario(gap=1.0, count_min=5, count_max=2)):
    ...     print(field, message)
    count_max must be >= count_min (5), got 2
    gap must be >= 0 and < 1 (0: prove the optimum), got 1.0
    """
    s = scenario
    out = [(name, message) for name, key in FIELD_KEYS.items() if key.check is not None
           for message in key.check(getattr(s, name))]
    codes: tuple[str, ...] | None = None
    if s.countries is not None or s.quotas:
        codes = known_country_codes(s.dataset)
    out += [("countries", m) for m in _country_problems(s.countries, codes, s.dataset)]
    order_problem = _count_order(s.count_min, s.count_max)
    if order_problem:
        out.append(("count_max", order_problem))
    for code, quota in s.quotas.items():
        out += _quota_problems(code, quota, codes, s.countries)
    if s.phasing is not None:
        if s.phasing.country_growth and codes is None:
            codes = known_country_codes(s.dataset)
        out += phasing_problems(s.phasing, objective=s.objective, codes=codes)
    order = {f.name: k for k, f in enumerate(dataclasses.fields(Scenario))}
    out.sort(key=lambda p: order.get(p[0].split(".")[0], len(order)))
    return out


def _country_problems(countries: list[str] | None, codes: tuple[str, ...] | None,
                      dataset: str | None) -> list[str]:
    """Problems of the ``countries`` list; codes are not checked when the data set is
    not built yet (``codes`` is ``None``: it is built, and checked, on first use)."""
    if countries is None:
        return []
    out = []
    if not countries:
        out.append("must name at least one country (omit the key for all 50)")
    see = ("see `hzlogistics countries` for the 50 codes" if dataset is None
           else f"see `hzlogistics countries --dataset {dataset}`")
    for c in countries:
        if codes is not None and c not in codes:
            hint = suggest(c, codes) or _nearest_countries(c, dataset)
            out.append(f"unknown country code {c!r}{hint}; {see}")
    dupes = sorted({c for c in countries if countries.count(c) > 1})
    if dupes:
        out.append(f"lists {', '.join(dupes)} more than once")
    return out


def _quota_problems(code: str, quota: CountryQuota, codes: tuple[str, ...] | None,
                    countries: list[str] | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if codes is not None and code not in codes:
        out.append((f"quotas.{code}", f"unknown country code {code!r}{suggest(code, codes)}"))
    elif countries is not None and code not in countries:
        out.append((f"quotas.{code}", f"{code} is not among the scenario's countries"))
    for name, key in QUOTA_KEY_INFO.items():
        assert key.check is not None
        out += [(f"quotas.{code}.{name}", m) for m in key.check(getattr(quota, name))]
    for lo, hi in (("min_sites", "max_sites"), ("min_area_m2", "max_area_m2")):
        a, b = getattr(quota, lo), getattr(quota, hi)
        if is_number(a) and is_number(b) and b < a:
            out.append((f"quotas.{code}.{hi}", f"must be >= {lo} ({a}), got {b}"))
    return out


def phasing_problems(phasing: Phasing, *, objective: str = "coverage",
                     codes: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """The problems of a ``[phasing]`` section: each value, and the lists against the years.

    Returns
    -------
    list of (field, message)
        ``field`` is ``phasing.KEY``.

    Examples
    --------
    >>> for f, m in phasing_problems(Phasing(years=[2019, 2020], area_budget_m2=[5e4])):
    ...     print(f, m)
    phasing.area_budget_m2 must give one value per year (2 years: 2019, 2020), got 1
    """
    out: list[tuple[str, str]] = []
    for name, key in PHASING_KEY_INFO.items():
        if key.check is not None:
            out += [(f"phasing.{name}", m) for m in key.check(getattr(phasing, name))]
    years = phasing.years or []
    if not any(f == "phasing.years" for f, _ in out):
        shown = ", ".join(str(y) for y in years[:6]) + (", ..." if len(years) > 6 else "")
        for name in ("area_budget_m2", "count", "max_openings", "demand_files"):
            values = getattr(phasing, name)
            if values is not None and len(values) != len(years):
                out.append((f"phasing.{name}", f"must give one value per year ({len(years)} "
                                               f"years: {shown}), got {len(values)}"))
    if objective != "coverage":
        out.append(("phasing", f"a phased roll-out plans the coverage objective only, not "
                               f"{objective!r}; remove [phasing] or set objective = "
                               '"coverage"'))
    if codes is not None:
        for code in phasing.country_growth:
            if code not in codes:
                out.append(("phasing.country_growth",
                            f"unknown country code {code!r}{suggest(code, codes)}"))
    return out


def check_key(name: str, value: Any) -> tuple[Any, list[str]]:
    """Read one value of a key as a scenario file does, and check it on its own.

    Parameters
    ----------
    name
        A key of :data:`KEYS` (``count`` included), or ``phasing.KEY`` for a key of
        ``[phasing]``.
    value
        The value as TOML would give it (``"none"`` for no limit).

    Returns
    -------
    value, problems
        The field value (``(count_min, count_max)`` for ``count``) and the
        problems, worded as for the same value in a scenario file (without the
        file, line and key); empty when the value is valid.

    Examples
    --------
    >>> check_key("area_budget_m2", 0)
    (0.0, ['must be a positive number, got 0.0'])
    >>> check_key("count", 5)
    ((5, 5), [])
    >>> check_key("phasing.years", "2020:2018")[1][0][-32:]
    "(FIRST <= LAST), got '2020:2018'"
    """
    if name.startswith("phasing."):
        pkey = PHASING_KEY_INFO[name.split(".", 1)[1]]
        v, problem = coerce(pkey.kind, value)
        if problem:
            return None, [problem]
        return v, pkey.check(v) if pkey.check is not None else []
    key = KEYS[name]
    v, problem = coerce(key.kind, value)
    if problem:
        return None, [problem]
    if name != "count":
        return v, key.check(v) if key.check is not None else []
    lo, hi = v
    found = [m for f, x in zip(key.fields, v, strict=True)
             for m in (FIELD_KEYS[f].check or (lambda _: []))(x)]
    order_problem = _count_order(lo, hi)
    return v, (found or ([order_problem] if order_problem else []))[:1]


def validate_scenario(
    scenario: Scenario, *, where: Callable[[str], str] | None = None
) -> Scenario:
    """Check a scenario and raise one error listing every problem.

    Parameters
    ----------
    scenario
        The scenario to check (e.g. after overriding fields in code).
    where
        Turns a field name into the place to name in the message (a file and
        line, a command-line flag); by default ``"scenario '<name>': <field>"``.

    Returns
    -------
    Scenario
        The same scenario, when valid.

    Raises
    ------
    ValidationError
        Listing every problem found.

    Examples
    --------
    >>> validate_scenario(Scenario(time_limit_s=-1))
    Traceback (most recent call last):
    ...
    hzlogistics._errors.ValidationError: scenario 'hangzhou-2020': time_limit_s: must be a positive number, got -1
    """  # noqa: E501
    problems = scenario_problems(scenario)
    if problems:
        place = where or (lambda f: f"scenario '{scenario.name}': {f}")
        raise ValidationError([f"{place(f)}: {m}" for f, m in problems])
    return scenario


def objective_kwargs(scenario: Scenario) -> dict[str, Any]:
    """The options of the scenario's objective, as keyword arguments of its model.

    Examples
    --------
    >>> objective_kwargs(Scenario(objective="min-area", required_share=0.9))
    {'required_share': 0.9}
    >>> objective_kwargs(Scenario(objective="coverage"))
    {}
    """
    return {name: getattr(scenario, name)
            for name in settings.OBJECTIVE_OPTIONS.get(scenario.objective, ())}


