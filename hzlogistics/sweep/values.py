"""The values a sweep varies: which scenario keys, read from text or lists, and checked.

Every scenario key whose :class:`~hzlogistics.scenario.Key` has a ``sweep``
entry may be varied, under its own name or the short names listed there. A
value is read as the same value in a scenario file would be, and checked by the
scenario's own check (:func:`~hzlogistics.scenario.check_key`), so ``--vary``
rejects exactly what a scenario file rejects, in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hzlogistics._errors import ValidationError
from hzlogistics._validate import close_match
from hzlogistics.scenario import KEYS, Scenario, check_key


@dataclass(frozen=True)
class SweepParameter:
    """A scenario key a sweep may vary.

    Attributes
    ----------
    name
        The key in a sweep's ``vary`` and the column of its table: a
        :class:`~hzlogistics.scenario.Scenario` field, or ``count`` (sets
        ``count_min`` and ``count_max`` to the same number of sites).
    kind
        The key's kind in a scenario file (``float?``, ``int``, ``str``, ``strs``,
        ``count``, ...); cross-border groups are written ``EU+GCC`` (``none`` for
        no group).
    coverage
        Whether the value changes the delivery coverage (rebuilt per value).
    aliases
        Short names (as on the command line).
    """

    name: str
    kind: str
    coverage: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        """Whether the values are numbers (and may be written as ranges)."""
        return self.kind.rstrip("?") in ("float", "int", "count")


#: Every parameter a sweep may vary, by its name (derived from the scenario's keys).
SWEEP_PARAMETERS: dict[str, SweepParameter] = {
    name: SweepParameter(name, key.kind, key.coverage, key.sweep)
    for name, key in KEYS.items() if key.sweep is not None
}

#: Short names (as on the command line) of the sweep parameters.
SWEEP_ALIASES: dict[str, str] = {
    alias: p.name for p in SWEEP_PARAMETERS.values() for alias in p.aliases
}

#: Most points one range (``start:stop:step``) may expand to.
MAX_RANGE_POINTS: int = 10_000

_NONE_WORDS = ("none", "null", "off", "")


def sweep_parameter(name: str) -> SweepParameter:
    """Look up a sweep parameter by its name or its short name.

    Parameters
    ----------
    name
        ``area_budget_m2`` or ``area_budget``, ``service_level``, ``count``, ...
        (case and ``-``/``_`` do not matter).

    Returns
    -------
    SweepParameter

    Raises
    ------
    ValidationError
        For an unknown name; the message suggests the closest valid one.

    Examples
    --------
    >>> sweep_parameter("area-budget").name
    'area_budget_m2'
    """
    key = str(name).strip().lower().replace("-", "_")
    key = SWEEP_ALIASES.get(key, key)
    if key in SWEEP_PARAMETERS:
        return SWEEP_PARAMETERS[key]
    names = sorted(set(SWEEP_PARAMETERS) | set(SWEEP_ALIASES))
    close = close_match(key, names)
    hint = f" (did you mean '{close}'?)" if close else ""
    raise ValidationError(
        f"--vary: unknown parameter '{name}'{hint}; valid: {', '.join(names)}"
    )


def _number(param: SweepParameter, text: str) -> float | int:
    """A number written in text (``_`` between digits allowed); ``ValueError`` if none."""
    text = text.replace("_", "")
    if param.kind.rstrip("?") in ("int", "count"):
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(value)
    return float(text)


def _as_toml(param: SweepParameter, raw: Any) -> Any:
    """The value a scenario file would hold for ``raw`` (text or a Python value)."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in _NONE_WORDS):
        return [] if param.kind == "strs" else "none"
    if param.kind == "strs":
        parts = raw.split("+") if isinstance(raw, str) else list(raw)
        return sorted({str(g).strip().upper() for g in parts if str(g).strip()})
    if isinstance(raw, str) and param.numeric:
        try:
            return _number(param, raw.strip())
        except ValueError:
            try:  # 2.5 for a whole number: the scenario's check words the problem
                return float(raw.strip().replace("_", ""))
            except ValueError:
                return raw.strip()
    return raw.strip() if isinstance(raw, str) else raw


def check_value(param: SweepParameter, raw: Any) -> tuple[Any, str | None]:
    """Turn one raw value into a value of ``param``, or say what is wrong.

    The value is read and checked as the same value in a scenario file is,
    and a problem is worded the same (``--vary KEY: <the file's message>``).

    Examples
    --------
    >>> check_value(sweep_parameter("area_budget"), "0")
    (None, '--vary area_budget_m2: must be a positive number, got 0.0')
    >>> check_value(sweep_parameter("count"), "900")
    (900, None)
    """
    value, problems = check_key(param.name, _as_toml(param, raw))
    if problems:
        return None, f"--vary {param.name}: {problems[0]}"
    if param.kind == "count":
        lo, hi = value
        return (lo if hi == lo else None), None
    if param.kind == "strs":
        return tuple(value), None
    return value, None


def _expand_range(param: SweepParameter, item: str) -> tuple[list[Any], str | None]:
    """Expand ``start:stop:step`` (stop included) into its values."""
    where = f"--vary {param.name}"
    parts = item.split(":")
    if not param.numeric:
        return [], f"{where}: '{item}' is a range but the values are names; list them with ','"
    whole = param.kind.rstrip("?") in ("int", "count")
    if len(parts) == 2 and whole:
        parts.append("1")
    if len(parts) != 3:
        return [], f"{where}: '{item}' is not a range; write start:stop:step (stop included)"
    try:
        start, stop, step = (_number(param, p.strip()) for p in parts)
    except ValueError:
        return [], f"{where}: '{item}' is not a range of numbers; write start:stop:step"
    if step == 0 or (stop - start) * step < 0:
        return [], (f"{where}: the step {step:g} of '{item}' never reaches {stop:g}; "
                    "use a step of the sign of stop - start, not 0")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if n > MAX_RANGE_POINTS:
        return [], f"{where}: '{item}' gives {n:,} points, more than {MAX_RANGE_POINTS:,}"
    if whole:
        return [int(start + k * step) for k in range(n)], None
    return [round(start + k * step, 9) for k in range(n)], None


def _parse_values(param: SweepParameter, text: str) -> tuple[list[Any], list[str]]:
    values: list[Any] = []
    problems: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if ":" in item:
            expanded, problem = _expand_range(param, item)
            if problem:
                problems.append(problem)
                continue
            candidates: list[Any] = expanded
        else:
            candidates = [item]
        for raw in candidates:
            value, problem = check_value(param, raw)
            if problem:
                problems.append(problem)
            else:
                values.append(value)
    return values, problems


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """Read one ``--vary`` option: ``NAME=VALUES``.

    ``VALUES`` is a comma-separated list whose items are single values or
    ranges ``start:stop:step`` (stop included; ``start:stop`` steps by 1 for
    whole numbers). ``none`` means no limit where that is allowed.

    Parameters
    ----------
    spec
        For example ``area_budget=50000:400000:25000``,
        ``service_level=same-day,next-day`` or ``cross_border=none,EU,EU+GCC``.

    Returns
    -------
    tuple of (str, list)
        The parameter's name (see :data:`SWEEP_PARAMETERS`) and its values,
        duplicates removed, in the order given.

    Raises
    ------
    ValidationError
        For an unknown name (with a suggestion) or values that are not valid;
        every problem of the option is listed.

    Examples
    --------
    >>> parse_vary("area_budget=50000:100000:25000")
    ('area_budget_m2', [50000.0, 75000.0, 100000.0])
    >>> parse_vary("count=900,1000")
    ('count', [900, 1000])
    """
    name, sep, text = str(spec).partition("=")
    if not sep:
        raise ValidationError(
            f"--vary '{spec}': write NAME=VALUES, e.g. area_budget=50000:400000:25000 "
            "or service_level=same-day,next-day"
        )
    param = sweep_parameter(name)
    values, problems = _parse_values(param, text)
    if not problems and not values:
        problems.append(f"--vary {param.name}: no values given")
    if problems:
        raise ValidationError(problems)
    return param.name, _unique(values)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def normalize_vary(vary: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Check a sweep's ``vary`` and give every parameter its canonical name.

    Parameters
    ----------
    vary
        ``{name: values}``; a name may be a short name (``area_budget``), the
        values a list (numbers, names, ``None``) or a string in the syntax of
        :func:`parse_vary` (``"50000:400000:25000"``).

    Returns
    -------
    dict
        ``{canonical name: [values]}`` in the order given.

    Raises
    ------
    ValidationError
        Listing every unknown name, invalid value, empty list, and parameter given
        twice (``count`` excludes ``count_min`` and ``count_max``).

    Examples
    --------
    >>> normalize_vary({"area_budget": [100_000, 200_000], "service_level": "next-day"})
    {'area_budget_m2': [100000.0, 200000.0], 'service_level': ['next-day']}
    """
    out: dict[str, list[Any]] = {}
    problems: list[str] = []
    for name, raw in vary.items():
        try:
            param = sweep_parameter(name)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if param.name in out:
            problems.append(f"--vary {param.name}: given twice (as '{name}' too)")
            continue
        if isinstance(raw, str):
            values, found = _parse_values(param, raw)
            problems.extend(found)
        else:
            items = [raw] if not isinstance(raw, Iterable) else list(raw)
            values = []
            for item in items:
                value, problem = check_value(param, item)
                if problem:
                    problems.append(problem)
                else:
                    values.append(value)
        if not values and not any(p.startswith(f"--vary {param.name}") for p in problems):
            problems.append(f"--vary {param.name}: no values given")
        out[param.name] = _unique(values)
    if "count" in out and ({"count_min", "count_max"} & set(out)):
        problems.append("--vary count sets count_min and count_max: vary either count or "
                        "count_min/count_max, not both")
    if problems:
        raise ValidationError(problems)
    return out


def apply_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with sweep values set (``count`` sets both count limits).

    Examples
    --------
    >>> s = apply_values(Scenario(), {"count": 900, "area_budget_m2": 1e5})
    >>> s.count_min, s.count_max, s.area_budget_m2
    (900, 900, 100000.0)
    """
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "count" and value is None:  # count = "none": no limit
            changes["count_min"], changes["count_max"] = 0, None
        elif name == "count":
            changes["count_min"] = changes["count_max"] = value
        elif name == "cross_border_groups":
            changes[name] = list(value)
        else:
            changes[name] = value
    return replace(scenario, **changes)


def display_value(value: Any) -> Any:
    """A sweep value as its table shows it (cross-border groups as ``EU+GCC``)."""
    if isinstance(value, tuple):
        return "+".join(value) if value else "none"
    return value
