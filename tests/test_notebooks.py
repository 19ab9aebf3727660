"""The example notebooks in ``notebooks/``.

Fast tests check that the committed notebooks are the ones
``notebooks/make_notebooks.py`` writes, with their outputs cleared. The slow
tests execute every notebook top to bottom, in a copy of the notebooks folder
(so that no output ever reaches the checkout), in a Jupyter kernel that runs
this interpreter and imports this checkout of ``hzlogistics``; each prints its
run time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"

#: The notebooks, in reading order.
NOTEBOOKS: tuple[str, ...] = (
    "01_quickstart.ipynb",
    "02_area_budget_tradeoff.ipynb",
    "03_bring_your_own_sites.ipynb",
    "04_service_levels.ipynb",
    "05_area_speed_cost.ipynb",
    "06_phased_rollout.ipynb",
    "07_landed_cost.ipynb",
)

#: Largest committed notebook, bytes.
MAX_COMMITTED_BYTES = 1_000_000

#: Longest a single cell may run, seconds (catches a hang, not a slow machine).
CELL_TIMEOUT_S = 900

#: Name of the kernel spec the notebooks ask for, and that the tests provide.
KERNEL_NAME = "python3"

_MISSING = "executing notebooks needs nbclient, nbformat and ipykernel (pip install -e '.[test]')"


def _require_jupyter() -> tuple[ModuleType, ModuleType]:
    nbclient = pytest.importorskip("nbclient", reason=_MISSING)
    nbformat = pytest.importorskip("nbformat", reason=_MISSING)
    pytest.importorskip("ipykernel", reason=_MISSING)
    return nbclient, nbformat


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_notebooks",
                                                  NOTEBOOKS_DIR / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# The committed files
# ---------------------------------------------------------------------------
def test_the_notebooks_are_committed() -> None:
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == list(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    path = NOTEBOOKS_DIR / name
    assert path.stat().st_size <= MAX_COMMITTED_BYTES
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == KERNEL_NAME
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{name} has no code"
    for cell in code_cells:
        assert cell["outputs"] == [], f"{name}: cell {cell['id']} holds outputs"
        assert cell["execution_count"] is None, f"{name}: cell {cell['id']} was run"


def test_notebooks_are_what_the_generator_writes() -> None:
    pytest.importorskip("nbformat", reason="building notebooks needs nbformat")
    generator = _load_generator()
    assert sorted(generator.NOTEBOOKS) == list(NOTEBOOKS)
    stale = generator.stale_notebooks(NOTEBOOKS_DIR)
    assert stale == [], f"run `python notebooks/make_notebooks.py` to rebuild {stale}"


def test_own_data_files_read_cleanly() -> None:
    from hzlogistics.io import read_demand_csv, read_sites_csv

    sites = read_sites_csv(NOTEBOOKS_DIR / "data" / "my_sites.csv")
    demand = read_demand_csv(NOTEBOOKS_DIR / "data" / "my_demand.csv")
    assert set(sites["country"]) == {"DE", "NL", "BE"}
    assert set(demand["country"]) == {"DE", "NL", "BE"}
    # notebook 03 keeps three existing warehouses and rules out three sites
    assert int((sites["existing_area_m2"] > 0).sum()) == 3
    assert {"NL-RTM", "NL-AMS", "DE-FRA"} <= set(sites["id"])


# ---------------------------------------------------------------------------
# Executing them
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Make ``python3`` name a kernel that runs this interpreter on this checkout.

    A kernel spec written to a temporary folder at the head of ``JUPYTER_PATH``
    takes precedence over any other ``python3`` spec (a user's, or one whose
    ``python`` resolves to another interpreter on ``PATH``).
    """
    _require_jupyter()
    share = tmp_path_factory.mktemp("jupyter")
    spec_dir = share / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join(
            p for p in (str(share), os.environ.get("JUPYTER_PATH", "")) if p))
        mp.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
        # let the kernel pick its inline backend, as in Jupyter
        mp.delenv("MPLBACKEND", raising=False)
        yield share


def _execute(nb: Any, folder: Path) -> float:
    nbclient, _ = _require_jupyter()
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


@pytest.mark.slow
def test_kernel_runs_this_interpreter_and_checkout(kernel_env: Path, tmp_path: Path) -> None:
    _, nbformat = _require_jupyter()
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os, sys, hzlogistics\nprint(sys.executable)\nprint(hzlogistics.__file__)\n"
        "print(os.getcwd())"))
    _execute(nb, tmp_path)
    executable, package, cwd = nb.cells[0].outputs[0]["text"].splitlines()
    assert os.path.samefile(executable, sys.executable)
    assert Path(package).resolve().is_relative_to(ROOT)
    assert os.path.samefile(cwd, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name: str, kernel_env: Path, tmp_path: Path,
                                     record_property: Any) -> None:
    _, nbformat = _require_jupyter()
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, work, ignore=shutil.ignore_patterns(
        "outputs", ".ipynb_checkpoints", "__pycache__"))
    committed = (NOTEBOOKS_DIR / name).read_bytes()
    nb = nbformat.read(work / name, as_version=4)

    elapsed = _execute(nb, work)

    record_property("run_time_s", round(elapsed, 1))
    executed = nbformat.writes(nb)
    print(f"\n{name}: ran in {elapsed:.1f} s, {len(executed) / 1e6:.2f} MB with outputs")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells), "a cell did not run"
    errors = [o for c in code_cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert (NOTEBOOKS_DIR / name).read_bytes() == committed, "the checkout's notebook changed"
