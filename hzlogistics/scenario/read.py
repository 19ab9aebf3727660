"""Reading scenario files: TOML to a validated :class:`~hzlogistics.scenario.Scenario`."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.scenario.keys import (
    FILE_KEYS,
    KEYS,
    PHASING_KEY_INFO,
    PHASING_KEYS,
    QUOTA_KEY_INFO,
    QUOTA_KEYS,
    SECTION_OF,
    SECTIONS,
    CountryQuota,
    Phasing,
    Scenario,
    name_problem,
    safe_name,
    suggest,
)
from hzlogistics.scenario.validate import coerce, scenario_problems


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) where each key path is first written in TOML text."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
    key = re.compile(r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
                     r"(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            table = tuple(_key_parts(m.group(1)))
            lines.setdefault(table, number)
            continue
        m = key.match(line)
        if m:
            lines.setdefault(table + tuple(_key_parts(m.group(1))), number)
    return lines


def _key_parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", dotted)]


class _Source:
    """Names places in a scenario file: ``file:line: key``."""

    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.lines = _key_lines(text)

    def at(self, path: tuple[str, ...]) -> str:
        key = ".".join(p for p in path if p)
        for n in range(len(path), 0, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return f"{self.label}:{line}: {key}"
        return f"{self.label}: {key}"


class _Reader:
    """Reads the parsed TOML of a scenario file into field values, collecting problems."""

    def __init__(self, source: _Source, base_dir: str | Path | None) -> None:
        self.where = source
        self.base_dir = base_dir
        self.problems: list[str] = []
        self.values: dict[str, Any] = {}
        self.origin: dict[str, tuple[str, ...]] = {}
        self.quotas: dict[str, CountryQuota] = {}
        self.phasing: Phasing | None = None

    def problem(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append(f"{self.where.at(path)}: {message}")

    def unknown(self, path: tuple[str, ...], valid: Iterable[str]) -> None:
        key = path[-1]
        valid = list(valid)
        hint = suggest(key, valid)
        if key in SECTION_OF:
            home = SECTION_OF[key]
            if path[:-1] != ((home,) if home else ()):
                hint = f" (it belongs {'in [' + home + ']' if home else 'at the top level'})"
        if not hint:
            close = difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.6)
            if close:
                section = SECTION_OF[close[0]]
                hint = f" (did you mean {'[' + section + '] ' if section else ''}'{close[0]}'?)"
        self.problem(path, f"unknown key{hint}; valid here: {', '.join(valid)}")

    def take(self, path: tuple[str, ...], key: str, value: Any) -> None:
        v, err = coerce(KEYS[key].kind, value)
        if err:
            self.problem(path, err)
            return
        if key == "dataset" and v is not None and self.base_dir is not None \
                and ("/" in v or "\\" in v or v.startswith((".", "~"))):
            # a folder path, not a name in the user data directory
            v = str((Path(self.base_dir) / Path(v).expanduser()).resolve())
        if KEYS[key].kind == "path?" and v is not None and self.base_dir is not None:
            p = Path(v).expanduser()
            v = str(p if p.is_absolute() else (Path(self.base_dir) / p).resolve())
        for name, item in zip(KEYS[key].fields, v if key == "count" else (v,), strict=True):
            self.values[name] = item
            self.origin[name] = path

    def read_quotas(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.problem(("quotas",), "must be tables such as [quotas.DE]")
            return
        for code, table in value.items():
            qpath = ("quotas", str(code))
            if not isinstance(table, dict):
                self.problem(qpath, f"must be a table with {', '.join(QUOTA_KEYS)}")
                continue
            q = CountryQuota()
            for qk, qv in table.items():
                if qk not in QUOTA_KEYS:
                    self.unknown(qpath + (qk,), QUOTA_KEYS)
                    continue
                v, err = coerce(QUOTA_KEY_INFO[qk].kind, qv)
                if err:
                    self.problem(qpath + (qk,), err)
                else:
                    setattr(q, qk, v)
            self.quotas[str(code).upper()] = q

    def read_phasing(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.problem(("phasing",), "must be a table [phasing]")
            return
        phasing = Phasing()
        for pk, pv in value.items():
            path = ("phasing", str(pk))
            if pk not in PHASING_KEYS:
                hint = suggest(str(pk), PHASING_KEYS)
                self.problem(path, f"unknown key{hint}; valid here: {', '.join(PHASING_KEYS)}")
                continue
            v, err = coerce(PHASING_KEY_INFO[pk].kind, pv)
            if err:
                self.problem(path, err)
                continue
            if pk == "demand_files" and v is not None and self.base_dir is not None:
                v = [str(Path(f).expanduser() if Path(f).expanduser().is_absolute()
                         else (Path(self.base_dir) / Path(f).expanduser()).resolve())
                     for f in v]
            setattr(phasing, pk, v)
        self.phasing = phasing

    def read_section(self, section: str, value: Any) -> None:
        if not isinstance(value, dict):
            self.problem((section,), f"must be a table [{section}]")
            return
        if "count" in value and ("count_min" in value or "count_max" in value):
            self.problem((section, "count"), "give either count or count_min/count_max, not both")
        for sk, sv in value.items():
            if sk in SECTIONS[section]:
                self.take((section, sk), sk, sv)
            else:
                self.unknown((section, sk), SECTIONS[section])

    def read_stray(self, key: str) -> None:
        """A top-level key that is neither a top-level key nor a section."""
        sections = [s for s in SECTIONS if s is not None] + ["quotas", "phasing"]
        hint_valid = list(SECTIONS[None]) + [f"[{s}]" for s in sections]
        close = difflib.get_close_matches(key, sections, n=1, cutoff=0.6)
        if key not in SECTION_OF and close:
            self.problem((key,), f"unknown section (did you mean [{close[0]}]?); "
                                 f"valid: {', '.join(hint_valid)}")
        else:
            self.unknown((key,), hint_valid)

    def read(self, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            if key in SECTIONS[None]:
                self.take((key,), key, value)
            elif key == "quotas":
                self.read_quotas(value)
            elif key == "phasing":
                self.read_phasing(value)
            elif key in SECTIONS:
                self.read_section(key, value)
            else:
                self.read_stray(key)

    def check(self, scenario: Scenario) -> None:
        """Add the missing input files and the problems of the scenario's values."""
        if self.base_dir is not None:
            for name in FILE_KEYS:
                v = self.values.get(name)
                if v is not None and not Path(v).is_file():
                    self.problem(self.origin[name], f"file not found: {v}")
            files = self.phasing.demand_files if self.phasing is not None else None
            for f in files or []:
                if not Path(f).is_file():
                    self.problem(("phasing", "demand_files"), f"file not found: {f}")
        count_reported = False
        for name, message in scenario_problems(scenario):
            if name.startswith(("quotas.", "phasing")):
                fpath: tuple[str, ...] = tuple(name.split("."))
            else:
                section = SECTION_OF.get(name)
                fpath = self.origin.get(name) or (((section,) if section else ()) + (name,))
            if fpath[-1] == "count":  # one message for the one key that set both fields
                if count_reported:
                    continue
                count_reported = True
            self.problem(fpath, message)


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    text: str = "",
    source: str = "<scenario>",
    base_dir: str | Path | None = None,
    default_name: str | None = None,
) -> Scenario:
    """Build and validate a scenario from parsed TOML.

    Parameters
    ----------
    data
        The parsed TOML (``tomllib.loads``).
    text
        The TOML text, to name the line of each problem.
    source
        The file name used in messages.
    base_dir
        Folder against which relative file paths are resolved (the scenario
        file's folder); ``None`` leaves them as written.
    default_name
        Name to use when the file has no ``name`` key.

    Returns
    -------
    Scenario

    Raises
    ------
    ValidationError
        Listing every unknown key (with a suggestion), wrong type and value out
        of range, each with the file, line and key.

    Examples
    --------
    >>> s = scenario_from_dict({"name": "toy", "network": {"count": 10}})
    >>> (s.count_min, s.count_max)
    (10, 10)
    """
    reader = _Reader(_Source(source, text), base_dir)
    reader.read(data)
    if "name" not in reader.values and default_name is not None:
        reader.values["name"] = default_name
    if reader.quotas:
        reader.values["quotas"] = reader.quotas
    if reader.phasing is not None:
        reader.values["phasing"] = reader.phasing
    scenario = Scenario(**reader.values)
    reader.check(scenario)
    if reader.problems:
        raise ValidationError(reader.problems)
    return scenario


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package.

    Examples
    --------
    >>> "hangzhou-2020" in builtin_scenarios()
    True
    """
    folder = resources.files("hzlogistics") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_scenario_text(name: str = settings.DEFAULT_SCENARIO) -> str:
    """The TOML text of a built-in scenario.

    Raises
    ------
    ValidationError
        If no built-in scenario has that name.
    """
    if name_problem(name) is None:
        res = resources.files("hzlogistics") / "scenarios" / f"{name}.toml"
        if res.is_file():
            return res.read_text(encoding="utf-8")
    raise ValidationError(
        f"no built-in scenario named {name!r}{suggest(name, builtin_scenarios())}; "
        f"built-in: {', '.join(builtin_scenarios())}"
    )


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read and validate a scenario file, or a built-in scenario by name.

    Parameters
    ----------
    path_or_name
        A TOML file, or the name of a built-in scenario (``"hangzhou-2020"``).

    Returns
    -------
    Scenario
        Relative file paths in the scenario are resolved against the file's
        folder. A file without a ``name`` key takes its file name (without
        ``.toml``) as the scenario name.

    Raises
    ------
    ValidationError
        When the file is missing or malformed, or a key or value is invalid;
        every problem is named with the file, line and key.

    Examples
    --------
    >>> s = load_scenario("hangzhou-2020")
    >>> (s.count_min, s.count_max, s.area_budget_m2)
    (950, 1050, 200000.0)
    """
    p = Path(path_or_name)
    if p.is_file():
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{p}: cannot read the scenario file: {exc}") from exc
        return loads_scenario(text, source=str(p), base_dir=p.resolve().parent,
                              default_name=safe_name(p.stem))
    if p.exists():
        raise ValidationError(f"{p}: is not a file (expected a scenario .toml file)")
    text_name = str(path_or_name)
    if "/" not in text_name and "\\" not in text_name and not text_name.endswith(".toml") \
            and text_name in builtin_scenarios():
        return loads_scenario(builtin_scenario_text(text_name), source=f"{text_name} (built-in)")
    raise ValidationError(
        f"{text_name}: no such scenario file, and no built-in scenario of that name"
        f"{suggest(text_name, builtin_scenarios())}; built-in: {', '.join(builtin_scenarios())}"
    )


def loads_scenario(
    text: str,
    *,
    source: str = "<scenario>",
    base_dir: str | Path | None = None,
    default_name: str | None = None,
) -> Scenario:
    """Read and validate a scenario from TOML text.

    Raises
    ------
    ValidationError
        For malformed TOML (with tomllib's line and column) or invalid keys/values.

    Examples
    --------
    >>> loads_scenario('name = "toy"\\n[solver]\\ntime_limit_s = 5').time_limit_s
    5.0
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source}: malformed TOML: {exc}") from exc
    return scenario_from_dict(data, text=text, source=source, base_dir=base_dir,
                              default_name=default_name)


def default_scenario() -> Scenario:
    """The built-in ``hangzhou-2020`` scenario.

    Examples
    --------
    >>> default_scenario().name
    'hangzhou-2020'
    """
    return load_scenario(settings.DEFAULT_SCENARIO)


