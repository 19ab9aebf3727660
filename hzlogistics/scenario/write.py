"""Writing scenarios: commented TOML, and the key tables of ``docs/scenario.md``."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

from hzlogistics.scenario.keys import (
    KEY_DOCS,
    KEYS,
    NONE,
    PHASING_KEY_DOCS,
    PHASING_KEY_INFO,
    QUOTA_KEY_INFO,
    QUOTA_KEYS,
    SECTIONS,
    CountryQuota,
    Phasing,
    Scenario,
)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    if value is None:
        return f'"{NONE}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return str(int(value)) + ".0" if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else _toml_string(key)


def scenario_to_toml(scenario: Scenario) -> str:
    """Write a scenario as commented TOML that :func:`loads_scenario` reads back.

    Parameters
    ----------
    scenario
        The scenario to write.

    Returns
    -------
    str
        TOML text; every key is written, each with a comment giving its unit.

    Examples
    --------
    >>> from hzlogistics.scenario import loads_scenario
    >>> s = Scenario(name="toy", count_min=3, count_max=3, area_budget_m2=None)
    >>> loads_scenario(scenario_to_toml(s)) == s
    True
    """
    s = scenario
    defaults = Scenario()
    lines = ["# hzlogistics scenario (keys and units: docs/scenario.md)", ""]

    def emit(key: str, value: Any) -> None:
        lines.append(f"# {KEY_DOCS[key]}")
        lines.append(f"{key} = {toml_value(value)}")

    for section, keys in SECTIONS.items():
        if section is not None:
            lines += ["", f"[{section}]"]
        for key in keys:
            if key in ("count_min", "count_max"):
                continue
            if key == "count":
                if s.count_max is not None and s.count_min == s.count_max:
                    emit("count", s.count_min)
                elif s.count_max is None and s.count_min == 0:
                    emit("count", None)
                elif s.count_max is None:
                    emit("count_min", s.count_min)
                    emit("count_max", None)
                else:
                    emit("count", [s.count_min, s.count_max])
                continue
            value = getattr(s, key)
            if key == "countries" and value is None:
                lines.append(f"# {KEY_DOCS[key]}")
                lines.append('countries = "all"')
                continue
            if value is None and getattr(defaults, key) is None:
                lines.append(f"# {KEY_DOCS[key]}")
                lines.append(f"# {key}: not set")
                continue
            emit(key, value)
    for code, q in sorted(s.quotas.items()):
        lines += ["", f"[quotas.{_toml_key(code)}]"]
        for key in QUOTA_KEYS:
            v = getattr(q, key)
            if v is not None:
                lines.append(f"{key} = {toml_value(v)}")
    if s.phasing is not None:
        lines += ["", "[phasing]"]
        for key in PHASING_KEY_INFO:
            v = getattr(s.phasing, key)
            lines.append(f"# {PHASING_KEY_DOCS[key]}")
            lines.append(f"# {key}: not set" if v is None else f"{key} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# The key tables of docs/scenario.md
# ---------------------------------------------------------------------------
_DOC_BLOCK = re.compile(r"(<!-- keys: (?P<section>[a-z]+) -->\n).*?(<!-- /keys -->)", re.S)


def keys_markdown(section: str) -> str:
    """The Markdown table of the keys of one section (``"top"`` = the top level).

    Examples
    --------
    >>> print(keys_markdown("solver").splitlines()[2])
    | `time_limit_s` | seconds, > 0 | `60.0` | Wall-clock limit of the solve; the best plan found by then is kept. |
    """  # noqa: E501
    if section == "quotas":
        keys, defaults = QUOTA_KEY_INFO, CountryQuota()
    elif section == "phasing":
        keys, defaults = PHASING_KEY_INFO, Phasing()  # type: ignore[assignment]
    else:
        keys = {k: KEYS[k] for k in SECTIONS[None if section == "top" else section]}
        defaults = Scenario()  # type: ignore[assignment]
    rows = ["| Key | Unit / values | Default | Meaning |", "|---|---|---|---|"]
    for name, key in keys.items():
        if key.shown_default is not None:  # e.g. count, which is not a field
            shown = key.shown_default
        else:
            default = getattr(defaults, name)
            shown = "not set" if default is None else f"`{toml_value(default)}`"
        cells = (f"`{name}`", key.values, shown, key.meaning)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def render_doc(text: str) -> str:
    """Regenerate every key table of ``docs/scenario.md`` in ``text``.

    A table is written between ``<!-- keys: SECTION -->`` and ``<!-- /keys -->``
    (``SECTION`` a section name, ``top`` or ``quotas``); the text around the
    tables is left as it is.
    """
    return _DOC_BLOCK.sub(lambda m: m.group(1) + keys_markdown(m.group("section")) + m.group(3),
                          text)


def main(argv: list[str] | None = None) -> int:
    """``python -m hzlogistics.scenario --write-doc|--check-doc docs/scenario.md``.

    ``--write-doc`` rewrites the key tables of the file; ``--check-doc`` exits
    with 1 when they are stale.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hzlogistics.scenario",
                                     description="Regenerate the key tables of docs/scenario.md")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write-doc", metavar="PATH", type=Path)
    group.add_argument("--check-doc", metavar="PATH", type=Path)
    args = parser.parse_args(argv)
    path = args.write_doc or args.check_doc
    text = path.read_text(encoding="utf-8")
    new = render_doc(text)
    if args.write_doc:
        if new != text:
            path.write_text(new, encoding="utf-8")
        return 0
    if new != text:
        print(f"{path}: key tables are stale; run python -m hzlogistics.scenario "
              f"--write-doc {path}", file=sys.stderr)
        return 1
    return 0


