"""The options of ``benchmarks/families.py`` that choose the instances."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import families


def test_family_3_at_chosen_budgets():
    assert families._budgets("12.5") == (12_500.0,)
    budgets = families._budgets("310, 325")
    assert budgets == (310_000.0, 325_000.0)
    names = [case.name for case in families.family_3(1, False, budgets=budgets)]
    assert names == ["f3-next-day-310k", "f3-next-day-325k", "f3-same-day-200k",
                     "f3-two-day-200k"]


def test_family_3_with_countries_alone():
    names = [case.name for case in families.family_3(1, False, alone=True)]
    assert names == [f"f3-alone-{code}" for code in families.F3_ALONE]
    assert "f3-alone-BR" in names and not any("next-day" in n for n in names)


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "expected numbers of thousands of m²"),
    ("300,-5", "every budget must be a positive number"),
    (",", "every budget must be a positive number"),
])
def test_bad_budgets_end_in_one_message(text, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        families.main(["--family", "3", "--budgets", text])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
