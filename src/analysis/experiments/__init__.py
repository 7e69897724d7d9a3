"""Randomised experiments: who was assigned to which variant, their outcomes, and the statistics.

Independent of any one programme: the loyalty page reads the invitation
experiment through it, and any experiment in the ``experiments`` table can use
it. Modules by concern:

- :mod:`~analysis.experiments.outcomes`: the experiment a report reads and each
  assigned customer's outcomes, computed on the engine;
- :mod:`~analysis.experiments.stats`: the statistics, as small pure functions
  over per-arm sums (dataclasses in, dataclasses out);
- :mod:`~analysis.experiments.readout`: one experiment's readout (sample-ratio
  check, CUPED lifts, power, Holm, bootstrap) from the engine's sums;
- :mod:`~analysis.experiments.plotting`: its chart.
"""
