"""analysis.loyalty.comparison: the observational member comparison.

A tiny warehouse worked out by hand pins the estimator (effect, clustered SE, event
study, naive gap, exclusions); a seeded warehouse of a few hundred customers pins it
against an independent row-level pandas computation; the demo stores check it
recovers the planted post-join effect while the naive gap does not.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import write_table
from scipy import stats

from analysis import DEFAULT_SEED
from analysis.config import default_params
from analysis.errors import SectionUnavailable
from analysis.loyalty.comparison import comparison_headlines, member_comparison
from analysis.loyalty.matching import cem_weights, normal_test, standardised_differences
from analysis.warehouse import StoreWarehouse

TZ = "Asia/Bangkok"
STORE = "hand"


def _params(event_months: int, match_months: int):
    return default_params({"loyalty": {"event_months": event_months, "match_months": match_months}})


def _orders(rows: list[tuple[str, str, float]], extra: list[dict] | None = None) -> pd.DataFrame:
    """Completed orders on the 15th at noon Bangkok time, from (customer, YYYY-MM, revenue)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "month", "revenue"])
    frame["ordered_at"] = pd.to_datetime(frame["month"] + "-15 12:00").dt.tz_localize(TZ)
    frame["status"] = "completed"
    frame = frame.drop(columns="month")
    if extra:
        frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    frame.insert(0, "order_id", [f"o{i}" for i in range(len(frame))])
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    return frame


# J = 2025-08 (join month), E = 2, K = 3, report month 2025-09 (= J + E - 1).
HAND_SPEND = {  # monthly spend J-2, J-1 (pre) and J, J+1 (post)
    "A": (100, 100, 300, 100),  # member: d = 200 - 100 = 100
    "B": (100, 100, 100, 100),  # member: d = 0
    "C": (100, 100, 100, 0),  # control: d = -50
    "D": (100, 100, 0, 0),  # control: d = -100
    "E": (100, 100, 100, 100),  # control: d = 0
}
MONTHS = ("2025-06", "2025-07", "2025-08", "2025-09")


@pytest.fixture
def hand(warehouse_dir) -> StoreWarehouse:
    rows = []
    for c, spend in HAND_SPEND.items():
        rows.append((c, "2025-03", 50.0))  # first order before J - E: eligible history
        rows += [(c, m, float(v)) for m, v in zip(MONTHS, spend, strict=True) if v]
    rows += [
        ("F", "2025-07", 100.0),  # first order at J - 1: too little history, never a candidate
        ("F", "2025-08", 100.0),
        ("G", "2025-03", 50.0),  # member joining 2025-09: post window past the report month
        ("G", "2025-09", 500.0),
    ]
    extra = [  # neither a guest order nor a cancelled one counts
        {"customer_id": None, "ordered_at": "2025-08-10T05:00:00Z", "revenue": 9999.0,
         "status": "completed"},
        {"customer_id": "C", "ordered_at": "2025-08-10T05:00:00Z", "revenue": 9999.0,
         "status": "cancelled"},
    ]  # fmt: skip
    write_table(warehouse_dir, "orders", STORE, _orders(rows, extra))
    members = pd.DataFrame(
        {
            "customer_id": ["A", "B", "G"],
            "joined_at": ["2025-08-03T03:00:00Z", "2025-08-20T03:00:00Z", "2025-09-02T03:00:00Z"],
            "tier": "bronze",
        }
    )
    write_table(warehouse_dir, "loyalty_members", STORE, members)
    return StoreWarehouse(warehouse_dir, STORE, TZ)


def test_by_hand(hand):
    r = member_comparison(hand, "2025-09", _params(2, 3), min_members=2)
    assert (r.eligible_members, r.matched_members, r.control_customers, r.strata) == (2, 2, 3, 1)
    assert (r.first_join_month, r.last_join_month) == ("2025-08", "2025-08")
    # members' mean d = 50, controls' mean d = -50 (one stratum, weights 2/3 each)
    assert r.did.members == pytest.approx(50.0)
    assert r.did.controls == pytest.approx(-50.0)
    assert r.did.difference == pytest.approx(100.0)
    # members: s^2 = (50^2 + 50^2) / 1 = 5000, / 2 = 2500; controls: s^2 = 2500, / 3
    assert r.did.members_se == pytest.approx(50.0)
    assert r.did.controls_se == pytest.approx(math.sqrt(2500 / 3))
    se = math.sqrt(2500 + 2500 / 3)
    assert r.did.se == pytest.approx(se)
    assert r.did.low == pytest.approx(100 - 1.959964 * se, rel=1e-6)
    assert r.did.p_value == pytest.approx(2 * stats.norm.sf(100 / se))
    es = r.event_study
    assert list(es.index) == [-2, -1, 0, 1]
    assert es.loc[0, "members"] == pytest.approx(200.0)
    assert es.loc[0, "controls"] == pytest.approx(200 / 3)
    assert es.loc[1, "difference"] == pytest.approx(100 - 100 / 3)  # A, B 100; C 0, D 0, E 100
    assert es.loc[-2, "difference"] == pytest.approx(0.0)
    # flat pre-period for everyone: slopes all 0
    assert r.pretrend.difference == pytest.approx(0.0)
    # naive gap over 2025-08..09 among active customers: members A 200, B 100, G 250 a month
    # (G joined before the report month's end); non-members C 50, E 100, F 50
    assert r.naive.members == pytest.approx((200 + 100 + 250) / 3)
    assert r.naive.non_members == pytest.approx((50 + 100 + 50) / 3)
    assert (r.naive.members_count, r.naive.non_members_count) == (3, 3)
    assert (r.naive.first_month, r.naive.last_month) == ("2025-08", "2025-09")
    # matching looks at months J-E-K .. J-E-1 = 2025-03..05: everyone's one order of 2025-03,
    # 3 months before J - E = 2025-06
    assert r.balance.loc["frequency", "members_before"] == pytest.approx(1.0)
    assert r.balance.loc["monetary", "controls_after"] == pytest.approx(50.0)
    assert r.balance.loc["recency", "controls_after"] == pytest.approx(3.0)
    head = comparison_headlines(r)
    assert head["did_effect"] == pytest.approx(100.0)
    assert head["naive_gap"] == pytest.approx((550 - 200) / 3)
    assert set(head) == {
        "did_effect", "did_ci_low", "did_ci_high", "did_p_value", "naive_gap", "pretrend_p",
        "pretrend_flagged",
    }  # fmt: skip


def test_too_few_members_and_no_table(hand, warehouse_dir, tmp_path):
    with pytest.raises(SectionUnavailable, match="only 2 members could be matched"):
        member_comparison(hand, "2025-09", _params(2, 3))
    with pytest.raises(SectionUnavailable, match="no member has 2 full months"):
        member_comparison(hand, "2025-08", _params(2, 3), min_members=1)
    root = tmp_path / "bare"
    write_table(root, "orders", STORE, _orders([("A", "2025-03", 10.0)]))
    with pytest.raises(SectionUnavailable, match="no loyalty_members table"):
        member_comparison(StoreWarehouse(root, STORE, TZ), "2025-09", _params(2, 3))


def test_cem_weights_and_balance_by_hand():
    strata = pd.DataFrame(
        {
            "join_month": [1, 1, 2, 2, 3],
            "recency_bin": 0,
            "frequency_bin": 0,
            "monetary_bin": 0,
            "treated": [1, 0, 1, 0, 1],
            "n": [2, 4, 1, 1, 5],  # stratum 3 has no control: its 5 members are unmatched
            "sum_x": [2.0, 8.0, 3.0, 1.0, 50.0],
            "sumsq_x": [2.0, 20.0, 9.0, 1.0, 500.0],
        }
    )
    w = cem_weights(strata).set_index("join_month")
    assert w["matched"].tolist() == [True, True, False]
    assert w.loc[1, "control_weight"] == pytest.approx(2 / 4 / 3)
    assert w.loc[2, "control_weight"] == pytest.approx(1 / 1 / 3)
    assert w.loc[3, "member_weight"] == 0.0
    b = standardised_differences(strata, cem_weights(strata), ["x"]).loc["x"]
    # before: members (2 + 3 + 50) / 8, controls 9 / 5; after: members 5 / 3, controls
    # 2/3 * 8/4 + 1/3 * 1 = 5/3
    assert b["members_before"] == pytest.approx(55 / 8)
    assert b["controls_before"] == pytest.approx(9 / 5)
    assert b["members_after"] == pytest.approx(5 / 3)
    assert b["controls_after"] == pytest.approx(5 / 3)
    var_m = (511 - 8 * (55 / 8) ** 2) / 7
    var_c = (21 - 5 * (9 / 5) ** 2) / 4
    assert b["smd_before"] == pytest.approx((55 / 8 - 9 / 5) / math.sqrt((var_m + var_c) / 2))
    assert b["smd_after"] == pytest.approx(0.0)


def test_normal_test_matches_scipy():
    low, high, p = normal_test(2.0, 1.0, 0.9)
    assert (low, high) == pytest.approx((2 - 1.6448536, 2 + 1.6448536), rel=1e-7)
    assert p == pytest.approx(stats.norm.sf(2.0) * 2)
    assert all(math.isnan(v) for v in normal_test(1.0, 0.0))


# --------------------------------------------------------------------------- demo stores


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo import DEMO_STORES, write_demo

    root = tmp_path_factory.mktemp("members-demo")
    truth = write_demo(root, seed=DEFAULT_SEED)
    params = default_params()
    results = {
        s: member_comparison(StoreWarehouse(root, s, TZ), "2026-10", params) for s in DEMO_STORES
    }
    return truth, results


def test_demo_did_recovers_planted_effect_and_naive_gap_does_not(demo):
    truth, results = demo
    for store, r in results.items():
        effect = truth[store]["loyalty"]["realised"]["member_effect"]
        planted = effect["effect"]
        assert r.eligible_members == effect["eligible_members"]  # same history rule
        assert r.matched_members >= 0.95 * r.eligible_members
        assert r.did.low < planted < r.did.high, (store, planted, r.did)
        # the naive gap is far above the truth and outside the DiD interval
        assert r.naive.gap > r.did.high > planted
        assert r.naive.gap - 1.96 * r.naive.se > planted
        # the pre-trend check is not flagged on the demo data (no anticipation planted)
        assert not r.pretrend_flagged and r.pretrend.p_value > 0.05
        # balance improves after matching
        before, after = r.balance["smd_before"].abs(), r.balance["smd_after"].abs()
        assert after.max() < before.max() and after.max() < 0.1


def test_demo_selection_members_were_better_customers(demo):
    truth, results = demo
    for store, r in results.items():
        assert truth[store]["loyalty"]["realised"]["selection_lambda_ratio"] > 1.3
        assert r.naive.members > 1.3 * r.naive.non_members


def test_charts_speak_thai(demo):
    import matplotlib.pyplot as plt
    from visible_words import english_words, figure_texts

    from analysis import plots
    from analysis.i18n import use_language
    from analysis.loyalty.plotting import balance_chart, event_study_chart

    _, results = demo
    r = results["demo-bangkok"]
    plots.set_theme()  # registers the Thai font
    with use_language("th"):
        fig, (a, b) = plt.subplots(2, 1)
        event_study_chart(r.event_study, "THB", ax=a)
        balance_chart(r.balance, ax=b)
        texts = figure_texts(fig)
    plt.close(fig)
    joined = "\n".join(texts)
    assert english_words(joined) == [], joined
    assert "ยอดซื้อรายเดือนก่อนและหลังสมัคร" in joined and "หลังจับคู่" in joined
    with use_language("en"):
        ax = event_study_chart(r.event_study, "THB")
        assert ax.get_title("left").startswith("Monthly spend before and after joining")
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "members",
            "matched non-members",
        ]
    plt.close("all")


def test_narrative_in_thai_and_english(demo):
    from visible_words import english_words

    from analysis.formats import format_money
    from analysis.i18n import use_language
    from analysis.narrative import members as words

    _, results = demo
    r = results["demo-online"]
    with use_language("en"):
        verdict = words.did_verdict(r, "THB")
        d = r.did.difference
        money = [format_money(v, "THB") for v in (abs(d), r.did.low, r.did.high)]
        more = "more" if d >= 0 else "less"
        assert verdict == (
            f"Members spend {money[0]} {more} a month after joining than matched non-members "
            f"(95% CI {money[1]} to {money[2]}); this is an association, not proof."
        )
    with use_language("th"):
        texts = [
            words.did_verdict(r, "THB"),
            words.naive_gap_text(r, "THB"),
            words.matching_note(r),
            words.pretrend_note(r, "THB"),
        ]
        table = words.balance_table(r.balance, "THB").to_html()
    for text in texts:
        assert english_words(text) == [], text
    assert "ผู้ไม่ได้เป็นสมาชิกที่จับคู่ไว้" in table


# --------------------------------------------------------------------------- seeded warehouse


def _seeded(root, n: int = 400, seed: int = 7):
    """Customers with Poisson(lambda) orders a month from their first month (2024-01..12);
    heavier buyers join more (2025-02..06); members' orders after joining are worth 30%
    more. Returns the warehouse and the monthly panel (customer, month index 0 = 2024-01,
    revenue, orders, member join month or -1)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(2.0, 0.5, n)
    first = rng.integers(0, 12, n)
    member = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * np.log(lam))))
    join = np.where(member, rng.integers(13, 18, n), -1)
    rows, panel = [], []
    for c in range(n):
        for m in range(first[c], 24):
            k = max(int(rng.poisson(lam[c])), 1 if m == first[c] else 0)
            for _ in range(k):
                value = round(float(100 * rng.lognormal(0, 0.5)), 2)
                if 0 <= join[c] <= m:
                    value = round(value * 1.3, 2)
                month = f"{2024 + m // 12}-{m % 12 + 1:02d}"
                rows.append((f"c{c:03d}", month, value))
                panel.append((f"c{c:03d}", m, value))
    write_table(root, "orders", STORE, _orders(rows))
    mem = np.flatnonzero(member)
    joined = [f"{2024 + join[c] // 12}-{join[c] % 12 + 1:02d}-01T00:00:00+07:00" for c in mem]
    write_table(
        root,
        "loyalty_members",
        STORE,
        pd.DataFrame({"customer_id": [f"c{c:03d}" for c in mem], "joined_at": joined}),
    )
    frame = pd.DataFrame(panel, columns=["customer_id", "m", "revenue"]).assign(orders=1)
    frame = frame.groupby(["customer_id", "m"], as_index=False)[["revenue", "orders"]].sum()
    joins = pd.Series(join, index=[f"c{c:03d}" for c in range(n)])
    return StoreWarehouse(root, STORE, TZ), frame, joins


def _by_hand(panel: pd.DataFrame, joins: pd.Series, report: int, e: int, k: int) -> dict:
    """The documented estimator, row by row in pandas."""
    first = panel.groupby("customer_id")["m"].min()
    rows = []
    members = joins[joins >= 0]
    members = members[(first[members.index] < members - e) & (members <= report - e + 1)]
    for c, j in members.items():
        rows.append((c, j, 1))
    never = joins.index[joins < 0]
    for j in sorted(set(members)):
        rows += [(c, j, 0) for c in never if first[c] < j - e]
    cand = pd.DataFrame(rows, columns=["customer_id", "J", "treated"])
    spend = panel.set_index(["customer_id", "m"])
    feats = []
    for c, j, _ in cand.itertuples(index=False):
        own = spend.loc[c]
        pre = own[(own.index >= j - e - k) & (own.index < j - e)]
        ys = [float(own["revenue"].get(j + i, 0.0)) for i in range(-e, e)]
        feats.append(
            {
                "frequency": pre["orders"].sum(),
                "monetary": pre["revenue"].sum(),
                "recency": j - e - pre.index.max() if len(pre) else k + 1,
                "did": np.mean(ys[e:]) - np.mean(ys[:e]),
                "slope": np.polyfit(np.arange(-e, 0), ys[:e], 1)[0],
                **{f"y{i}": y for i, y in zip(range(-e, e), ys, strict=True)},
            }
        )
    cand = pd.concat([cand, pd.DataFrame(feats)], axis=1)
    pos = cand.loc[(cand["treated"] == 1) & (cand["monetary"] > 0), "monetary"]
    edges = [pos.quantile(q) for q in (0.2, 0.4, 0.6, 0.8)]
    cand["rb"] = np.searchsorted([1, 3, 6, k], cand["recency"], side="left")
    cand["fb"] = np.searchsorted([0, 1, 2, 4, 8], cand["frequency"], side="left")
    cand["mb"] = np.where(
        cand["monetary"] <= 0, 0, 1 + np.searchsorted(edges, cand["monetary"], side="left")
    )
    key = ["J", "rb", "fb", "mb"]
    cand["m_s"] = cand.groupby(key)["treated"].transform("sum")
    cand["c_s"] = cand.groupby(key)["treated"].transform(lambda t: (1 - t).sum())
    cand = cand[(cand["m_s"] > 0) & (cand["c_s"] > 0)].copy()
    big_m = int(cand["treated"].sum())
    t = cand["treated"] == 1
    out = {"matched": big_m}
    for y in ["did", "slope", *(f"y{i}" for i in range(-e, e))]:
        mean_t = cand.loc[t, y].mean()
        ctrl = cand[~t]
        s_mean = ctrl.groupby(key)[y].transform("mean")
        w = ctrl["m_s"] / ctrl["c_s"] / big_m
        mean_c = float((w * ctrl[y]).sum())
        u_t = (cand.loc[t, y] - mean_t) / big_m
        u_c = (w * (ctrl[y] - s_mean)).groupby(ctrl["customer_id"]).sum()
        g_t, g_c = len(u_t), len(u_c)
        var = (u_t**2).sum() * g_t / (g_t - 1) + (u_c**2).sum() * g_c / (g_c - 1)
        out[y] = (mean_t - mean_c, math.sqrt(var))
    return out


def test_seeded_warehouse_matches_row_by_row_computation(warehouse_dir):
    wh, panel, joins = _seeded(warehouse_dir)
    e, k, report = 3, 6, 23  # report month 2025-12
    r = member_comparison(wh, "2025-12", _params(e, k), min_members=10)
    hand = _by_hand(panel, joins, report, e, k)
    assert r.matched_members == hand["matched"] > 30
    assert (r.did.difference, r.did.se) == pytest.approx(hand["did"], rel=1e-9)
    for i in range(-e, e):
        assert r.event_study.loc[i, "difference"] == pytest.approx(hand[f"y{i}"][0], rel=1e-9)
    assert (r.pretrend.difference, r.pretrend.se) == pytest.approx(hand["slope"], rel=1e-9)
    # the planted 30% uplift shows after joining
    assert r.did.difference > 0 and r.did.p_value < 0.05
