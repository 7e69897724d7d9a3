"""Test data shared by the CLV tests: lifetimes' shipped CDNOW files as orders."""

from __future__ import annotations

import pandas as pd

from analysis.compat import lifetimes_dataset_path


def cdnow_orders(filename: str) -> pd.DataFrame:
    """A CDNOW transaction file shipped with lifetimes as orders (naive dates, revenue).

    ``CDNOW_master.txt`` has a header (customer_id, date, number_of_cds,
    dollar_value); ``CDNOW_sample.txt`` has none and a second id column. lifetimes'
    ``load_dataset`` is ``pandas.read_csv`` on the file with these options.
    """
    path = lifetimes_dataset_path(filename)
    if filename == "CDNOW_master.txt":
        raw = pd.read_csv(path, sep=r"\s+", header=0, dtype={"customer_id": str, "date": str})
    else:
        names = ["customer_id", "customer_index", "date", "number_of_cds", "dollar_value"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype=str)
        raw["dollar_value"] = raw["dollar_value"].astype(float)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(raw))],
            "customer_id": raw["customer_id"],
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "revenue": raw["dollar_value"],
        }
    )
