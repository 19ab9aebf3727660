"""What a build produced: counts per country, files, changes found by a check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CountryCounts:
    """What the build produced for one country."""

    n_demand: int = 0
    n_sites: int = 0
    n_existing: int = 0
    weight: float = 0.0


@dataclass
class BuildReport:
    """Outcome of :func:`build_data`.

    Attributes
    ----------
    out_dir
        Directory written (or compared with, when ``checked``).
    checked
        Whether this was a check (nothing written to ``out_dir``).
    countries
        Counts per country code.
    files
        Names of the files built.
    changed_files
        Files whose content differs from ``out_dir`` (check only).
    changed_countries
        Countries whose rows differ in at least one file (check only).
    elapsed_s
        Wall-clock time of the build, seconds.
    warnings
        Countries given a fallback or left out, one message each.
    """

    out_dir: Path
    checked: bool = False
    countries: dict[str, CountryCounts] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    changed_countries: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` unless a check found differences."""
        return not self.changed_files

    @property
    def total_weight(self) -> float:
        """Parcels per day over all countries."""
        return float(sum(c.weight for c in self.countries.values()))

    def summary(self) -> str:
        """A few lines for the command line."""
        n_demand = sum(c.n_demand for c in self.countries.values())
        n_sites = sum(c.n_sites for c in self.countries.values())
        lines = [
            f"{len(self.countries)} countries, {n_demand:,} demand points, {n_sites:,} sites, "
            f"{self.total_weight:,.0f} parcels/day ({self.elapsed_s:.1f} s)"
        ]
        if self.checked:
            if self.ok:
                lines.append(f"unchanged: {', '.join(self.files)} in {self.out_dir}")
            else:
                lines.append(f"changed files: {', '.join(self.changed_files)}")
                lines.append(
                    "changed countries: " + (", ".join(self.changed_countries) or "none")
                )
        else:
            lines.append(f"wrote {', '.join(self.files)} to {self.out_dir}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)
