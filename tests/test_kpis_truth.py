"""The KPI code recovers the truths planted in the demo warehouse (analysis.demo).

Each tolerance is four standard errors of the sampling noise the generator
adds, computed from the sample size in the data itself (see each test).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analysis.calendar import ReportPeriod, month_bounds
from analysis.demo import write_demo
from analysis.kpis import cart_metrics, scorecard, survey_metrics
from analysis.warehouse import StoreWarehouse

STORE, MONTH, TZ = "demo-bangkok", "2026-10", "Asia/Bangkok"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    truth = write_demo(root, stores=[STORE], seed=20261124)[STORE]
    wh = StoreWarehouse(root, STORE, TZ)
    return wh, truth, scorecard(wh, MONTH)


def _daily(wh, table, column, agg, where=""):
    sql = f"select {column} d, {agg} v from read_parquet('{wh.root}/{table}/{STORE}.parquet') {where} group by 1"
    return wh.connection.sql(sql).df()


def test_conversion_rate(demo):
    wh, truth, card = demo
    planted = truth["conversion"]["conversion_rate"]
    # sessions per day = orders / rate * lognormal(sigma 0.05, mean 1): the monthly rate
    # orders / sessions has relative sd ~ 0.05 * sqrt(sum n_d^2) / sum n_d with n_d the
    # day's sessions, ~ 0.05 / sqrt(31) for a month of similar days.
    days = _daily(wh, "sessions", "date", "sum(sessions)", "where date >= DATE '2026-10-01'")
    n = days["v"].to_numpy(float)
    rel_sd = 0.05 * math.sqrt((n**2).sum()) / n.sum()
    assert card.value("conversion_rate") == pytest.approx(planted, rel=4 * rel_sd)


def test_cart_abandonment(demo):
    wh, truth, card = demo
    planted = truth["carts"]["abandonment_rate"]
    # abandoned carts are a binomial share of created carts: sd = sqrt(a (1 - a) / carts).
    carts = float(cart_metrics(wh.table("carts"), [card.periods[0]]).loc["current", "carts"])
    sd = math.sqrt(planted * (1 - planted) / carts)
    assert card.value("cart_abandonment_rate") == pytest.approx(planted, abs=4 * sd)


def test_nps_and_csat(demo):
    wh, truth, card = demo
    mix = dict(
        zip(["promoter", "passive", "detractor"], truth["parameters"]["nps_mix"], strict=True)
    )
    planted_nps = 100 * (mix["promoter"] - mix["detractor"])
    # Whole history (about 6,400 answers): NPS sd = 100 * sqrt(P + D - (P - D)^2) / sqrt(n).
    start, _ = month_bounds("2024-05", TZ)
    end, _ = month_bounds("2026-11", TZ)
    whole = survey_metrics(wh.table("surveys"), [ReportPeriod("all", "2024-05", start, end)])
    n = float(whole.loc["all", "nps_answers"])
    var = mix["promoter"] + mix["detractor"] - (mix["promoter"] - mix["detractor"]) ** 2
    assert whole.loc["all", "nps"] == pytest.approx(planted_nps, abs=4 * 100 * math.sqrt(var / n))
    # CSAT: share of 4-5 answers, planted as a mix over the NPS groups (binomial sd).
    top2 = dict(
        zip(["promoter", "passive", "detractor"], truth["parameters"]["csat_top2"], strict=True)
    )
    planted_csat = sum(mix[g] * top2[g] for g in mix)
    assert whole.loc["all", "csat"] == pytest.approx(
        planted_csat, abs=4 * math.sqrt(planted_csat * (1 - planted_csat) / n)
    )
    # The report month alone (a few hundred answers) within its own, wider, error.
    month_n = float(
        survey_metrics(wh.table("surveys"), [card.periods[0]]).loc["current", "nps_answers"]
    )
    assert card.value("nps") == pytest.approx(planted_nps, abs=4 * 100 * math.sqrt(var / month_n))


def test_cac_per_channel(demo):
    wh, truth, card = demo
    planted = dict(truth["parameters"]["cac"])
    acq = card.acquisition
    # spend per day and channel = n_d new customers that day * CAC * eps_d, eps lognormal
    # (sigma 0.2, mean 1). The month's CAC = sum(n_d CAC eps_d) / sum(n_d) has relative
    # sd = sd(eps) * sqrt(sum n_d^2) / sum n_d, computed from the daily first orders.
    sd_eps = math.sqrt(math.exp(0.2**2) - 1)
    daily = wh.connection.sql(
        f"""
        with firsts as (
            select customer_id, min(ordered_at) first_at
            from read_parquet('{wh.root}/orders/{STORE}.parquet')
            where status = 'completed' and customer_id is not null group by 1)
        select c.acquisition_channel channel, cast(f.first_at as date) d, count(*) n
        from firsts f join read_parquet('{wh.root}/customers/{STORE}.parquet') c using (customer_id)
        where f.first_at >= TIMESTAMPTZ '2026-09-30 17:00:00+00'
          and f.first_at < TIMESTAMPTZ '2026-10-31 17:00:00+00'
        group by 1, 2
        """
    ).df()
    for channel, cac in planted.items():
        n = daily.loc[daily["channel"] == channel, "n"].to_numpy(float)
        assert acq.loc[channel, "new_customers"] == n.sum() > 0
        rel_sd = sd_eps * math.sqrt((n**2).sum()) / n.sum()
        assert acq.loc[channel, "cac"] == pytest.approx(cac, rel=4 * rel_sd), channel
    assert acq.loc["organic", "spend"] == 0.0 and acq.loc["referral", "spend"] == 0.0
    paid = daily[daily["channel"].isin(list(planted))]
    weights = paid.assign(cost=paid["channel"].map(planted) * paid["n"])
    expected_total = (
        weights["cost"].sum() / daily["n"].sum()
    )  # organic/referral add customers, no spend
    rel_sd = sd_eps * math.sqrt((weights["cost"] ** 2).sum()) / weights["cost"].sum()
    assert card.value("cac") == pytest.approx(expected_total, rel=4 * rel_sd)


def test_truth_file_is_what_the_fixture_used(demo):
    wh, truth, _ = demo
    on_disk = json.loads((wh.root / "_truth.json").read_text())[STORE]
    assert on_disk["conversion"] == truth["conversion"]
    assert np.isfinite(truth["conversion"]["conversion_rate"])
