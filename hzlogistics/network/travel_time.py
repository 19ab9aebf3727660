"""Travel times of network edges: road speed bands and ferry links."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hzlogistics import settings
from hzlogistics._errors import ValidationError


def _check_bands(bands: Sequence[tuple[float, float]]) -> None:
    problems = []
    if len(bands) == 0:
        problems.append("speed bands: none given; expected ((up_to_km, km_per_h), ...)")
    previous = 0.0
    for i, (up_to_km, speed) in enumerate(bands):
        if not up_to_km > previous:
            problems.append(
                f"speed band {i}: upper bound {up_to_km} km is not above the previous "
                f"{previous} km; bounds must increase"
            )
        if not (np.isfinite(speed) and speed > 0):
            problems.append(f"speed band {i}: speed {speed} km/h must be a positive number")
        previous = up_to_km
    if len(bands) and np.isfinite(bands[-1][0]):
        problems.append("speed bands: the last band must reach float('inf') km")
    if problems:
        raise ValidationError(problems)


def road_travel_time_h(
    length_km: np.ndarray | float,
    *,
    bands: Sequence[tuple[float, float]] = settings.ROAD_SPEED_BANDS_KPH,
) -> np.ndarray:
    """Road travel time of hops of the given road length, from marginal speed bands.

    With bands ``((5, 25), (20, 45), (60, 70), (inf, 85))`` the first 5 km of a
    hop take 25 km/h, km 5-20 take 45 km/h, km 20-60 take 70 km/h and the rest
    85 km/h: short urban hops are slow, long highway hops fast, and the time
    grows continuously with the length.

    Parameters
    ----------
    length_km
        Road length of each hop, km (≥ 0).
    bands
        ``(up_to_km, speed_kph)`` pairs with increasing bounds, the last one
        ``inf``.

    Returns
    -------
    numpy.ndarray
        Travel time of each hop, hours.

    Raises
    ------
    ValidationError
        When the bands are not increasing or a speed is not positive.

    Examples
    --------
    >>> road_travel_time_h(np.array([5.0, 20.0]), bands=((5.0, 25.0), (float("inf"), 50.0)))
    array([0.2, 0.5])
    """
    _check_bands(bands)
    length = np.asarray(length_km, dtype=float)
    time_h = np.zeros_like(length)
    lower = 0.0
    for upper, speed in bands:
        time_h += np.clip(length - lower, 0.0, upper - lower) / speed
        lower = upper
    return time_h


def ferry_travel_time_h(
    length_km: np.ndarray | float,
    *,
    speed_kph: float = settings.FERRY_SPEED_KPH,
    handling_h: float = settings.FERRY_HANDLING_H,
) -> np.ndarray:
    """Travel time of ferry links: fixed handling delay plus sailing time.

    Examples
    --------
    >>> ferry_travel_time_h(np.array([60.0]), speed_kph=30.0, handling_h=2.0)
    array([4.])
    """
    return handling_h + np.asarray(length_km, dtype=float) / speed_kph
