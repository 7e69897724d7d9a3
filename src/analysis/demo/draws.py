"""Random streams and the vectorised draws every stage shares; time is int64 microseconds.

Each model component draws from its own generator (:func:`stream`), so a stage
consumes only its own streams and the stages can be read, and run, apart.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analysis.calendar import US_PER_DAY

US_PER_HOUR = 3_600_000_000
US_PER_MIN = 60_000_000
NEVER = np.iinfo(np.int64).max
"""Instant (microseconds) standing for "never" (not a member, not assigned)."""

# Stream numbers: one independent generator per (seed, store, model component).
ACQUISITION, BGNBD, SPEND, EXTRA_ORDERS, CUSTOMERS, MARKETING = 1, 2, 3, 4, 5, 6
SESSIONS, CARTS, SURVEYS, MEMBERSHIP, EXPERIMENT, POINTS = 7, 8, 9, 10, 11, 12
ORDER_DETAILS, CAMPAIGNS, SRM = 13, 14, 15
# Planted segment groups (analysis.demo.segments): re-label values drawn above.
DISCOUNT_DRIVEN, DETRACTORS, RESPONDERS = 16, 17, 18

Stream = Callable[[int], np.random.Generator]
"""A store's generator for a stream number (``lambda k: stream(seed, store_index, k)``)."""


def stream(seed: int, store_index: int, component: int, shard: int = 0) -> np.random.Generator:
    """Independent generator per (seed, store, model component).

    Parameters
    ----------
    seed
        The run's random seed.
    store_index
        Position of the store in :data:`analysis.demo.DEMO_STORES`.
    component
        Stream number of the model component (the constants of this module).
    shard
        Part of a store generated in parts (0: the whole store, or its first part).
    """
    entropy = [seed, store_index, component, *([shard] if shard else [])]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def pick(rng: np.random.Generator, shares: np.ndarray, size: int) -> np.ndarray:
    """Category codes 0..len(shares)-1 (int32) drawn with probabilities ``shares``."""
    cdf = np.cumsum(shares / shares.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int32)


def lognormal_mean1(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Lognormal noise with mean 1 and log-scale ``sigma``."""
    return rng.lognormal(-0.5 * sigma * sigma, sigma, size)


def exp_us(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    """Exponential delays with mean ``mean_days`` days, as int64 microseconds."""
    return (rng.standard_exponential(size) * mean_days * US_PER_DAY).astype(np.int64)


def before_end(t: np.ndarray, anchor: np.ndarray, end_us: int, u: np.ndarray) -> np.ndarray:
    """``t`` where it is before ``end_us``; otherwise a uniform point between anchor and end.

    Parameters
    ----------
    t, anchor
        Instants, microseconds; ``anchor`` is before ``end_us``.
    end_us
        End of the history (exclusive), microseconds.
    u
        Uniform draws in [0, 1), one per instant.
    """
    fallback = anchor + ((end_us - anchor) * u).astype(np.int64)
    return np.where(t < end_us, t, np.minimum(fallback, end_us - 1))


def rounded(x: float, digits: int = 6) -> float:
    """``x`` as a Python float rounded to ``digits`` decimals (for ``_truth.json``)."""
    return round(float(x), digits)
