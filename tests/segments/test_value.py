"""What each group is worth: hand-built customers, campaigns and scores, answers by hand."""

import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from analysis.segments.value import (
    churn_by_group,
    customer_profile,
    group_mix,
    group_value,
    membership_from_labels,
)

AS_OF = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def lazy(frame: pd.DataFrame) -> nw.LazyFrame:
    return nw.from_native(duckdb.from_df(frame))


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "acquisition_channel": ["facebook", "line", "facebook", None],
            # ages in 2026: 24 (under 25), 25 (25-34), 55 (55+), unknown
            "birth_year": pd.array([2002, 2001, 1971, None], dtype="Int64"),
            "gender": ["f", "m", "f", "f"],
            "region": ["Bangkok", "Bangkok", "Chiang Mai", "Bangkok"],
            "email": ["a@x.th", "b@x.th", "c@x.th", "d@x.th"],
        }
    )


@pytest.fixture
def campaigns() -> pd.DataFrame:
    sent = pd.to_datetime(
        ["2026-09-05", "2026-08-05", "2026-09-05", "2025-09-05", "2026-09-05"], utc=True
    )
    return pd.DataFrame(
        {
            "campaign_id": ["c2", "c1", "c2", "c0", "c2"],
            "customer_id": ["a", "a", "b", "b", "c"],
            "sent_at": sent,  # c0 is before the 365-day window
            "opened": [True, True, False, True, None],
            "clicked": [True, False, False, True, None],
            "converted": [True, False, False, True, None],
        }
    )


@pytest.fixture
def rfm() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [4, 1, 2],
            "monetary": [400.0, 50.0, 150.0],
            "segment": ["champions", "new_customers", "champions"],
        }
    )


def test_profile_reads_attributes_never_contacts(customers, campaigns):
    prof = customer_profile(lazy(customers), lazy(campaigns), AS_OF, 365, 2026)
    frame = prof.frame
    assert "email" not in frame.columns
    bands = frame["age_band"]
    assert bands[["a", "b", "c"]].tolist() == ["under_25", "25_34", "55_plus"]
    assert pd.isna(bands["d"])
    # a: two sends in the window (opened both, clicked and converted one); b: one (c0 is
    # outside the window); c: one with unknown flags (null counts as not opened).
    assert frame.loc["a", ["sends", "opened", "clicked", "converted"]].tolist() == [2, 2, 1, 1]
    assert frame.loc["b", ["sends", "opened", "clicked", "converted"]].tolist() == [1, 0, 0, 0]
    assert frame.loc["c", ["sends", "opened"]].tolist() == [1, 0]
    assert prof.mix_columns == ("acquisition_channel", "age_band", "gender", "region")
    assert prof.has_campaigns


def test_group_value_by_hand(customers, campaigns, rfm):
    prof = customer_profile(lazy(customers), lazy(campaigns), AS_OF, 365, 2026)
    members = membership_from_labels(
        rfm.set_index("customer_id")["segment"], ["champions", "new_customers", "lost"]
    )
    outlook = pd.DataFrame(
        {"p_alive": [0.9, 0.5, np.nan], "clv": [1000.0, 200.0, np.nan]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    value = group_value(members, rfm, outlook, prof)
    champ = value.loc["champions"]
    assert champ["customers"] == 2
    assert champ["customer_share"] == pytest.approx(2 / 3)
    assert champ["revenue"] == 550.0
    assert champ["revenue_share"] == pytest.approx(550 / 600)
    assert champ["orders"] == 6
    assert champ["aov"] == pytest.approx(550 / 6)
    assert champ["frequency"] == pytest.approx(3.0)
    assert champ["mean_clv"] == 1000.0  # c has no prediction: the mean is over a only
    assert champ["mean_p_alive"] == 0.9
    # sends to a (2) and c (1): opened 2 of 3, clicked 1 of 3, converted 1 of 3
    assert champ[["open_rate", "click_rate", "convert_rate"]].tolist() == pytest.approx(
        [2 / 3, 1 / 3, 1 / 3]
    )
    new = value.loc["new_customers"]
    assert (new["customers"], new["aov"], new["open_rate"]) == (1, 50.0, 0.0)
    lost = value.loc["lost"]
    assert lost["customers"] == 0 and np.isnan(lost["aov"]) and np.isnan(lost["mean_clv"])


def test_group_value_counts_a_bucket_member_outside_the_window(rfm):
    # bucket population: a, b, c scored plus z (no order in the window): z adds 0 revenue
    flags = pd.DataFrame(
        {"inactive": [False, False, False, True], "heroes": [True, False, False, False]},
        index=pd.Index(["a", "b", "c", "z"], name="customer_id"),
    )
    value = group_value(flags, rfm)
    assert value.loc["inactive", ["customers", "revenue", "orders"]].tolist() == [1, 0.0, 0]
    assert value.loc["inactive", "customer_share"] == 0.25
    assert np.isnan(value.loc["inactive", "aov"])
    assert value.loc["heroes", "revenue_share"] == pytest.approx(400 / 600)
    assert "open_rate" not in value.columns  # no campaigns, no rates


def test_group_mix_shares(customers, rfm):
    prof = customer_profile(lazy(customers), None, AS_OF, 365, 2026)
    members = membership_from_labels(
        pd.Series(["x", "x", "y", "y"], index=["a", "b", "c", "d"]), ["x", "y"]
    )
    channel = group_mix(members, prof, "acquisition_channel")
    assert list(channel.columns) == ["facebook", "line", "unknown"]
    assert channel.loc["x"].tolist() == [0.5, 0.5, 0.0]
    assert channel.loc["y"].tolist() == [0.5, 0.0, 0.5]
    ages = group_mix(members, prof, "age_band")
    assert list(ages.columns) == ["under_25", "25_34", "55_plus", "unknown"]
    assert ages.loc["y"].tolist() == [0.0, 0.0, 0.5, 0.5]
    top1 = group_mix(members, prof, "region", top=1)
    assert list(top1.columns) == ["Bangkok", "other"]
    assert top1.loc["y"].tolist() == [0.5, 0.5]
    assert not prof.has_campaigns


def test_churn_by_group_counts_every_member_once():
    members = membership_from_labels(
        pd.Series(["x", "x", "x", "y"], index=["a", "b", "c", "d"]), ["x", "y", "z"]
    )
    outlook = pd.DataFrame(
        {"churn_risk": ["high", "low", "low"]}, index=pd.Index(["a", "b", "d"], name="customer_id")
    )
    counts = churn_by_group(members, outlook)
    assert counts.loc["x"].tolist() == [1, 0, 1, 1]  # high, medium, low, not_modelled (c)
    assert counts.loc["y"].tolist() == [0, 0, 1, 0]
    assert counts.loc["z"].tolist() == [0, 0, 0, 0]
    assert churn_by_group(members, None)["not_modelled"].tolist() == [3, 1, 0]


def test_group_value_over_every_customer_with_the_scored_as_population(rfm):
    # The page's way: membership rows for every customer (z is not scored: in no segment),
    # window figures indexed by customer id, shares of the 3 scored customers.
    index = pd.Index(["a", "b", "c", "z"], name="customer_id")
    window = pd.DataFrame(
        {"frequency": [4, 1, 2, 0], "monetary": [400.0, 50.0, 150.0, 0.0]}, index=index
    )
    members = membership_from_labels(
        pd.Series(["champions", "new_customers", "champions", None], index=index),
        ["champions", "new_customers"],
    )
    value = group_value(members, window, population=3)
    by_frame = group_value(
        membership_from_labels(
            rfm.set_index("customer_id")["segment"], ["champions", "new_customers"]
        ),
        rfm,
    )
    pd.testing.assert_frame_equal(value, by_frame)
    assert value.loc["champions", "customer_share"] == pytest.approx(2 / 3)
