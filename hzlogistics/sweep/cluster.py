"""Sweeps on a Dask cluster: connecting, mapping calls, and running the points as tasks.

The inputs and each coverage are sent to the workers once
(``client.scatter(..., broadcast=True)``), every point is a task that Dask
retries if its worker dies (and that is sent again should the cluster lose it),
and a chain's tasks depend on each other in order, so a sweep gives the same
table on a cluster as in this process.
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

logger = logging.getLogger(__name__)

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
    """Run the sweep's points as Dask tasks; their outcomes, in the order of ``points``.

    A task whose worker dies is re-run by Dask. Should the cluster lose the
    tasks themselves (they come back cancelled, e.g. when a killed worker held
    the only copy of the scattered inputs), the points not yet done are sent
    again with the inputs scattered afresh, up to ``retries + 1`` times.

    Raises
    ------
    HzLogisticsError
        When the cluster loses the tasks more often than that.
    """
    from tqdm.auto import tqdm

    outcomes = [PointOutcome(None, ran=False) for _ in points]
    finished = [False] * len(points)
    with tqdm(total=len(points), desc="sweep", unit="point", disable=not progress) as bar:
        for attempt in range(retries + 2):
            if _run_round(client, inputs, arrays, points, chain_list, scenarios, outcomes,
                          finished, bar, warm_start=warm_start, workers=workers,
                          retries=retries, stop=stop):
                return outcomes
            logger.warning("the Dask cluster lost the sweep's tasks (attempt %d); sending "
                           "the %d points left again", attempt + 1, finished.count(False))
    raise HzLogisticsError(
        f"the Dask cluster lost the sweep's tasks {retries + 2} times; "
        f"{finished.count(False)} of {len(points)} points not solved")


def _run_round(client: Client, inputs: Inputs, arrays: dict[int, CoverageArrays],
               points: list[SweepPoint], chain_list: list[list[int]],
               scenarios: list[Scenario], outcomes: list[PointOutcome], finished: list[bool],
               bar: Any, *, warm_start: bool, workers: int | None, retries: int,
               stop: threading.Event | None) -> bool:
    """Submit the points not yet finished and collect them; False if tasks were lost
    (the points whose tasks finished are kept)."""
    from concurrent.futures import CancelledError

    from distributed import wait

    token = uuid.uuid4().hex[:8]
    groups = {points[i].group for chain in chain_list for i in chain if not finished[i]}
    inputs_f = client.scatter(inputs, broadcast=True, hash=False)
    arrays_f = {g: client.scatter(arrays[g], broadcast=True, hash=False) for g in groups}
    futures: dict[Any, int] = {}
    try:
        for chain in chain_list:
            previous: Any = None
            for i in chain:
                if finished[i]:
                    previous = outcomes[i]  # a warm start from a point already solved
                    continue
                fut = client.submit(
                    _solve_task, inputs_f, arrays_f[points[i].group], scenarios[i],
                    previous if warm_start else None, workers,
                    key=f"hz-sweep-{token}-p{i}", retries=retries, pure=False,
                )
                futures[fut] = i
                previous = fut
        remaining = set(futures)
        while remaining and not (stop is not None and stop.is_set()):
            try:
                done, _ = wait(list(remaining), timeout=_POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            except CancelledError:  # some lost: take the others done, send the rest again
                done = {f for f in remaining if f.status == "finished"}
                lost = True
            else:
                lost = any(f.cancelled() for f in done)
            for fut in sorted(done, key=lambda f: futures[f]):
                if fut.cancelled():
                    continue
                i = futures[fut]
                outcomes[i] = fut.result()
                finished[i] = True
                remaining.discard(fut)
                log_point(points[i], outcomes[i])
                bar.update(1)
            if lost:
                return False
        return True
    finally:
        client.cancel(list(futures) + [inputs_f, *arrays_f.values()])


def _solve_task(inputs: Inputs, coverage: CoverageArrays, scenario: Scenario,
                previous: PointOutcome | None, workers: int | None) -> PointOutcome:
    # ``workers`` passes positionally: as a keyword, ``Client.submit`` would read it as
    # the Dask workers the task may run on
    return solve_point(inputs, coverage, scenario, previous, workers=workers)
