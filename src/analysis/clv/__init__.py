"""Customer lifetime value with buy-till-you-die models (lifetimes' fitters).

Modules by concern:

- :mod:`analysis.clv.summary`: the per-customer RFM summary (and the
  calibration/holdout split) computed on the engine, with lifetimes' semantics;
- :mod:`analysis.clv.models`: fitting, comparing and choosing BG/NBD, MBG/NBD and
  Pareto/NBD, Gamma-Gamma spend, CLV, P(alive) and expected purchases;
- :mod:`analysis.clv.tracking`: daily repeat purchases and the tracking curve;
- :mod:`analysis.clv.section`: the whole CLV section in one call (what the
  notebook shows and the benchmark times), its headlines and findings;
- :mod:`analysis.clv.plotting`: the charts of the CLV section.
"""

from analysis.clv.summary import rfm_summary

__all__ = ["rfm_summary"]
