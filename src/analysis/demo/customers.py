"""The customers table, with fake Thai names, e-mails and phone numbers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.demo import draws
from analysis.demo.columns import Stage, const, instants, strings
from analysis.demo.draws import Stream, exp_us, pick, rounded
from analysis.demo.purchases import Buyers
from analysis.demo.spec import GENDERS, REGIONS, StoreSpec

GENDER_SHARES = (0.56, 0.40, 0.04)
"""Share of customers per gender, in :data:`~analysis.demo.spec.GENDERS` order."""

# fmt: off
# Fake names (Thai script, with the romanisation used for e-mail handles).
MALE_FIRST = (
    ("สมชาย", "somchai"), ("วิชัย", "wichai"), ("ประเสริฐ", "prasert"), ("ธนพล", "thanaphon"),
    ("กิตติ", "kitti"), ("ณัฐวุฒิ", "nattawut"), ("สุรชัย", "surachai"), ("ชัยวัฒน์", "chaiwat"),
    ("อนุชา", "anucha"), ("ธีรวัฒน์", "theerawat"), ("พงศกร", "phongsakon"), ("ภานุวัฒน์", "phanuwat"),
)
FEMALE_FIRST = (
    ("สมศรี", "somsri"), ("สุดา", "suda"), ("มาลี", "malee"), ("อนงค์", "anong"),
    ("พิมพ์ชนก", "phimchanok"), ("ศิริพร", "siriporn"), ("วรรณา", "wanna"), ("จันทร์เพ็ญ", "chanpen"),
    ("กัญญา", "kanya"), ("นภา", "napha"), ("ปิยะนุช", "piyanut"), ("ธิดารัตน์", "thidarat"),
)
LAST = (
    ("ศรีสุข", "srisuk"), ("วงศ์ใหญ่", "wongyai"), ("แก้วมณี", "kaewmanee"), ("บุญมา", "boonma"),
    ("ทองดี", "thongdee"), ("สุขสวัสดิ์", "suksawat"), ("รัตนพันธ์", "rattanaphan"),
    ("จันทร์แก้ว", "jankaew"), ("พรหมมา", "promma"), ("ใจดี", "jaidee"), ("ศรีวงศ์", "sriwong"),
    ("มั่นคง", "mankong"), ("เพชรรัตน์", "phetcharat"), ("สายทอง", "saithong"),
)
# fmt: on


def simulate_customers(
    spec: StoreSpec,
    store_id: str,
    end: dt.date,
    buyers: Buyers,
    cust_ids: pa.Array,
    stream: Stream,
) -> Stage:
    """One row per customer: sign-up before the first order, birth year, gender, region, PII.

    Parameters
    ----------
    spec, store_id
        The store's planted parameters and id.
    end
        First local day after the history (birth years count back from its year).
    buyers
        The customers' first-order instants and acquisition channels.
    cust_ids
        Customer ids by customer index.
    stream
        The store's generator for a stream number.

    Returns
    -------
    tuple
        The ``customers`` table and the truth section ``customers``.
    """
    n, t0 = buyers.n, buyers.t0
    rng = stream(draws.CUSTOMERS)
    at_checkout = rng.random(n) < spec.signup_at_checkout_share
    gap = np.where(at_checkout, 0, exp_us(rng, spec.signup_gap_days, n))
    signed_up = t0 - gap
    age = np.clip(18 + rng.gamma(3.0, 5.0, n), 18, 75)
    birth_year = (end.year - np.floor(age)).astype(np.int64)
    gender = pick(rng, np.array(GENDER_SHARES), n)
    region = pick(rng, np.array([s for _, s in spec.regions]), n)
    female = (gender == 0) | ((gender == 2) & (rng.random(n) < 0.5))
    first_k = rng.integers(0, len(MALE_FIRST), n)
    last_k = rng.integers(0, len(LAST), n)
    first_all = MALE_FIRST + FEMALE_FIRST
    first_code = np.where(female, first_k + len(MALE_FIRST), first_k)
    first_th = strings([f for f, _ in first_all], first_code)
    first_en = strings([e for _, e in first_all], first_code)
    last_th = strings([f for f, _ in LAST], last_k)
    last_en = strings([e for _, e in LAST], last_k)
    number = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    email = pc.binary_join_element_wise(
        first_en, ".", pc.utf8_slice_codeunits(last_en, 0, 1), number, "@example.com", ""
    )
    phone_num = 800_000_000 + rng.integers(1, 10, n) * 10_000_000 + rng.integers(0, 10_000_000, n)
    phone = pc.binary_join_element_wise("0", pc.cast(pa.array(phone_num), pa.string()), "")
    name = pc.binary_join_element_wise(first_th, last_th, " ")
    table = pa.table(
        {
            "customer_id": cust_ids,
            "store_id": const(store_id, n),
            "signed_up_at": instants(signed_up),
            "acquisition_channel": strings(buyers.channel_names, buyers.channel),
            "birth_year": pa.array(birth_year),
            "gender": strings(GENDERS, gender),
            "region": strings(REGIONS, region),
            "email": email,
            "phone": phone,
            "name": name,
        }
    )
    truth = {
        "customers": {
            "definition": "signed_up_at = first order time minus a gap: 0 for a share "
            "signup_at_checkout_share, else Exponential(signup_gap_days); "
            "signup_gap_mean_days = the mean gap over all customers",
            "signup_at_checkout_share": spec.signup_at_checkout_share,
            "signup_gap_days": spec.signup_gap_days,
            "signup_gap_mean_days": rounded(
                (1 - spec.signup_at_checkout_share) * spec.signup_gap_days, 4
            ),
            "region_shares": dict(spec.regions),
            "gender_shares": dict(zip(GENDERS, GENDER_SHARES, strict=True)),
        },
    }
    return {"customers": table}, truth
