"""The loyalty programme: its dashboard and the member comparison, computed on the engine.

Modules by concern:

- :mod:`~analysis.loyalty.programme`: members over time, participation,
  points earned, redeemed and outstanding, members vs non-members by month;
- :mod:`~analysis.loyalty.comparison`: the observational member comparison
  (naive gap, matching, difference-in-differences, event study);
- :mod:`~analysis.loyalty.plotting`: the charts of both (drawing only).

The invitation experiment is read through :mod:`analysis.experiments`.
"""
