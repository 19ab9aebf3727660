"""Sweeps on a Dask cluster: connecting, mapping calls, and running the points as tasks.

The inputs and each coverage are sent to the workers once
(``client.scatter(..., broadcast=True)``), every point is a task that Dask
retries if its worker dies, and a chain's tasks depend on each other in order,
so a sweep gives the same table on a cluster as in this process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hzlogistics import settings
from hzlogistics._errors import HzLogisticsError, MissingDependencyError, ValidationError
from hzlogistics.plan import Inputs
from hzlogistics.scenario import Scenario
from hzlogistics.sweep.point import (
    CoverageArrays,
    PointOutcome,
    SweepPoint,
    log_point,
    solve_point,
)

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

#: Seconds between two looks at the stop event while waiting for Dask tasks.
_POLL_S = 0.5


def dask_map(client: Client, *, retries: int = settings.SWEEP_RETRIES) -> Callable[..., list[Any]]:
    """A ``map``-like function that runs its calls as tasks on a Dask cluster.

    Parameters
    ----------
    client
        A connected ``distributed.Client``.
    retries
        Times Dask re-runs a task whose call raised (a task on a worker that
        died is re-run anyway).

    Returns
    -------
    callable
        ``fn(func, *iterables) -> list`` of the results, in order, e.g. the
        ``map_fn`` of :func:`hzlogistics.coverage.build_coverage`.
    """

    def _map(func: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        futures = client.map(func, *(list(it) for it in iterables), retries=retries, pure=False)
        try:
            return list(client.gather(futures))
        finally:
            client.cancel(futures)

    return _map


@contextmanager
def dask_client(
    *, scheduler: str | None = None, local_workers: int | None = None
) -> Iterator[Client | None]:
    """Connect to a Dask scheduler, or start a local cluster, for the time of a block.

    Parameters
    ----------
    scheduler
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    local_workers
        Start a ``LocalCluster`` with this many worker processes (one thread each).

    Yields
    ------
    distributed.Client or None
        ``None`` when neither is given (run in this process).

    Raises
    ------
    ValidationError
        If both are given, or ``local_workers`` < 1.
    MissingDependencyError
        If ``dask.distributed`` is not installed.
    HzLogisticsError
        If the scheduler cannot be reached.
    """
    if scheduler is None and local_workers is None:
        yield None
        return
    if scheduler is not None and local_workers is not None:
        raise ValidationError("--scheduler and --dask-local: give one of them, not both")
    if local_workers is not None and int(local_workers) < 1:
        raise ValidationError(f"--dask-local: {local_workers} workers; give 1 or more")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise MissingDependencyError(
            "running a sweep on Dask needs dask.distributed: pip install 'hzlogistics[distributed]'"
        ) from exc
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=settings.DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise HzLogisticsError(
                f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc}); start "
                "one with 'dask scheduler' and give its tcp://HOST:PORT"
            ) from exc
    else:
        cluster = LocalCluster(n_workers=int(local_workers or 1), threads_per_worker=1,
                               processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_dask(client: Client, inputs: Inputs, arrays: dict[int, CoverageArrays],
              points: list[SweepPoint], chain_list: list[list[int]], scenarios: list[Scenario],
              *, warm_start: bool, workers: int | None, retries: int,
              progress: bool, stop: threading.Event | None) -> list[PointOutcome]:
    from distributed import wait
    from tqdm.auto import tqdm

    token = uuid.uuid4().hex[:8]
    inputs_f = client.scatter(inputs, broadcast=True, hash=False)
    arrays_f = {g: client.scatter(a, broadcast=True, hash=False) for g, a in arrays.items()}
    futures: dict[Any, int] = {}
    try:
        for chain in chain_list:
            previous = None
            for i in chain:
                fut = client.submit(
                    _solve_task, inputs_f, arrays_f[points[i].group], scenarios[i],
                    previous if warm_start else None, workers,
                    key=f"hz-sweep-{token}-p{i}", retries=retries, pure=False,
                )
                futures[fut] = i
                previous = fut
        outcomes = [PointOutcome(None, ran=False) for _ in points]
        remaining = set(futures)
        with tqdm(total=len(points), desc="sweep", unit="point", disable=not progress) as bar:
            while remaining and not (stop is not None and stop.is_set()):
                try:
                    done, _ = wait(list(remaining), timeout=_POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for fut in sorted(done, key=lambda f: futures[f]):
                    i = futures[fut]
                    outcomes[i] = fut.result()
                    remaining.discard(fut)
                    log_point(points[i], outcomes[i])
                    bar.update(1)
    finally:
        client.cancel(list(futures) + [inputs_f, *arrays_f.values()])
    return outcomes


def _solve_task(inputs: Inputs, coverage: CoverageArrays, scenario: Scenario,
                previous: PointOutcome | None, workers: int | None) -> PointOutcome:
    # ``workers`` passes positionally: as a keyword, ``Client.submit`` would read it as
    # the Dask workers the task may run on
    return solve_point(inputs, coverage, scenario, previous, workers=workers)
