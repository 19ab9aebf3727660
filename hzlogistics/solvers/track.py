"""The one record of a solve's progress: best plan value, best bound, and when each came.

Every model keeps a :class:`Tracker` over its stages (heuristic, bounds, MIP or
CP-SAT) and asks :func:`stop_requested` between them, so that the log a planner
sees, the ``progress`` callback and the Ctrl-C handling behave the same for
every objective.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from hzlogistics.solvers.problem import relative_gap

Progress = Callable[[float, float, float], Any]
Sense = Literal["max", "min"]


def stop_requested(stop: object | None) -> bool:
    """Whether a stop event (a ``threading.Event`` or anything with ``is_set``) is set.

    Parameters
    ----------
    stop
        The event, or ``None`` for none.

    Returns
    -------
    bool
        ``True`` once the event is set.

    Examples
    --------
    >>> import threading
    >>> event = threading.Event()
    >>> stop_requested(event), stop_requested(None)
    (False, False)
    >>> event.set(); stop_requested(event)
    True
    """
    is_set = getattr(stop, "is_set", None)
    return bool(is_set()) if callable(is_set) else False


@contextlib.contextmanager
def watch_stop(stop: object | None, action: Callable[[], object],
               poll_s: float = 0.05) -> Iterator[None]:
    """Call ``action`` once, from a watcher thread, if ``stop`` is set while the block runs.

    For engines that are stopped by a call from another thread (CP-SAT's
    ``stop_search``, a :class:`~hzlogistics.solvers.mip.MipInterrupter`).
    The watcher ends with the block; a stop without ``wait`` (or ``None``)
    starts no thread.

    Parameters
    ----------
    stop
        The stop event: anything with ``wait(timeout) -> bool``.
    action
        What stops the engine.
    poll_s
        How often the watcher looks at whether the block has ended, seconds.

    Examples
    --------
    >>> import threading, time
    >>> event, calls = threading.Event(), []
    >>> with watch_stop(event, lambda: calls.append("stop")):
    ...     event.set()
    ...     time.sleep(0.2)
    >>> calls
    ['stop']
    """
    wait = getattr(stop, "wait", None)
    if not callable(wait):
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if wait(poll_s):
                action()
                return

    thread = threading.Thread(target=watch, name="hzlogistics-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class Tracker:
    """Incumbents and bounds of one solve over time.

    Parameters
    ----------
    progress
        Called as ``progress(seconds, incumbent, bound)`` whenever either improves
        (``None`` for no callback). ``incumbent`` is NaN while there is none.
    t0
        ``time.perf_counter()`` at the start of the solve (default: now).
    sense
        ``"max"`` when larger plan values are better (coverage), ``"min"`` when
        smaller ones are (median, cost, min-area).
    offset
        Added to the incumbent and the bound that are reported and logged, for
        models that solve a reduced problem whose value differs by a constant.
    rel_tol
        An incumbent counts as better only by more than
        ``rel_tol * max(1, |best|)``; a bound only by more than 1e-12 of the same.

    Attributes
    ----------
    best
        The best plan value so far (``-inf`` / ``inf`` before the first one).
    bound
        The best proven bound so far (``inf`` / ``-inf`` before the first one).
    log
        ``(seconds, incumbent, bound)`` at every improvement, with ``offset`` added.
    first_s
        Seconds to the first plan, or ``None``.
    payload
        Whatever was offered with the best plan (a copy of it, say).

    Examples
    --------
    >>> t = Tracker(None, sense="max")
    >>> t.update(incumbent=5.0, bound=9.0), t.update(incumbent=4.0)
    (True, False)
    >>> t.best, t.bound, round(t.gap(), 3)
    (5.0, 9.0, 0.8)
    """

    def __init__(self, progress: Progress | None = None, t0: float | None = None, *,
                 sense: Sense = "max", offset: float = 0.0, rel_tol: float = 1e-9) -> None:
        self.progress = progress
        self.t0 = time.perf_counter() if t0 is None else t0
        self.sense: Sense = sense
        self.offset = offset
        self.rel_tol = rel_tol
        worst = -math.inf if sense == "max" else math.inf
        self.best: float = worst
        self.bound: float = -worst
        self.log: list[tuple[float, float, float]] = []
        self.first_s: float | None = None
        self.payload: Any = None
        self._lock = threading.Lock()  # a bound may arrive from a thread beside the search

    def _improves(self, new: float, old: float, *, up: bool, tol: float) -> bool:
        """Whether ``new`` beats ``old`` by more than ``tol`` (relative), upwards or down."""
        if not math.isfinite(new):
            return False
        if not math.isfinite(old):
            return True
        margin = tol * max(1.0, abs(old))
        return new > old + margin if up else new < old - margin

    def update(self, incumbent: float | None = None, bound: float | None = None,
               payload: Any = None) -> bool:
        """Offer a plan value and/or a bound; keep each if it improves.

        Parameters
        ----------
        incumbent
            Value of a feasible plan.
        bound
            A proven bound on the optimum (upper for ``max``, lower for ``min``).
        payload
            Kept as :attr:`payload` when ``incumbent`` improves.

        Returns
        -------
        bool
            Whether the incumbent improved.
        """
        with self._lock:
            up = self.sense == "max"
            improved = incumbent is not None and self._improves(incumbent, self.best, up=up,
                                                                tol=self.rel_tol)
            if improved:
                assert incumbent is not None
                self.best = float(incumbent)
                self.payload = payload
                if self.first_s is None:
                    self.first_s = self.elapsed()
            bounded = bound is not None and self._improves(bound, self.bound, up=not up, tol=1e-12)
            if bounded:
                assert bound is not None
                self.bound = float(bound)
            if improved or bounded:
                t = self.elapsed()
                inc = self.best + self.offset if math.isfinite(self.best) else math.nan
                bnd = self.bound + self.offset
                self.log.append((t, inc, bnd))
                if callable(self.progress):
                    self.progress(t, inc, bnd)
        return improved

    def elapsed(self) -> float:
        """Seconds since ``t0``."""
        return time.perf_counter() - self.t0

    def gap(self) -> float:
        """Relative gap between the best plan and the bound (``inf`` without a plan)."""
        if not (math.isfinite(self.best) and math.isfinite(self.bound)):
            return math.inf
        return relative_gap(self.best + self.offset, self.bound + self.offset)
