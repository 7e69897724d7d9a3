"""Paid-channel marketing spend (planted CAC) and monthly e-mail campaigns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analysis.calendar import shift_date
from analysis.demo import draws
from analysis.demo.columns import Stage, const, instants, strings
from analysis.demo.draws import US_PER_HOUR, Stream, lognormal_mean1, rounded
from analysis.demo.purchases import Buyers
from analysis.demo.segments import plant_responders
from analysis.demo.spec import PAID_CHANNELS, StoreSpec
from analysis.demo.timeline import Timeline, local_midnight_us


def simulate_spend(
    spec: StoreSpec, store_id: str, cal: Timeline, buyers: Buyers, stream: Stream
) -> Stage:
    """Daily spend per paid channel: that day's new customers of the channel x CAC x noise.

    Parameters
    ----------
    spec, store_id
        The store's planted parameters and id.
    cal
        The store's history.
    buyers
        The customers' acquisition days and channels.
    stream
        The store's generator for a stream number.

    Returns
    -------
    tuple
        The ``marketing_spend`` table and the truth section ``cac`` (THB per new customer).
    """
    rng = stream(draws.MARKETING)
    D = cal.days
    cac = dict(spec.cac)
    ms_dates, ms_spend, ms_chan, realised_cac = [], [], [], {}
    for ch in PAID_CHANNELS:
        code = buyers.channel_names.index(ch)
        new = np.bincount(buyers.day[buyers.channel == code], minlength=D)
        spend = np.round(new * cac[ch] * lognormal_mean1(rng, 0.2, D), 2)
        ms_dates.append(cal.dates)
        ms_spend.append(spend)
        ms_chan.append(np.full(D, PAID_CHANNELS.index(ch)))
        realised_cac[ch] = rounded(spend.sum() / max(new.sum(), 1), 4)
    table = pa.table(
        {
            "store_id": const(store_id, D * len(PAID_CHANNELS)),
            "date": pa.array(np.concatenate(ms_dates)),
            "spend": pa.array(np.concatenate(ms_spend), pa.float64()),
            "channel": strings(PAID_CHANNELS, np.concatenate(ms_chan)),
        }
    )
    truth = {
        "cac": {
            "definition": "daily spend per paid channel = new customers acquired that local day "
            "through it * CAC * lognormal noise (mean 1, sigma 0.2); organic and "
            "referral have no spend; CAC = spend / new customers of the channel",
            "planted": dict(spec.cac),
            "noise_sigma": 0.2,
            "realised": realised_cac,
        },
    }
    return {"marketing_spend": table}, truth


def simulate_campaigns(
    spec: StoreSpec,
    store_id: str,
    cal: Timeline,
    months: int,
    buyers: Buyers,
    cust_ids: pa.Array,
    stream: Stream,
) -> Stage:
    """One newsletter a month (the 5th, from 10:00 local) to a random share of acquired customers.

    Parameters
    ----------
    spec, store_id
        The store's planted parameters and id.
    cal
        The store's history.
    months
        Length of the history, calendar months.
    buyers
        The customers' acquisition instants (ascending).
    cust_ids
        Customer ids by customer index.
    stream
        The store's generator for a stream number.

    Returns
    -------
    tuple
        The ``campaigns`` table and the truth section ``campaigns``.
    """
    rng = stream(draws.CAMPAIGNS)
    names: list[str] = []
    cp_code, cp_cust, cp_t, cp_flags = [], [], [], []
    first_month = cal.start.replace(day=1)
    for k in range(months + 1):
        month = shift_date(first_month, k)
        base = local_midnight_us(month.replace(day=5)) + 10 * US_PER_HOUR
        if base < cal.start_us or base >= cal.end_us:
            continue
        acquired = int(np.searchsorted(buyers.t0, base))  # customers are sorted by acquisition
        rec = np.flatnonzero(rng.random(acquired) < spec.campaign_reach)
        opened = rng.random(len(rec)) < spec.open_rate
        clicked = opened & (rng.random(len(rec)) < spec.click_rate)
        converted = clicked & (rng.random(len(rec)) < spec.convert_rate)
        cp_code.append(np.full(len(rec), len(names)))
        names.append(f"{spec.prefix.lower()}-newsletter-{month:%Y-%m}")
        cp_cust.append(rec)
        cp_t.append(base + (rng.random(len(rec)) * 2 * US_PER_HOUR).astype(np.int64))
        cp_flags.append(np.stack([opened, clicked, converted]))
    empty = np.zeros(0, np.int64)
    cp_rec = np.concatenate(cp_cust) if cp_cust else empty
    flags = np.concatenate(cp_flags, axis=1) if cp_flags else np.zeros((3, 0), bool)
    sent = np.concatenate(cp_t) if cp_t else empty
    flags, responders = plant_responders(
        flags, cp_rec, sent, buyers.n, cal.end_us, stream(draws.RESPONDERS)
    )
    table = pa.table(
        {
            "campaign_id": strings(names, np.concatenate(cp_code) if cp_code else empty),
            "store_id": const(store_id, len(cp_rec)),
            "customer_id": cust_ids.take(pa.array(cp_rec.astype(np.int32))),
            "sent_at": instants(sent),
            "opened": pa.array(flags[0]),
            "clicked": pa.array(flags[1]),
            "converted": pa.array(flags[2]),
        }
    )
    truth = {
        "campaigns": {
            "definition": "one campaign a month, sent on the 5th from 10:00 local to a random "
            "share reach of the customers acquired before it; opened, clicked | "
            "opened, converted | clicked are Bernoulli draws (not linked to orders)",
            "reach": spec.campaign_reach,
            "open_rate": spec.open_rate,
            "click_rate": spec.click_rate,
            "convert_rate": spec.convert_rate,
        },
        "segments": {"campaign_responders": responders},
    }
    return {"campaigns": table}, truth
