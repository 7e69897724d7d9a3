"""CRM-analytics workbench: metrics, models and reports for online stores.

Data flows one way: ``warehouse`` (files → lazy frames) → metric modules
(``kpis``, ``cohorts``, ``clv``, ``segments``, ``loyalty``) → small pandas
results → ``plots`` → notebooks → ``report``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crm-analytics")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

DEFAULT_SEED = 20261124
"""The project's random seed: demo data, model fits and samples start from it.

``params/default.yaml``'s ``seed`` holds the same number (a test checks that they agree).
"""

__all__ = ["DEFAULT_SEED", "__version__"]
