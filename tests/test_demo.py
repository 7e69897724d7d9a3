"""analysis.demo: contract, determinism, and recovery of every planted number.

Recovery tests compare an estimate computed from the written tables with the
planted value, allowing ``Z = 4`` standard errors worked out from the sample
size (binomial, Poisson or lognormal-noise formulas written next to each test).
For a correct generator a 4-SE miss has probability ~6e-5 per check, whatever
the seed; a wrong generator (wrong shares, MBG/NBD instead of BG/NBD, noise
without mean 1, ...) misses by many SEs at these sample sizes.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import warnings
from pathlib import Path

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from analysis import DEFAULT_SEED, cli
from analysis.demo import DEMO_STORES, TABLE_NAMES, StoreSpec, generate_store, write_demo
from analysis.errors import ConfigError
from analysis.schema import ROW_GROUP_ROWS, TABLES, validate_table

STORES = list(DEMO_STORES)
N = 5000  # customers per store in the shared warehouse
SEED = DEFAULT_SEED
Z = 4.0
TZ = "Asia/Bangkok"
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "warehouse"
    truth = write_demo(root, customers=N, seed=SEED)
    return root, truth


def read(root: Path, table: str, store: str) -> pd.DataFrame:
    return pq.read_table(root / table / f"{store}.parquet").to_pandas()


def close(observed: float, expected: float, se: float, what: str) -> None:
    assert abs(observed - expected) <= Z * se, (
        f"{what}: observed {observed:.5g}, planted {expected:.5g}, "
        f"|diff| = {abs(observed - expected) / se:.1f} SE (SE {se:.3g})"
    )


def completed_registered(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[(orders["status"] == "completed") & orders["customer_id"].notna()]


def end_utc(truth: dict) -> pd.Timestamp:
    return pd.Timestamp(truth["history"]["end_utc"])


# --------------------------------------------------------------------------- contract


def test_demo_stores_specs():
    assert {s: DEMO_STORES[s].customers for s in STORES} == {
        "demo-bangkok": 6000,
        "demo-chiangmai": 3000,
        "demo-online": 8000,
    }
    spec = DEMO_STORES["demo-bangkok"]
    assert isinstance(spec, StoreSpec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.r = 2.0  # type: ignore[misc]
    # planted parameters differ between stores
    assert len({(DEMO_STORES[s].r, DEMO_STORES[s].alpha, DEMO_STORES[s].p) for s in STORES}) == 3
    for s in STORES:
        sp = DEMO_STORES[s]
        for shares in (sp.acquisition_channels, sp.sales_channels, sp.regions):
            assert math.isclose(sum(v for _, v in shares), 1.0)
        assert math.isclose(sum(sp.nps_mix), 1.0)


@pytest.mark.parametrize("store", STORES)
def test_every_table_validates_on_duckdb(wh, store):
    root, _ = wh
    con = duckdb.connect()
    for table in TABLE_NAMES:
        path = root / table / f"{store}.parquet"
        rel = con.read_parquet(str(path))
        rows = validate_table(table, nw.from_native(rel), source=str(path))
        assert rows > 0, f"{table} is empty"
        schema = pq.read_schema(path)
        for col in TABLES[table].columns:
            assert col.name in schema.names, f"{table}.{col.name} missing"
            if col.kind == "timestamp":
                assert schema.field(col.name).type == pa.timestamp("us", tz="UTC")
            if col.kind == "date":
                assert schema.field(col.name).type == pa.date32()


def test_one_seed_everywhere():
    """The seed is defined once (analysis.DEFAULT_SEED); the params file and defaults agree."""
    params = Path(__file__).resolve().parents[1] / "params" / "default.yaml"
    assert yaml.safe_load(params.read_text(encoding="utf-8"))["seed"] == DEFAULT_SEED == 20261124
    assert inspect.signature(write_demo).parameters["seed"].default == DEFAULT_SEED
    assert inspect.signature(cli.demo_data).parameters["seed"].default == DEFAULT_SEED


def test_generate_store_tables_validate_as_arrow():
    tables = generate_store("demo-chiangmai", customers=300, seed=1)
    assert list(tables) == list(TABLE_NAMES) == list(TABLES)
    for name, table in tables.items():
        assert isinstance(table, pa.Table)
        validate_table(name, nw.from_native(table), source=f"generate_store:{name}")
        assert set(table["store_id"].unique().to_pylist()) == {"demo-chiangmai"}


def test_layout_atomic_and_readable_by_warehouse(wh):
    from analysis.warehouse import StoreWarehouse

    root, _ = wh
    assert not list(root.rglob("*.tmp"))
    for table in TABLE_NAMES:
        assert sorted(p.name for p in (root / table).iterdir()) == sorted(
            f"{s}.parquet" for s in STORES
        )
    store = StoreWarehouse(root, "demo-online", TZ)
    assert store.tables() == list(TABLES)
    assert store.last_complete_month() == "2026-10"
    assert "email" not in store.table("customers").collect_schema().names()


def test_files_sorted_by_row_order_and_say_so(wh):
    root, _ = wh
    for table in ("orders", "customers", "loyalty_points"):
        order = TABLES[table].row_order
        file = pq.ParquetFile(root / table / "demo-bangkok.parquet")
        frame = file.read().to_pandas()
        resorted = frame.sort_values(list(order), na_position="last", kind="stable")
        assert frame.index.equals(resorted.index), table
        declared, nulls = pq.SortingColumn.to_ordering(
            file.schema_arrow, file.metadata.row_group(0).sorting_columns
        )
        assert [name for name, _ in declared] == list(order) and nulls == "at_end"
    orders = pq.ParquetFile(root / "orders" / "demo-bangkok.parquet").metadata
    assert orders.row_group(0).num_rows == min(ROW_GROUP_ROWS, orders.num_rows)
    # Guest orders (null customer) come last.
    frame = read(root, "orders", "demo-bangkok")
    assert frame["customer_id"].isna().sum() > 0
    assert frame["customer_id"].isna().to_numpy().argmax() == frame["customer_id"].notna().sum()


def test_history_window_and_ids(wh):
    root, truth = wh
    start = pd.Timestamp("2024-05-01", tz=TZ)
    end = pd.Timestamp("2026-11-01", tz=TZ)
    for store in STORES:
        t = truth[store]
        assert (
            t["history"]["start_local"] == "2024-05-01"
            and t["history"]["end_local_exclusive"] == "2026-11-01"
        )
        orders = read(root, "orders", store)
        assert orders["ordered_at"].min() >= start and orders["ordered_at"].max() < end
        assert orders["ordered_at"].dt.tz_convert(TZ).dt.strftime("%Y-%m").nunique() == 30
        prefix = DEMO_STORES[store].prefix
        assert orders["order_id"].is_unique
        assert orders["order_id"].str.fullmatch(rf"{prefix}-\d{{8}}").all()
        assert orders["customer_id"].dropna().str.fullmatch(rf"{prefix}-C\d{{7}}").all()
        for table, col in [
            ("carts", "created_at"),
            ("surveys", "responded_at"),
            ("loyalty_points", "occurred_at"),
            ("campaigns", "sent_at"),
        ]:
            times = read(root, table, store)[col]
            assert times.max() < end, f"{table}.{col} after the end"
        assert (orders["items"] >= 1).all() and (orders["discount"] >= 0).all()
        assert set(orders["channel"]) == {"web", "app", "line_shopping", "marketplace"}


def test_customers_and_pii(wh):
    root, _ = wh
    for store in STORES:
        cust = read(root, "customers", store)
        orders = completed_registered(read(root, "orders", store))
        assert len(cust) == N and cust["customer_id"].is_unique
        assert set(orders["customer_id"]) == set(cust["customer_id"])  # each has >= 1 order
        first = orders.groupby("customer_id")["ordered_at"].min()
        assert (cust.set_index("customer_id")["signed_up_at"] <= first).all()
        assert (
            cust["email"].str.fullmatch(r"[a-z]+\.[a-z]\d+@example\.com").all()
            and cust["email"].is_unique
        )
        assert cust["phone"].str.fullmatch(r"08[1-9]\d{7}").all()
        assert cust["name"].str.fullmatch(r"[\u0e00-\u0e7f]+ [\u0e00-\u0e7f]+").all()
        assert set(cust["region"]) <= {
            "Bangkok",
            "Central",
            "North",
            "Northeast",
            "East",
            "West",
            "South",
        }
        assert cust["birth_year"].between(1950, 2009).all()


# --------------------------------------------------------------------------- determinism, truth


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_demo(a, customers=800, seed=5)
    write_demo(b, customers=800, seed=5)
    write_demo(c, customers=800, seed=6)
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert len(fa) == 10 * 3 + 1
    assert fa == fb
    assert fa.keys() == fc.keys()
    assert fa["orders/demo-bangkok.parquet"] != fc["orders/demo-bangkok.parquet"]
    oa = pq.read_table(a / "orders" / "demo-bangkok.parquet")
    oc = pq.read_table(c / "orders" / "demo-bangkok.parquet")
    assert oa.num_rows != oc.num_rows or oa["revenue"] != oc["revenue"]


def test_truth_merges_and_is_stable(tmp_path):
    one = write_demo(tmp_path, stores=["demo-bangkok"], customers=300, seed=3)
    first_bytes = (tmp_path / "_truth.json").read_bytes()
    both = write_demo(tmp_path, stores=["demo-online"], customers=300, seed=3)
    assert set(one) == {"demo-bangkok"} and set(both) == {"demo-bangkok", "demo-online"}
    assert both["demo-bangkok"] == one["demo-bangkok"]
    on_disk = json.loads((tmp_path / "_truth.json").read_text(encoding="utf-8"))
    assert on_disk == both
    text = (tmp_path / "_truth.json").read_text(encoding="utf-8")
    assert text == json.dumps(on_disk, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_demo(tmp_path / "again", stores=["demo-bangkok"], customers=300, seed=3)
    assert (tmp_path / "again" / "_truth.json").read_bytes() == first_bytes


def test_truths_present(wh):
    _, truth = wh
    assert set(truth) == set(STORES)
    for store in STORES:
        t, spec = truth[store], DEMO_STORES[store]
        assert (t["bgnbd"]["r"], t["bgnbd"]["alpha"], t["bgnbd"]["a"], t["bgnbd"]["b"]) == (
            spec.r,
            spec.alpha,
            spec.a,
            spec.b,
        )
        assert t["bgnbd"]["time_unit"] == "days"
        assert (t["gamma_gamma"]["p"], t["gamma_gamma"]["q"], t["gamma_gamma"]["gamma"]) == (
            spec.p,
            spec.q,
            spec.gamma,
        )
        assert 300 <= t["gamma_gamma"]["mean_order_value"] <= 1500
        assert t["cac"]["planted"] == dict(spec.cac)
        assert t["surveys"]["nps"] == pytest.approx(spec.nps)
        assert t["experiment"]["experiment_id"] == "loyalty-invite-2026"
        for section in (
            "acquisition",
            "bgnbd",
            "gamma_gamma",
            "orders",
            "customers",
            "cac",
            "conversion",
            "carts",
            "surveys",
            "loyalty",
            "experiment",
            "campaigns",
            "segments",
        ):
            assert t[section]["definition"], section
        for group in (
            "heroes",
            "detractors",
            "cart_abandoners",
            "discount_driven",
            "campaign_responders",
        ):
            assert t["segments"][group]["definition"] and t["segments"][group]["count"] > 0
        assert 8 <= t["orders"]["realised"]["orders_per_customer"] <= 12


def test_unknown_store_and_bad_sizes():
    with pytest.raises(ConfigError, match="no-such"):
        generate_store("no-such", seed=1)
    with pytest.raises(ConfigError):
        generate_store("demo-bangkok", customers=0, seed=1)
    with pytest.raises(ConfigError):
        write_demo(Path("/nonexistent/never-written"), stores=["nope"])


# --------------------------------------------------------------------------- recovery: orders


def test_bgnbd_expected_repeats_and_fit(wh):
    with warnings.catch_warnings():
        from lifetimes import BetaGeoFitter
    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        orders = completed_registered(read(root, "orders", store))
        g = orders.groupby("customer_id")["ordered_at"].agg(["min", "max", "count"])
        frequency = (g["count"] - 1).to_numpy(float)
        recency = ((g["max"] - g["min"]) / DAY).to_numpy(float)
        T = ((end_utc(truth[store]) - g["min"]) / DAY).to_numpy(float)
        planted = BetaGeoFitter()
        planted.params_ = pd.Series({"r": spec.r, "alpha": spec.alpha, "a": spec.a, "b": spec.b})
        expected = np.asarray(planted.expected_number_of_purchases_up_to_time(T), float)
        # mean of independent per-customer counts: SE = sd / sqrt(n)
        close(
            frequency.mean(),
            expected.mean(),
            frequency.std(ddof=1) / math.sqrt(len(T)),
            f"{store} mean repeat purchases vs BG/NBD E[X(T)]",
        )
        fitted = BetaGeoFitter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.fit(frequency, recency, T)
        # MLE is asymptotically normal: each parameter within Z of its own standard error
        for name in ("r", "alpha", "a", "b"):
            close(
                fitted.summary.loc[name, "coef"],
                getattr(spec, name),
                fitted.summary.loc[name, "se(coef)"],
                f"{store} BG/NBD {name}",
            )


def test_order_values_gamma_gamma(wh):
    """Gamma-Gamma on log values: log z = log G(p) - log nu, all moments finite.

    E[log z] = digamma(p) - digamma(q) + log(gamma) and, within a customer,
    Var(log z) = trigamma(p). (The plain mean order value p gamma / (q - 1) is
    heavy-tailed across customers for q <= 4, so its sample SE is unreliable.)
    """
    from scipy.special import digamma, polygamma

    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        start = pd.Timestamp(truth[store]["experiment"]["start_local"], tz=TZ)
        orders = completed_registered(read(root, "orders", store))
        joined = read(root, "loyalty_members", store).set_index("customer_id")["joined_at"]
        # without the membership uplift: before the experiment and before the customer joined
        not_member = ~(orders["ordered_at"] >= joined.reindex(orders["customer_id"]).to_numpy())
        orders = orders[(orders["ordered_at"] < start) & not_member].assign(
            log=lambda d: np.log(d["revenue"])
        )
        per = orders.groupby("customer_id")["log"].agg(["sum", "count", "var"])
        mean = per["sum"].sum() / per["count"].sum()
        # ratio estimator clustered by customer (a customer's values share its nu)
        resid = per["sum"] - mean * per["count"]
        se = math.sqrt((resid**2).sum()) / per["count"].sum()
        expected = digamma(spec.p) - digamma(spec.q) + math.log(spec.gamma)
        close(mean, expected, se, f"{store} mean log order value")
        # pooled within-customer variance; its SE from the chi-square-like spread of per-customer variances
        many = per[per["count"] >= 2]
        dof = many["count"] - 1
        within = (many["var"] * dof).sum() / dof.sum()
        se = math.sqrt(((many["var"] - within) ** 2 * dof**2).sum()) / dof.sum()
        close(within, float(polygamma(1, spec.p)), se, f"{store} within-customer var of log value")
        assert 300 <= spec.mean_order_value <= 1500


def test_status_guest_discount_shares(wh):
    root, _ = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        orders = read(root, "orders", store)
        status = orders["status"].value_counts()
        done = status["completed"]
        # cancelled ~ Poisson(rate * completed): SE of the ratio = sqrt(rate / completed)
        for st, rate in [
            ("cancelled", spec.cancelled_per_completed),
            ("refunded", spec.refunded_per_completed),
        ]:
            close(status[st] / done, rate, math.sqrt(rate / done), f"{store} {st} per completed")
        guests = orders["customer_id"].isna()
        share = spec.guest_share
        close(guests.mean(), share, math.sqrt(share / len(orders)), f"{store} guest share")
        assert (orders.loc[guests, "status"] == "completed").mean() > 0.9
        reg = completed_registered(orders).sort_values("ordered_at")
        first = ~reg["customer_id"].duplicated()
        disc = reg["discount"] > 0
        for mask, rate, what in [
            (first, spec.first_order_discount_rate, "first"),
            (~first, spec.repeat_order_discount_rate, "repeat"),
        ]:
            n = int(mask.sum())
            close(
                disc[mask].mean(),
                rate,
                math.sqrt(rate * (1 - rate) / n),
                f"{store} {what} discount rate",
            )


def test_acquisition_growth_and_sale_days(wh):
    root, truth = wh
    ratios = []
    for store in STORES:
        orders = completed_registered(read(root, "orders", store))
        first = orders.groupby("customer_id")["ordered_at"].min().dt.tz_convert(TZ)
        day = first.dt.strftime("%m-%d")
        year = first.dt.year
        growth = truth[store]["acquisition"]["growth_per_year"]
        # 11.11 against 1-9 November of the same years (plain days or weekends, factor <= 1.1)
        nov = (first.dt.month == 11) & year.isin([2024, 2025])
        peak = (nov & (day == "11-11")).sum()
        base = (nov & first.dt.day.between(1, 9)).sum() / 9
        ratios.append(peak / base)
        # growth: acquisitions in the last 12 months over the first 12 months ~ exp(growth * 1.5 y)
        last = (first >= pd.Timestamp("2025-11-01", tz=TZ)).sum()
        early = (first < pd.Timestamp("2025-05-01", tz=TZ)).sum()
        assert last / early == pytest.approx(math.exp(growth * 1.5), rel=0.15), store
    # planted 4.0 relative to days with factor 1-1.1
    assert 2.5 < np.mean(ratios) < 5.5, ratios


def test_signup_gap(wh):
    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        cust = read(root, "customers", store).set_index("customer_id")
        first = (
            completed_registered(read(root, "orders", store))
            .groupby("customer_id")["ordered_at"]
            .min()
        )
        gap = ((first - cust["signed_up_at"].reindex(first.index)) / DAY).to_numpy()
        planted = truth[store]["customers"]["signup_gap_mean_days"]
        assert planted == pytest.approx((1 - spec.signup_at_checkout_share) * spec.signup_gap_days)
        close(gap.mean(), planted, gap.std(ddof=1) / math.sqrt(len(gap)), f"{store} signup gap")
        s = spec.signup_at_checkout_share
        close(
            (gap == 0).mean(), s, math.sqrt(s * (1 - s) / len(gap)), f"{store} signup at checkout"
        )


# --------------------------------------------------------------------------- recovery: funnel


def test_cac_per_channel(wh):
    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        cust = read(root, "customers", store).set_index("customer_id")
        first = (
            completed_registered(read(root, "orders", store))
            .groupby("customer_id")["ordered_at"]
            .min()
        )
        new = pd.DataFrame(
            {
                "date": first.dt.tz_convert(TZ).dt.date,
                "channel": cust["acquisition_channel"].reindex(first.index),
            }
        )
        spend = read(root, "marketing_spend", store)
        assert set(spend["channel"]) == set(dict(spec.cac))  # organic/referral: no spend
        sigma = math.sqrt(math.exp(0.2**2) - 1)  # sd of the mean-1 lognormal noise
        for channel, cac in spec.cac:
            daily = new[new["channel"] == channel].groupby("date").size()
            observed = spend.loc[spend["channel"] == channel, "spend"].sum() / daily.sum()
            # spend/new = CAC * sum(n_d e_d) / sum(n_d): relative SE = sigma * ||n||_2 / ||n||_1
            se = cac * sigma * math.sqrt((daily**2).sum()) / daily.sum()
            close(observed, cac, se, f"{store} CAC {channel}")
            assert truth[store]["cac"]["realised"][channel] == pytest.approx(observed, rel=1e-3)
        # one month also recovers the planted CAC within its (larger) noise
        month = spend[
            (pd.to_datetime(spend["date"]).dt.strftime("%Y-%m") == "2026-10")
            & (spend["channel"] == "facebook_ads")
        ]
        daily = (
            new[
                (new["channel"] == "facebook_ads")
                & (pd.to_datetime(new["date"]).dt.strftime("%Y-%m") == "2026-10")
            ]
            .groupby("date")
            .size()
        )
        se = dict(spec.cac)["facebook_ads"] * sigma * math.sqrt((daily**2).sum()) / daily.sum()
        close(
            month["spend"].sum() / daily.sum(),
            dict(spec.cac)["facebook_ads"],
            se,
            f"{store} CAC month",
        )


def test_conversion_rate_and_visitors(wh):
    root, _ = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        orders = read(root, "orders", store)  # every status, guests included
        per_day = orders.groupby(orders["ordered_at"].dt.tz_convert(TZ).dt.date).size()
        sessions = read(root, "sessions", store).set_index("date")
        assert len(sessions) == 914 and sessions.index.is_unique
        observed = per_day.sum() / sessions["sessions"].sum()
        # orders/sessions = cr / weighted mean of mean-1 noise (sigma 0.05); plus rounding
        rel = (
            0.05 * math.sqrt((per_day**2).sum()) / per_day.sum()
            + 0.5 * len(per_day) * spec.conversion_rate / per_day.sum()
        )
        close(
            observed, spec.conversion_rate, spec.conversion_rate * rel, f"{store} conversion rate"
        )
        ratio = sessions["visitors"].sum() / sessions["sessions"].sum()
        assert ratio == pytest.approx(spec.visitors_per_session, rel=0.01)
        assert (sessions["visitors"] <= sessions["sessions"]).all()


def test_carts_and_abandonment(wh):
    root, _ = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        orders = read(root, "orders", store).set_index("order_id")
        carts = read(root, "carts", store)
        assert carts["cart_id"].is_unique
        conv = carts.dropna(subset=["order_id"])
        assert conv["order_id"].is_unique and set(conv["order_id"]) == set(orders.index)
        lead = orders.loc[conv["order_id"], "ordered_at"].to_numpy() - conv["created_at"].to_numpy()
        assert (lead >= pd.Timedelta(0)).all() and np.median(lead) < pd.Timedelta(minutes=15)
        owner = orders.loc[conv["order_id"], "customer_id"].fillna("guest").to_numpy()
        assert (owner == conv["customer_id"].fillna("guest").to_numpy()).all()
        abandoned = carts["order_id"].isna()
        a, n = int(abandoned.sum()), len(orders)
        # abandoned ~ Poisson(n * ab / (1 - ab)); delta method on A / (A + n)
        se = n * math.sqrt(a) / (a + n) ** 2
        close(a / (a + n), spec.abandonment_rate, se, f"{store} cart abandonment")
        # abandoned carts of registered customers come after their first order
        first = (
            completed_registered(orders.reset_index()).groupby("customer_id")["ordered_at"].min()
        )
        ab = carts[abandoned & carts["customer_id"].notna()]
        assert (ab["created_at"].to_numpy() > first.reindex(ab["customer_id"]).to_numpy()).all()


def test_nps_and_csat(wh):
    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        s = read(root, "surveys", store)
        n = len(s)
        orders = read(root, "orders", store)
        rate = spec.survey_response_rate
        done = (orders["status"] == "completed").sum()
        assert n / done == pytest.approx(
            rate, abs=Z * math.sqrt(rate / done) + 0.005
        )  # tail cut at end
        prom, det = (s["nps"] >= 9).mean(), (s["nps"] <= 6).mean()
        pp, pd_ = spec.nps_mix[0], spec.nps_mix[2]
        se = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n)  # multinomial variance of %P - %D
        close(100 * (prom - det), spec.nps, se, f"{store} NPS")
        csat = spec.csat / 100
        close(
            100 * (s["csat"] >= 4).mean(),
            spec.csat,
            100 * math.sqrt(csat * (1 - csat) / n),
            f"{store} CSAT",
        )
        assert truth[store]["surveys"]["realised"]["nps"] == pytest.approx(
            100 * (prom - det), abs=1e-3
        )
        assert s["nps"].between(0, 10).all() and s["csat"].between(1, 5).all()
        # promoters are far more satisfied than detractors (CSAT drawn given the NPS group)
        assert (s.loc[s["nps"] >= 9, "csat"] >= 4).mean() > (
            s.loc[s["nps"] <= 6, "csat"] >= 4
        ).mean() + 0.4


def test_campaign_rates(wh):
    root, _ = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        c = read(root, "campaigns", store)
        # one campaign a month; the first months of a small store may reach nobody
        assert 27 <= c["campaign_id"].nunique() <= 30
        assert c["campaign_id"].str.fullmatch(r"[a-z]{3}-newsletter-\d{4}-\d{2}").all()
        assert not c.duplicated(["campaign_id", "customer_id"]).any()
        for observed, rate, n, what in [
            (c["opened"].mean(), spec.open_rate, len(c), "open"),
            (
                c.loc[c["opened"], "clicked"].mean(),
                spec.click_rate,
                c["opened"].sum(),
                "click | open",
            ),
            (
                c.loc[c["clicked"], "converted"].mean(),
                spec.convert_rate,
                c["clicked"].sum(),
                "convert | click",
            ),
        ]:
            close(observed, rate, math.sqrt(rate * (1 - rate) / n), f"{store} campaign {what}")
        assert (
            not (c["clicked"] & ~c["opened"]).any() and not (c["converted"] & ~c["clicked"]).any()
        )


# --------------------------------------------------------------------------- recovery: loyalty, A/B


def test_loyalty_points_and_redemption(wh):
    root, truth = wh
    for store in STORES:
        spec = DEMO_STORES[store]
        members = read(root, "loyalty_members", store).set_index("customer_id")
        points = read(root, "loyalty_points", store)
        orders = completed_registered(read(root, "orders", store))
        assert set(members["tier"]) == {"bronze", "silver", "gold"}
        assert set(points["customer_id"]) <= set(members.index)
        earn = points[points["points_earned"] > 0]
        after = orders[
            orders["ordered_at"] >= members["joined_at"].reindex(orders["customer_id"]).to_numpy()
        ]
        expected = after.assign(points=np.floor(after["revenue"] / 25)).query("points > 0")
        got = earn.merge(
            expected,
            left_on=["customer_id", "occurred_at"],
            right_on=["customer_id", "ordered_at"],
            how="outer",
            indicator=True,
        )
        assert (got["_merge"] == "both").all(), "earning rows != member orders after joining"
        assert (got["points_earned"] == got["points"]).all()
        # each earning is redeemed with prob q after Exp(delay); later than the end is cut off
        left = (end_utc(truth[store]) - earn["occurred_at"]) / DAY
        pi = spec.redemption_probability * (1 - np.exp(-left / spec.redemption_delay_days))
        exp_red = (earn["points_earned"] * pi).sum()
        se = math.sqrt((earn["points_earned"] ** 2 * pi * (1 - pi)).sum())
        close(points["points_redeemed"].sum(), exp_red, se, f"{store} points redeemed")
        rate = points["points_redeemed"].sum() / points["points_earned"].sum()
        assert rate < spec.redemption_probability
        assert truth[store]["loyalty"]["realised"]["redemption_rate"] == pytest.approx(
            rate, abs=1e-5
        )
        # selection: organic members (not joined through the experiment) buy more often. The
        # planted join slopes give ratios of about 1.4 (chiangmai) to 1.8 (online), sd ~0.07
        # across seeds at 5000 customers; without selection the ratio would be ~1.
        organic = members.index.difference(read(root, "experiments", store)["customer_id"])
        per = orders.groupby("customer_id")["ordered_at"].agg(["min", "count"])
        rate_per_day = (per["count"] - 1) / ((end_utc(truth[store]) - per["min"]) / DAY)
        is_member = per.index.isin(organic)
        assert (
            rate_per_day[is_member].mean()
            > 1.1 * rate_per_day[~per.index.isin(members.index)].mean()
        )


def test_loyalty_experiment(wh):
    root, truth = wh
    for store in STORES:
        spec, t = DEMO_STORES[store], truth[store]["experiment"]
        ex = read(root, "experiments", store)
        members = read(root, "loyalty_members", store).set_index("customer_id")
        orders = completed_registered(read(root, "orders", store))
        start = pd.Timestamp(t["start_local"], tz=TZ)
        assert set(ex["experiment_id"]) == {"loyalty-invite-2026"}
        assert ex["customer_id"].is_unique
        counts = ex["variant"].value_counts()
        dropped = t["realised"]["srm_dropped"]
        assert abs(counts["invitation"] - (counts["holdout"] + dropped)) <= 1
        assert (counts["invitation"], counts["holdout"]) == (
            t["realised"]["invitation"],
            t["realised"]["holdout"],
        )
        assert ex["assigned_at"].between(start, start + pd.Timedelta(days=7)).all()
        first = orders.groupby("customer_id")["ordered_at"].min()
        assert (first.reindex(ex["customer_id"]) < start).all()
        joined = members["joined_at"].reindex(ex["customer_id"]).to_numpy()
        was_member = pd.notna(joined) & (joined < start)
        assert not was_member.any(), "members at the start must not be assigned"
        invited = (ex["variant"] == "invitation").to_numpy()
        assert not pd.notna(joined[~invited]).any(), "holdout customers joined during the test"
        n_inv = int(invited.sum())
        rate = spec.experiment_join_rate
        close(
            pd.notna(joined[invited]).mean(),
            rate,
            math.sqrt(rate * (1 - rate) / n_inv),
            f"{store} invitation join rate",
        )
        # ITT on revenue per assigned customer from assignment to the end
        o = orders.merge(ex[["customer_id", "variant", "assigned_at"]], on="customer_id")
        o = o[o["ordered_at"] >= o["assigned_at"]]
        rev = o.groupby("customer_id")["revenue"].sum().reindex(ex["customer_id"], fill_value=0.0)
        arms = {v: rev[(ex["variant"] == v).to_numpy()] for v in ("invitation", "holdout")}
        lift = arms["invitation"].mean() / arms["holdout"].mean() - 1
        assert lift == pytest.approx(t["realised"]["itt_lift_realised"], abs=1e-5)
        se = math.sqrt(sum(x.var(ddof=1) / len(x) for x in arms.values())) / arms["holdout"].mean()
        close(lift, t["realised"]["itt_lift_causal"], se, f"{store} ITT lift between arms")
        nominal = rate * spec.member_uplift
        assert t["itt_lift_nominal"] == pytest.approx(nominal)
        # causal lift = uplift * (revenue of joiners after joining) / (invitation-arm revenue):
        # joiners are a random Bernoulli(rate) subset, so its SE is
        # uplift * sqrt(rate (1 - rate) sum R_i^2) / sum R_i; revenue before joining (mean delay
        # 10-18 days of a ~270-day window) lowers the expectation by well under 20 %
        inv = arms["invitation"]
        se = spec.member_uplift * math.sqrt(rate * (1 - rate) * (inv**2).sum()) / inv.sum()
        causal = t["realised"]["itt_lift_causal"]
        assert 0.8 * nominal - Z * se < causal < nominal + Z * se


def test_planted_sample_ratio_mismatch(wh):
    """demo-online drops srm_drop_share of its holdout rows; the others keep 50/50."""
    from scipy.stats import chisquare

    root, truth = wh
    for store in STORES:
        spec, t = DEMO_STORES[store], truth[store]["experiment"]
        counts = read(root, "experiments", store)["variant"].value_counts()
        n = counts.sum()
        test = chisquare([counts["holdout"], counts["invitation"]], [n / 2, n / 2])
        assert t["planned_split"] == {"holdout": 0.5, "invitation": 0.5}
        assert t["realised"]["srm_chi2"] == pytest.approx(test.statistic, rel=1e-5)
        assert t["realised"]["srm_p"] == pytest.approx(test.pvalue, rel=1e-4, abs=1e-12)
        assert t["srm_planted"] is (store == "demo-online")
        if t["srm_planted"]:
            # dropped ~ Binomial(holdout before dropping, share); chi2 ~ d^2 / N > 15.1 <=> p < 1e-4
            half = counts["invitation"]
            share = spec.srm_drop_share
            close(
                t["realised"]["srm_dropped"],
                share * half,
                math.sqrt(half * share * (1 - share)),
                f"{store} dropped holdout rows",
            )
            assert test.pvalue < 1e-4
        else:
            assert t["realised"]["srm_dropped"] == 0 and test.pvalue > 0.5


def test_pre_post_correlation(wh):
    """The CUPED truth: correlation of revenue before and after assignment, from the tables."""
    root, truth = wh
    for store in STORES:
        ex = read(root, "experiments", store)
        o = completed_registered(read(root, "orders", store)).merge(
            ex[["customer_id", "assigned_at"]], on="customer_id"
        )
        span = end_utc(truth[store]) - o["assigned_at"]
        after = o["ordered_at"] >= o["assigned_at"]
        before = ~after & (o["ordered_at"] >= o["assigned_at"] - span)
        ids = ex["customer_id"]
        post = o[after].groupby("customer_id")["revenue"].sum().reindex(ids, fill_value=0.0)
        pre = o[before].groupby("customer_id")["revenue"].sum().reindex(ids, fill_value=0.0)
        corr = float(np.corrcoef(pre, post)[0, 1])
        assert truth[store]["experiment"]["realised"]["pre_post_correlation"] == pytest.approx(
            corr, abs=1e-5
        )
        assert corr > 0.3  # strong enough for CUPED to narrow an interval


def test_member_effect_truth(wh):
    """Every member's orders from joining are uplifted; the truth is the DiD's estimand.

    Recomputed from the tables: revenue r of an uplifted order had base r / (1 + u), so
    the extra is r u / (1 + u) up to the 2-decimal rounding of both (<= 0.01 per order).
    """
    root, truth = wh
    for store in STORES:
        spec, t = DEMO_STORES[store], truth[store]["loyalty"]
        e, k = t["realised"]["member_effect"], t["event_months"]
        assert t["member_uplift"] == spec.member_uplift and k == 6
        orders = completed_registered(read(root, "orders", store))
        joined = read(root, "loyalty_members", store).set_index("customer_id")["joined_at"]
        local = orders["ordered_at"].dt.tz_convert(TZ)
        month = local.dt.year * 12 + local.dt.month
        start = pd.Timestamp(truth[store]["history"]["start_local"])
        m0 = start.year * 12 + start.month
        n_months = truth[store]["history"]["months"]
        orders = orders.assign(m=month - m0)
        first = orders.groupby("customer_id")["m"].min()
        jl = joined.dt.tz_convert(TZ)
        jm = jl.dt.year * 12 + jl.dt.month - m0
        elig = jm[(first.reindex(jm.index) < jm - k) & (jm + k <= n_months)]
        assert len(elig) == e["eligible_members"] > 100
        o = orders[orders["customer_id"].isin(elig.index)]
        rel = o["m"] - elig.reindex(o["customer_id"]).to_numpy()
        after = o["ordered_at"] >= joined.reindex(o["customer_id"]).to_numpy()
        post = o[(rel >= 0) & (rel < k)]
        up = post[after[(rel >= 0) & (rel < k)]]
        extra = (up["revenue"] * spec.member_uplift / (1 + spec.member_uplift)).sum()
        assert e["effect"] * len(elig) * k == pytest.approx(extra, abs=0.01 * len(up) + 1e-6)
        pre = o[(rel >= -k) & (rel < 0)]["revenue"].sum() / (len(elig) * k)
        assert e["pre_members"] == pytest.approx(pre, abs=1e-5)
        base = post["revenue"].sum() - extra
        assert e["effect_relative"] == pytest.approx(extra / base, abs=1e-4)
        # selection: members buy more often than never-members (planted join slope)
        assert t["realised"]["selection_lambda_ratio"] > 1.3


def test_a_large_store_is_written_in_parts(tmp_path, monkeypatch):
    from pyarrow.compute import sum as pc_sum

    from analysis.demo import write as demo_write
    from analysis.warehouse import validate_warehouse

    monkeypatch.setattr(demo_write, "PART_CUSTOMERS", 400)
    truth = write_demo(tmp_path, stores=["demo-bangkok"], customers=1000)["demo-bangkok"]
    assert truth["n_customers"] == 1000 and truth["part_customers"] == [334, 333, 333]
    checks = {c.table: c.rows for c in validate_warehouse(tmp_path)}  # keys unique, contract met
    customers = pq.read_table(tmp_path / "customers" / "demo-bangkok.parquet").to_pandas()
    assert len(customers) == checks["customers"] == 1000
    assert customers["customer_id"].str.extract(r"^(BKK\d*)-")[0].value_counts().to_dict() == {
        "BKK": 334, "BKK01": 333, "BKK02": 333,
    }  # fmt: skip
    # Tables ordered by customer stay sorted across the parts, guests last, and say so.
    for table in ("orders", "customers"):
        file = pq.ParquetFile(tmp_path / table / "demo-bangkok.parquet")
        frame = file.read().to_pandas()
        order = list(TABLES[table].row_order)
        resorted = frame.sort_values(order, na_position="last", kind="stable")
        assert frame.index.equals(resorted.index), table
        assert file.metadata.row_group(0).sorting_columns, table
    # Daily store tables hold one row per key: the parts' sessions are summed.
    sessions = pq.read_table(tmp_path / "sessions" / "demo-bangkok.parquet").to_pandas()
    assert sessions["date"].is_unique
    from analysis.demo.pipeline import simulate
    from analysis.demo.spec import DEFAULT_END, DEFAULT_MONTHS

    totals = []
    for k, size in enumerate([334, 333, 333]):
        tables: dict = {}
        simulate("demo-bangkok", size, DEFAULT_SEED, DEFAULT_END, DEFAULT_MONTHS,
                 tables.__setitem__, shard=k)  # fmt: skip
        totals.append(int(pc_sum(tables["sessions"]["sessions"])))
    assert sessions["sessions"].sum() == sum(totals) and min(totals) > 0
    # Part 0 is the store generated whole with its share of customers.
    alone = generate_store("demo-bangkok", customers=334, seed=DEFAULT_SEED)["orders"].to_pandas()
    orders = pq.read_table(tmp_path / "orders" / "demo-bangkok.parquet").to_pandas()
    first = orders[orders["order_id"].str.match(r"^BKK-\d")]
    assert first["order_id"].sort_values().tolist() == alone["order_id"].sort_values().tolist()
