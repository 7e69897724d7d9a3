"""Lifecycle buckets on the demo stores find the planted groups of ``_truth.json`` ``segments``.

The demo generator plants each group by a rule it knows (analysis.demo.segments)
over windows that end at the end of the history and match the default
parameters (``segments.rfm_window_days`` 365, ``cart_days`` 30,
``hero_top_share`` 0.05), so the buckets are computed at that instant with the
defaults. Recall = planted members found / planted members the rule can see;
precision = found members that are planted / found members. Tolerances are
stated (and justified) at each assertion.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import narwhals as nw
import pandas as pd
import pytest

from analysis import DEFAULT_SEED
from analysis.config import default_params
from analysis.demo import DEMO_STORES, write_demo
from analysis.demo.segments import CART_DAYS, HERO_SHARE, WINDOW_DAYS, bitmap_members
from analysis.segments.buckets import BucketFlags, bucket_flags
from analysis.warehouse import StoreWarehouse

STORES = list(DEMO_STORES)
N = 5000  # customers per store
TZ = "Asia/Bangkok"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("buckets") / "warehouse"
    return root, write_demo(root, customers=N, seed=DEFAULT_SEED)


def planted(truth: dict, group: str) -> set[str]:
    """Ids of a planted group, decoded from its bitmap (customer k has id <prefix>-C<k+1>)."""
    mask = bitmap_members(truth["segments"][group]["members"], truth["n_customers"])
    ids = {f"{truth['id_prefix']}-C{k + 1:07d}" for k in range(len(mask)) if mask[k]}
    assert len(ids) == truth["segments"][group]["count"]
    return ids


def found(result: BucketFlags, bucket: str) -> set[str]:
    return set(result.flags.index[result.flags[bucket]])


def recall_precision(found_ids: set[str], planted_ids: set[str]) -> tuple[float, float]:
    hit = len(found_ids & planted_ids)
    return hit / max(len(planted_ids), 1), hit / max(len(found_ids), 1)


def as_of(truth: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(truth["history"]["end_utc"])


def window(frame: pd.DataFrame, column: str, end: dt.datetime, days: int) -> pd.DataFrame:
    start = pd.Timestamp(end) - pd.Timedelta(days=days)
    return frame[(frame[column] >= start) & (frame[column] < pd.Timestamp(end))]


@pytest.fixture(scope="module")
def buckets(demo) -> dict[str, tuple[BucketFlags, StoreWarehouse, dict]]:
    root, truth = demo
    params = default_params().segments
    assert (params.rfm_window_days, params.cart_days, params.hero_top_share) == (
        WINDOW_DAYS,
        CART_DAYS,
        HERO_SHARE,
    )
    out = {}
    for store in STORES:
        wh = StoreWarehouse(root, store, TZ)
        result = bucket_flags(
            wh.table("orders"),
            as_of(truth[store]),
            params,
            surveys=wh.table("surveys"),
            carts=wh.table("carts"),
            campaigns=wh.table("campaigns"),
        )
        out[store] = (result, wh, truth[store])
    return out


@pytest.mark.parametrize("store", STORES)
def test_detractors_exact_by_survey(buckets, store):
    result, wh, truth = buckets[store]
    end = as_of(truth)
    # Survey answers alone: the same rule on completed orders only (no refunds or
    # cancellations to add members). Every negative answer belongs to a planted
    # detractor or a guest ("spilled" 0), and every answer of a planted detractor is
    # negative, so the planted detractors who answered in the window are found exactly.
    assert truth["segments"]["detractors"]["spilled"] == 0
    done = wh.table("orders").filter(nw.col("status") == "completed")
    surveys_only = bucket_flags(done, end, default_params().segments, surveys=wh.table("surveys"))
    answers = window(wh.table("surveys").collect().to_pandas(), "responded_at", end, WINDOW_DAYS)
    visible = planted(truth, "detractors") & set(answers["customer_id"].dropna())
    assert len(visible) > 100
    assert found(surveys_only, "negative_experience") == visible
    # With refunds and cancellations the bucket is larger, and still holds them all.
    assert visible <= found(result, "negative_experience")


@pytest.mark.parametrize("store", STORES)
def test_cart_abandoners_exact(buckets, store):
    result, _, truth = buckets[store]
    # The generator's own record over its arrays, same rule and window: exact.
    expected = planted(truth, "cart_abandoners")
    assert len(expected) > 100
    assert found(result, "cart_abandoners") == expected


@pytest.mark.parametrize("store", STORES)
def test_discount_driven(buckets, store):
    result, wh, truth = buckets[store]
    end = as_of(truth)
    orders = wh.table("orders").collect().to_pandas()
    done = window(orders[orders["status"] == "completed"], "ordered_at", end, WINDOW_DAYS)
    eligible = set(done["customer_id"].value_counts().loc[lambda s: s >= 2].index)
    # Planted customers have every completed order discounted (shortfall 0), so each one
    # with >= 2 window orders is found: recall exactly 1.
    assert truth["segments"]["discount_driven"]["shortfall"] == 0
    expected = planted(truth, "discount_driven") & eligible
    recall, precision = recall_precision(found(result, "discount_driven"), expected)
    assert len(expected) > 50 and recall == 1.0
    # Other customers keep the remaining discounts at random (first orders about
    # (rate - 0.06) / 0.94 = 43-63%, repeat orders 6-17%), so some with two or three
    # window orders pass by chance, most where first orders are most often discounted.
    # Measured at seed 20261124 (5,000 customers): precision 0.69 bangkok, 0.83
    # chiangmai, 0.44 online. Floor 0.3: a planting that failed (discounts not moved
    # to the planted customers) gives about 0.06 / (0.06 + 0.94 * 0.1) = 0.4 at best
    # with recall far below 1, so recall == 1 carries the test and precision guards
    # against the flags being spread thin again.
    assert precision >= 0.3, precision


@pytest.mark.parametrize("store", STORES)
def test_campaign_responders_and_non_responders_exact(buckets, store):
    result, wh, truth = buckets[store]
    end = as_of(truth)
    # Each converted send of the window went to a different planted customer and no
    # other send of the window converts: the responders are exactly the planted ones.
    expected = planted(truth, "campaign_responders")
    assert len(expected) >= 10
    assert found(result, "campaign_responders") == expected
    sends = window(wh.table("campaigns").collect().to_pandas(), "sent_at", end, WINDOW_DAYS)
    three = set(sends["customer_id"].value_counts().loc[lambda s: s >= 3].index)
    non = found(result, "campaign_non_responders")
    assert non == three - expected
    assert len(non) == truth["segments"]["campaign_responders"]["non_responders"]


@pytest.mark.parametrize("store", STORES)
def test_heroes_by_latent_value(buckets, store):
    result, _, truth = buckets[store]
    heroes = found(result, "heroes")
    recall, precision = recall_precision(heroes, planted(truth, "heroes"))
    # The planted heroes are the top 5% by LATENT window value (purchase rate x days
    # active in the window x mean order value, all known to the generator); the bucket
    # ranks by REALISED window spend (Poisson order counts, Gamma order values) and needs
    # 3 orders, so the sets differ at the margin. Measured at seed 20261124 (5,000
    # customers, ~200 heroes each): recall and precision 0.83 bangkok, 0.81 chiangmai,
    # 0.83 online (0.79-0.81 at the stores' full sizes). Floor 0.7: about 3 binomial SE
    # (0.028 at n = 200) below the lowest; a random 5% would give 0.05.
    assert recall >= 0.7, recall
    assert precision >= 0.7, precision
