"""Customer segments: who the customers are, what each group is worth, who moved.

Modules, one concern each (numbers only; words live in :mod:`analysis.narrative`):

- :mod:`~analysis.segments.rfm`: RFM scores (ties share a score) and the eleven
  named segments from one rules table; the R × F grid.
- :mod:`~analysis.segments.migration`: segment transition matrices between two dates.
- :mod:`~analysis.segments.buckets`: lifecycle buckets (heroes, regulars, at risk,
  inactive, negative experience, cart abandoners, discount-driven, new, campaign
  responders and non-responders) and their overlaps.
- :mod:`~analysis.segments.outlook`: per-customer predictions from the CLV
  section's fitted model (P(alive), next purchases, next order date, CLV, churn risk).
- :mod:`~analysis.segments.value`: what each segment and bucket is worth.
- :mod:`~analysis.segments.export`: the campaign lists of ``analysis segments export``.
- :mod:`~analysis.segments.page`: the page in one call; :mod:`~analysis.segments.plotting`: its charts.
"""
