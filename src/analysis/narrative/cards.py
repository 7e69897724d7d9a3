"""The executive-summary card: one type, so that every section and the report agree on its keys."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["CARD_KEYS", "DIRECTIONS", "SummaryCard"]

DIRECTIONS = ("up", "down", "flat")
"""Values of :attr:`SummaryCard.direction`."""


@dataclass(frozen=True)
class SummaryCard:
    """A headline metric as the executive summary of ``index.html`` shows it.

    Attributes
    ----------
    key
        Metric key (``revenue``), as in the manifest.
    label
        The metric's name in the report language.
    value
        The formatted value (``฿1,234``, ``2.52%``), or why there is none
        (``no data``).
    change
        The formatted change against the previous month (``+9.6%``,
        ``-0.21 pp``), or ``""`` when there is nothing to compare with.
    direction
        ``up``, ``down`` or ``flat`` (:data:`DIRECTIONS`).
    good
        Whether the move is welcome; None when the metric has no preferred
        direction or did not move.
    """

    key: str
    label: str
    value: str
    change: str = ""
    direction: str = "flat"
    good: bool | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"card {self.key}: direction must be one of {DIRECTIONS}")

    def as_dict(self) -> dict[str, Any]:
        """The card as the mapping ``record_headlines(cards=...)`` takes, keys in :data:`CARD_KEYS` order."""
        return asdict(self)


CARD_KEYS: tuple[str, ...] = tuple(f.name for f in fields(SummaryCard))
"""The card's keys, in order: ``key, label, value, change, direction, good``."""
