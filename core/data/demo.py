"""The "AI Shop" (AI商店) demo chain: a generated Japanese retail chain's daily sales.

A deterministic (per seed) simulation of store x item daily unit sales, made to look
like a convenience / neighbourhood chain and to carry every pattern Mitoshi has to
cope with:

* demand = store size x item popularity (lognormal) x weekday x yearly season x
  holiday / seasonal peak x price effect, drawn as Poisson-gamma (negative binomial)
  so it is overdispersed; about 15 % of items are intermittent slow movers;
* weekdays depend on the category and on the store's location: office-area stores sell
  little bento and hot food at weekends, everyone buys more drinks and daily goods then;
  Japanese public holidays (``holidays`` Japan calendar), Golden Week (Apr 29 - May 5),
  Obon (Aug 13-16), the year end (Dec 28-31) and New Year (Jan 1-3) behave like Sundays
  with their own per-category lift or dip; drinks peak in summer, hot food and bento in
  winter;
* chain-wide promotions (runs of 3-7 days, a few % of days, 10-30 % off) lift demand by
  ``(price / reference price) ** elasticity``, elasticity -1.5 to -3 by category; the
  reference is the regular price before any rise, so the occasional permanent +5-10 %
  price rise lowers demand through the same formula;
* about 10 % of items are launched in the last year (at least 120 days before the end)
  and about 5 % are discontinued (after at least 120 days); they have no rows outside
  their life.

Today's ordering practice is simulated day by day for all series at once: the order for
day d arrives that morning and is ``max(0, target - stock carried into d)`` with
``target = max(ceil(best sales of the same weekday over the last 3 weeks x (1 + buffer)),
MIN_DISPLAY)`` - a store manager's "order what the best recent Monday sold, plus a
little". Looking at the best of three weeks, not just last week, matters because sales
are censored: a rule that follows last week only follows every sold-out dip at once and
climbs back by the buffer alone, leaving a third of shelves empty. The target is rounded
*up* (rounded to nearest, 1 or 2 units a day never grow again) and never below
``MIN_DISPLAY`` (after weeks without sales nothing would ever be ordered again). In a
series' first 7 days (of the history, or after its launch) the store orders its expected
demand plus the buffer instead. The practice ignores the promotion and holiday calendars,
as a "same weekday" rule does. Stock is sold oldest first; perishables (shelf life <= 3
days) are thrown away when they reach their shelf life, other stock never expires. Sales
are ``min(demand, available stock)`` and ``stockout`` is 1 where demand exceeded it: on
those days ``y`` understates demand. That censoring is intended - it is what today's
practice records and what a forecast has to see through. At the default buffer about
15 % of store-item-days sell out and about a third of one-day perishables ordered are
thrown away: the room a forecast has to win back.

Dates: the history is ``years * 365`` days ending on ``end_date`` (so a leap day makes
it end one calendar day short of ``years`` full years). By default ``end_date`` is
yesterday, the machine's local date less one day, read when the ``DemoConfig`` is made:
the chain always ends the day before it is generated, so forecasts published from it
are for the days ahead. Tests, benchmarks and anything else that must reproduce a chain
pin ``end_date`` (``REFERENCE_END_DATE``).

What the seed fixes and what the dates fix: the seed fixes every random draw - the
stores, the items, their prices and price rises, the promotion runs, launches and
discontinuations (all counted in days from the first day of the history) and the random
streams of demand. The dates fix what a real calendar carries: weekdays, Japanese
holidays, Golden Week, Obon, the year end, New Year and the yearly season. The same seed
generated on another day therefore has the same stores, the same items with the same
prices and the same promotion runs at the same positions, shifted with the dates, but
not the same sales: shifted by a number of days, a holiday falls on another day of the
history, Golden Week moves, a Monday becomes a Tuesday, and the demand expected that day
- and so the number drawn - changes. Keeping the values and only relabelling the dates
would sell Sunday's bento on a Monday and New Year's on an ordinary day, the very
patterns the demo exists to show. Identical frames come from an identical config,
``end_date`` included.

Everything is vectorised with numpy: the only Python loop runs over days and updates
vectors of all series, so 100 stores x 500 items x 3 years takes seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from core.columns import DATE, TARGET, Freq
from core.errors import MitoshiError
from core.warehouse import Dataset, DatasetSpec, Warehouse, warehouse_path

PERISHABLE_MAX_DAYS = 3  # shelf life up to this many days is tracked by age and expires
LOOKBACK_WEEKS = 3  # the practice looks at the same weekday of the last three weeks
MIN_DISPLAY = 1  # units the practice keeps on the shelf even after a week without sales
LOOKBACK_DAYS = 7  # the practice repeats the same weekday; before a week it uses expected demand
MIN_LIFE_DAYS = 120  # new and discontinued items have at least this much history
PROMO_SHARE = 0.04  # share of days an item is on promotion
PROMO_MIN_GAP = 14  # days between two promotions of one item, at least
NEW_SHARE, DISCONTINUED_SHARE, SLOW_SHARE, PRICE_RISE_SHARE = 0.10, 0.05, 0.15, 0.20
MAX_STORES, MAX_ITEMS, MAX_YEARS = 999, 9999, 10  # what the ids and the calendar allow
DEMAND_BLOCK_DAYS = 32  # days of demand drawn per task (fixed: results must not depend on cores)
SUMMER_PEAK_DAY = 213  # day of year of Aug 1: positive yearly amplitudes peak here


@dataclass(frozen=True)
class Category:
    """How one category sells."""

    name: str
    shelf_life_days: int
    demand: float  # units a day of a typical item in a size-1.0 store, on average
    price_range: tuple[int, int]  # regular shelf price, yen
    elasticity: float  # typical; items vary around it
    yearly: float  # amplitude of the yearly cycle: > 0 peaks in summer, < 0 in winter
    office_week: tuple[float, ...]  # Monday..Sunday at office-area stores
    home_week: tuple[float, ...]  # Monday..Sunday at residential stores
    golden_week: float
    obon: float
    year_end: float
    new_year: float
    names: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "bento", shelf_life_days=1, demand=9.0, price_range=(398, 698),
        elasticity=-2.0, yearly=-0.15,
        office_week=(1.2, 1.2, 1.2, 1.2, 1.15, 0.55, 0.5),
        home_week=(0.95, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1),
        golden_week=0.95, obon=0.95, year_end=0.85, new_year=1.3,
        names=("幕の内弁当", "鮭おにぎり", "ツナマヨおにぎり", "梅おにぎり", "から揚げ弁当", "のり弁当",
               "焼肉弁当", "親子丼", "カツ丼", "ざるそば", "ハンバーグ弁当", "いなり寿司"),
    ),
    Category(
        "bread", shelf_life_days=2, demand=6.0, price_range=(118, 298),
        elasticity=-1.8, yearly=0.0,
        office_week=(1.1, 1.1, 1.1, 1.1, 1.1, 0.8, 0.7),
        home_week=(0.95, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1),
        golden_week=1.0, obon=1.0, year_end=1.1, new_year=0.6,
        names=("食パン", "メロンパン", "あんパン", "カレーパン", "クロワッサン", "ロールパン",
               "クリームパン", "ジャムパン", "たまごサンド", "ミックスサンド"),
    ),
    Category(
        "dairy", shelf_life_days=3, demand=5.0, price_range=(118, 298),
        elasticity=-2.0, yearly=0.05,
        office_week=(1.05, 1.05, 1.05, 1.05, 1.05, 0.9, 0.85),
        home_week=(0.95, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1),
        golden_week=1.0, obon=1.0, year_end=1.2, new_year=0.7,
        names=("牛乳 1L", "低脂肪乳 1L", "ヨーグルト", "飲むヨーグルト", "プリン", "豆乳 1L",
               "カフェラテ", "生クリーム", "杏仁豆腐"),
    ),
    Category(
        "hot_food", shelf_life_days=1, demand=6.0, price_range=(110, 198),
        elasticity=-1.5, yearly=-0.55,
        office_week=(1.2, 1.2, 1.2, 1.2, 1.15, 0.55, 0.5),
        home_week=(0.95, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1),
        golden_week=0.9, obon=0.9, year_end=1.2, new_year=1.4,
        names=("肉まん", "あんまん", "ピザまん", "おでん 大根", "おでん 玉子", "からあげ棒",
               "フライドチキン", "コロッケ", "アメリカンドッグ", "焼き鳥"),
    ),
    Category(
        "grocery", shelf_life_days=180, demand=3.0, price_range=(98, 498),
        elasticity=-2.5, yearly=-0.05,
        office_week=(1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9),
        home_week=(0.9, 0.9, 0.9, 0.9, 0.95, 1.2, 1.3),
        golden_week=1.1, obon=1.15, year_end=1.6, new_year=0.8,
        names=("カップ麺 醤油", "カップ麺 味噌", "レトルトカレー", "インスタント味噌汁", "ポテトチップス",
               "チョコレート", "ツナ缶", "パスタ 500g", "醤油 1L", "米 5kg", "ふりかけ", "せんべい"),
    ),
    Category(
        "beverages", shelf_life_days=365, demand=10.0, price_range=(98, 248),
        elasticity=-3.0, yearly=0.4,
        office_week=(1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05),
        home_week=(0.9, 0.9, 0.9, 0.9, 0.95, 1.25, 1.25),
        golden_week=1.3, obon=1.3, year_end=1.4, new_year=1.3,
        names=("緑茶 500ml", "麦茶 2L", "ミネラルウォーター 2L", "コーラ 500ml", "スポーツドリンク 500ml",
               "缶コーヒー", "オレンジジュース 1L", "ビール 350ml", "炭酸水 500ml", "紅茶 500ml",
               "エナジードリンク"),
    ),
    Category(
        "daily_goods", shelf_life_days=730, demand=1.5, price_range=(198, 698),
        elasticity=-2.2, yearly=0.0,
        office_week=(0.95, 0.95, 0.95, 0.95, 1.0, 1.15, 1.1),
        home_week=(0.85, 0.85, 0.85, 0.85, 0.9, 1.35, 1.4),
        golden_week=1.05, obon=1.0, year_end=1.4, new_year=0.6,
        names=("ティッシュ 5箱", "トイレットペーパー 12ロール", "歯ブラシ", "洗濯洗剤", "シャンプー",
               "ゴミ袋 45L", "乾電池 単3", "マスク 30枚", "ハンドソープ", "台所用洗剤"),
    ),
)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
# Item i gets category CATEGORY_MIX[i % 20]: any 7 consecutive items cover every
# category, and the mix is a chain's (drinks and groceries most, hot food least).
CATEGORY_MIX: tuple[str, ...] = (
    "bento", "beverages", "grocery", "bread", "daily_goods", "dairy", "hot_food",
    "bento", "beverages", "grocery", "bread", "daily_goods", "dairy", "hot_food",
    "beverages", "grocery", "bento", "grocery", "daily_goods", "beverages",
)
OFFICE, RESIDENTIAL = "office", "residential"
LOCATIONS: tuple[str, ...] = (OFFICE, RESIDENTIAL)
# (name stem, region, location). Office and residential stores alternate early on so
# that even a 2-store chain has one of each.
STORE_SITES: tuple[tuple[str, str, str], ...] = (
    ("丸の内", "関東", OFFICE), ("吉祥寺", "関東", RESIDENTIAL), ("梅田", "関西", OFFICE),
    ("豊中", "関西", RESIDENTIAL), ("名古屋駅前", "中部", OFFICE), ("横浜", "関東", RESIDENTIAL),
    ("天神", "九州", OFFICE), ("西宮", "関西", RESIDENTIAL), ("札幌駅前", "北海道", OFFICE),
    ("熊本", "九州", RESIDENTIAL), ("仙台", "東北", OFFICE), ("旭川", "北海道", RESIDENTIAL),
    ("渋谷", "関東", OFFICE), ("盛岡", "東北", RESIDENTIAL), ("博多", "九州", OFFICE),
    ("自由が丘", "関東", RESIDENTIAL), ("新宿", "関東", OFFICE), ("浜松", "中部", RESIDENTIAL),
    ("三宮", "関西", OFFICE), ("岡山", "中国", RESIDENTIAL), ("栄", "中部", OFFICE),
    ("松山", "四国", RESIDENTIAL), ("広島", "中国", OFFICE), ("町田", "関東", RESIDENTIAL),
    ("品川", "関東", OFFICE), ("金沢", "中部", RESIDENTIAL), ("京都駅前", "関西", OFFICE),
    ("鹿児島", "九州", RESIDENTIAL), ("高松", "四国", OFFICE), ("函館", "北海道", RESIDENTIAL),
    ("池袋", "関東", OFFICE), ("郡山", "東北", RESIDENTIAL), ("小倉", "九州", OFFICE),
    ("船橋", "関東", RESIDENTIAL), ("秋葉原", "関東", OFFICE), ("天王寺", "関西", RESIDENTIAL),
    ("静岡", "中部", OFFICE), ("那覇", "九州", RESIDENTIAL), ("大宮", "関東", OFFICE),
    ("奈良", "関西", RESIDENTIAL),
)
REGIONS: tuple[str, ...] = tuple(dict.fromkeys(region for _, region, _ in STORE_SITES))


# The end date tests and benchmarks pin, so that their chains do not move with the calendar.
REFERENCE_END_DATE = date(2026, 10, 31)


def yesterday() -> date:
    """The machine's local date less one day: the default last day of a demo chain."""
    return date.today() - timedelta(days=1)


@dataclass(frozen=True)
class DemoConfig:
    """The size, randomness, last day and ordering practice of a generated chain
    (``end_date``: yesterday unless given, see the module's notes on dates)."""

    stores: int = 10
    items: int = 50
    years: int = 3
    seed: int = 42
    end_date: date = field(default_factory=yesterday)  # last day of sales; the first is years*365-1 days before
    name: str = "AI Shop demo chain"
    buffer: float = 0.1  # today's ordering practice: buffer over recent same-weekday sales

    @property
    def n_days(self) -> int:
        return self.years * 365

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.n_days - 1)

    def validate(self) -> None:
        limits = {"stores": (self.stores, MAX_STORES), "items": (self.items, MAX_ITEMS),
                  "years": (self.years, MAX_YEARS)}
        for label, (value, most) in limits.items():
            if not 1 <= value <= most:
                raise MitoshiError(f"The demo chain needs 1 to {most} {label}; got {value}.")
        if not 0 <= self.buffer <= 5:
            raise MitoshiError(f"The ordering buffer must be between 0 and 5 (0-500 %); got {self.buffer}.")
        if not self.name.strip():
            raise MitoshiError("Give the demo dataset a name.")
        if not isinstance(self.end_date, date):
            raise MitoshiError(f"The demo chain's end date must be a date, e.g. date(2026, 10, 31); got {self.end_date!r}.")


@dataclass(frozen=True)
class DemoChain:
    """A generated chain: its sales in Mitoshi's long shape and its two masters."""

    sales: pd.DataFrame  # long, one row per (store, item, date) that the item was on sale
    items: pd.DataFrame  # item master
    stores: pd.DataFrame  # store master


@dataclass(frozen=True)
class _Items:
    """The item master as arrays, days counted from the first day of the history."""

    category: np.ndarray  # index into CATEGORIES
    first_day: np.ndarray  # first day on sale (negative: on sale before the history)
    stop_day: np.ndarray  # first day no longer on sale (n_days: still on sale)
    slow: np.ndarray  # bool: intermittent slow mover
    popularity: np.ndarray
    elasticity: np.ndarray
    dispersion: np.ndarray  # gamma shape of the Poisson-gamma demand: smaller = noisier
    trend: np.ndarray  # yearly growth rate of demand
    regular_price: np.ndarray  # (days, items) yen, the shelf price without promotion
    reference_price: np.ndarray  # yen, the regular price before any rise
    cost_share: np.ndarray  # unit cost / regular price
    promo_depth: np.ndarray  # (days, items) percent off, 0 = no promotion


@dataclass(frozen=True)
class _Calendar:
    dates: pd.DatetimeIndex
    holiday: np.ndarray  # (days,) bool, Japanese public holiday
    day_type: np.ndarray  # (days,) 0-6 = Monday-Sunday; holidays and peaks count as Sunday
    season: np.ndarray  # (days, categories) yearly cycle x holiday / peak multiplier


# ---------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------
def generate_chain(config: DemoConfig | None = None) -> DemoChain:
    """Generate the chain's sales and masters; the same config gives the same frames
    (``None``: the default chain, ending yesterday)."""
    config = config or DemoConfig()
    config.validate()
    # One independent stream per part, so that e.g. more stores do not reshuffle items.
    store_seed, item_seed, series_seed, demand_seed = np.random.SeedSequence(config.seed).spawn(4)
    calendar = _calendar(config)
    stores, size, location = _stores(config.stores, np.random.default_rng(store_seed))
    item_arrays = _item_arrays(config, np.random.default_rng(item_seed))
    model = _demand_model(calendar, size, location, item_arrays, np.random.default_rng(series_seed))
    shelf_life = np.array([c.shelf_life_days for c in CATEGORIES])[item_arrays.category[model.item]]
    sold, ordered, stockout = _simulate_practice(
        model, model.draw(demand_seed), shelf_life, config.buffer
    )
    sales = _sales_frame(config, calendar, stores, item_arrays, sold, ordered, stockout)
    return DemoChain(sales=sales, items=_item_master(config, item_arrays), stores=stores)


def demo_spec(config: DemoConfig) -> DatasetSpec:
    """The roles of the demo's columns."""
    return DatasetSpec(
        name=config.name,
        freq=Freq.DAILY,
        keys=("store_id", "item_id"),
        attributes=("region", "category"),
        exog_known=("price", "promo", "holiday"),
        stockout="stockout",
        orders="ordered",
        source=(
            f"generated: AI Shop demo (seed={config.seed}, {config.stores} stores x "
            f"{config.items} items x {config.years} years)"
        ),
        original_names={TARGET: "units sold", DATE: "date"},
        description=(
            "AI Shop (AI商店), a generated Japanese convenience chain: daily unit sales per store "
            "and item across bento, bread, dairy, hot food, grocery, beverages and daily goods, "
            "with weekday, yearly and holiday seasonality, promotions, price rises, slow movers, "
            "launches and discontinuations. Today's ordering practice: each morning's delivery "
            f"tops the shelf up to the best of the same weekday over the last {LOOKBACK_WEEKS} weeks plus "
            f"{config.buffer:.0%} (rounded up, at least {MIN_DISPLAY} unit); perishables expire after their "
            "shelf life. "
            "Sales are capped by stock, so they understate demand on stockout days."
        ),
    )


def load_demo(warehouse: Warehouse, config: DemoConfig | None = None) -> Dataset:
    """Generate the chain and store it in ``warehouse`` as a new dataset (``None``: the
    default chain, ending yesterday)."""
    config = config or DemoConfig()
    return store_chain(warehouse, generate_chain(config), config)


def store_chain(warehouse: Warehouse, chain: DemoChain, config: DemoConfig) -> Dataset:
    """Store an already generated chain (lets callers time the two steps apart)."""
    return warehouse.create_dataset(
        demo_spec(config),
        chain.sales,
        side_tables={"items": chain.items, "stores": chain.stores},
        notes=demo_notes(chain, config),
        # Generated store by store, item by item, day by day, with fixed-width ids
        # ("S001", "I0001"): already in (series id, date) order.
        presorted=True,
    )


def demo_notes(chain: DemoChain, config: DemoConfig) -> list[str]:
    """What a user of the demo dataset should know, in the warehouse's notes."""
    items, sales = chain.items, chain.sales
    launched = int((items["launch_date"] >= pd.Timestamp(config.start_date)).sum())
    discontinued = int(items["discontinue_date"].notna().sum())
    return [
        "Generated demo data: nothing here is a real shop's sales.",
        f"Sales were capped by the stock on the shelf on {sales['stockout'].mean():.1%} of "
        "store-item-days (stockout = 1); true demand was higher on those days.",
        f"'ordered' is today's practice: the best of the same weekday over the last {LOOKBACK_WEEKS} weeks "
        f"+ {config.buffer:.0%} (rounded up, at least {MIN_DISPLAY} unit on the shelf), minus the stock "
        "carried over.",
        f"{launched} items were launched and {discontinued} discontinued during the history; "
        f"{_slow_share(sales, config.items):.0%} of series sell under 0.5 units a day.",
    ]


def _slow_share(sales: pd.DataFrame, n_items: int) -> float:
    """Share of series selling under 0.5 units a day (bincount: a groupby is slow at 50M rows)."""
    store = sales["store_id"].cat.codes.to_numpy().astype(np.int64)
    series = store * n_items + sales["item_id"].cat.codes.to_numpy()
    days = np.bincount(series)
    units = np.bincount(series, weights=sales[TARGET].to_numpy())
    return float(np.mean(units[days > 0] / days[days > 0] < 0.5))


# ---------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------
def _calendar(config: DemoConfig) -> _Calendar:
    dates = pd.date_range(config.start_date, config.end_date, freq="D")
    japan = holidays.Japan(years=range(dates[0].year, dates[-1].year + 1))
    holiday = np.isin(dates.date, np.array(list(japan.keys()), dtype=object))
    peaks = _peak_periods(dates)
    # Offices close and families are home on holidays and in the peak periods.
    day_type = np.where(holiday | peaks.any(axis=1), 6, dates.day_of_week.to_numpy())
    peak_lift = np.array([[c.golden_week, c.obon, c.year_end, c.new_year] for c in CATEGORIES])
    # Periods do not overlap, so each day takes the lift of its period or 1.
    lift = 1 + peaks.astype(float) @ (peak_lift - 1).T
    return _Calendar(dates=dates, holiday=holiday, day_type=day_type, season=_yearly(dates) * lift)


def _peak_periods(dates: pd.DatetimeIndex) -> np.ndarray:
    """(days, 4) bool: Golden Week, Obon, year end, New Year."""
    month, day = dates.month.to_numpy(), dates.day.to_numpy()
    return np.column_stack([
        ((month == 4) & (day >= 29)) | ((month == 5) & (day <= 5)),
        (month == 8) & (day >= 13) & (day <= 16),
        (month == 12) & (day >= 28),
        (month == 1) & (day <= 3),
    ])


def _yearly(dates: pd.DatetimeIndex) -> np.ndarray:
    """(days, categories) smooth yearly cycle around 1."""
    angle = 2 * np.pi * (dates.day_of_year.to_numpy() - SUMMER_PEAK_DAY) / 365.25
    amplitude = np.array([c.yearly for c in CATEGORIES])
    return 1 + np.cos(angle)[:, None] * amplitude[None, :]


# ---------------------------------------------------------------------------------
# Masters
# ---------------------------------------------------------------------------------
def _stores(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The store master, each store's size and its location index (office/residential)."""
    sites = [STORE_SITES[i % len(STORE_SITES)] for i in range(n)]
    names = [
        f"{stem}店" if i < len(STORE_SITES) else f"{stem}{i // len(STORE_SITES) + 1}号店"
        for i, (stem, _, _) in enumerate(sites)
    ]
    size = np.round(np.clip(rng.lognormal(0.0, 0.3, n), 0.5, 1.5), 2)
    location = np.array([LOCATIONS.index(loc) for _, _, loc in sites])
    frame = pd.DataFrame({
        "store_id": [f"S{i + 1:03d}" for i in range(n)],
        "store_name": names,
        "region": pd.Categorical([region for _, region, _ in sites], categories=REGIONS),
        "location": pd.Categorical.from_codes(location, categories=LOCATIONS),
        "size": size,
    })
    return frame, size, location


def _item_arrays(config: DemoConfig, rng: np.random.Generator) -> _Items:
    n, n_days = config.items, config.n_days
    category = np.array([CATEGORY_NAMES.index(CATEGORY_MIX[i % len(CATEGORY_MIX)]) for i in range(n)])
    # Disjoint random sets of new, discontinued and slow items, of fixed sizes.
    order = rng.permutation(n)
    n_new, n_gone, n_slow = (round(share * n) for share in (NEW_SHARE, DISCONTINUED_SHARE, SLOW_SHARE))
    new, gone = order[:n_new], order[n_new:n_new + n_gone]
    slow = np.zeros(n, bool)
    slow[order[n_new + n_gone:n_new + n_gone + n_slow]] = True

    first_day = -rng.integers(1, 2000, n)  # established items were launched before the history
    first_day[new] = rng.integers(max(0, n_days - 365), n_days - MIN_LIFE_DAYS + 1, len(new))
    stop_day = np.full(n, n_days)
    stop_day[gone] = rng.integers(MIN_LIFE_DAYS, n_days - 30 + 1, len(gone))

    typical = np.array([c.demand for c in CATEGORIES])[category]
    # Slow movers sell 0.05-0.3 a day in a size-1.0 store: mostly zero days.
    slow_level = rng.uniform(0.05, 0.3, n) / typical
    popularity = np.where(slow, slow_level, np.clip(rng.lognormal(0, 0.6, n), 0.25, 4))
    typical_elasticity = np.array([c.elasticity for c in CATEGORIES])[category]
    elasticity = np.clip(typical_elasticity + rng.normal(0, 0.25, n), -3, -1.5)
    regular_price, reference_price = _regular_prices(category, n_days, rng)
    return _Items(
        category=category, first_day=first_day, stop_day=stop_day, slow=slow,
        popularity=popularity, elasticity=elasticity,
        dispersion=rng.uniform(3.0, 10.0, n), trend=rng.normal(0.02, 0.04, n),
        regular_price=regular_price, reference_price=reference_price,
        cost_share=rng.uniform(0.60, 0.75, n),
        promo_depth=_promotions(n, n_days, rng),
    )


def _regular_prices(
    category: np.ndarray, n_days: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(days, items) regular shelf price with occasional rises, and the price before them."""
    n = len(category)
    low = np.array([c.price_range[0] for c in CATEGORIES])[category] // 10
    high = np.array([c.price_range[1] for c in CATEGORIES])[category] // 10
    current = rng.integers(low, high + 1) * 10 + 8  # Japanese shelf prices end in 8: 398 yen
    risen = rng.permutation(n)[:round(PRICE_RISE_SHARE * n)]
    rise_day = np.full(n, n_days)
    rise_day[risen] = rng.integers(30, n_days - 30, len(risen))
    before = current.astype(float)
    before[risen] = np.round(current[risen] / (1 + rng.uniform(0.05, 0.10, len(risen))))
    after_rise = np.arange(n_days)[:, None] >= rise_day[None, :]
    return np.where(after_rise, current, before).astype(float), before


def _promotions(n: int, n_days: int, rng: np.random.Generator) -> np.ndarray:
    """(days, items) percent off: non-overlapping chain-wide runs of 3-7 days."""
    # Enough (gap, run) pairs per item that even the shortest ones cover the history.
    pairs = n_days // (3 + PROMO_MIN_GAP + 1) + 1
    length = rng.integers(3, 8, (n, pairs))
    extra_gap_mean = 5 / PROMO_SHARE - 5 - PROMO_MIN_GAP
    gap = PROMO_MIN_GAP + rng.geometric(1 / extra_gap_mean, (n, pairs))
    gap[:, 0] = rng.integers(0, round(2 * extra_gap_mean), n)  # items start out of step
    end = np.cumsum(gap + length, axis=1)
    start = end - length
    depth = rng.integers(10, 31, (n, pairs))
    # +depth on the first day of a run, -depth the day after it; the running sum is the
    # depth of the run a day is in (runs never overlap), 0 between runs.
    steps = np.zeros((n, n_days + 1), np.int64)
    inside = start < n_days
    rows = np.broadcast_to(np.arange(n)[:, None], start.shape)[inside]
    np.add.at(steps, (rows, start[inside]), depth[inside])
    np.add.at(steps, (rows, np.minimum(end, n_days)[inside]), -depth[inside])
    return np.cumsum(steps, axis=1)[:, :n_days].T


def _item_master(config: DemoConfig, items: _Items) -> pd.DataFrame:
    n = config.items
    start = pd.Timestamp(config.start_date)
    seen: dict[int, int] = {}
    names = []
    for c in items.category:  # a loop over items, not rows: at most MAX_ITEMS
        k = seen[c] = seen.get(c, -1) + 1
        pool = CATEGORIES[c].names
        names.append(pool[k % len(pool)] + (f" {k // len(pool) + 1}" if k >= len(pool) else ""))
    unit_price = items.regular_price[-1].astype(int)  # today's regular price, after any rise
    stop = pd.Series(start + pd.to_timedelta(items.stop_day, unit="D"))
    return pd.DataFrame({
        "item_id": [f"I{i + 1:04d}" for i in range(n)],
        "item_name": names,
        "category": pd.Categorical.from_codes(items.category, categories=CATEGORY_NAMES),
        "unit_price": unit_price,
        "unit_cost": np.round(unit_price * items.cost_share).astype(int),
        "shelf_life_days": np.array([c.shelf_life_days for c in CATEGORIES])[items.category],
        "launch_date": start + pd.to_timedelta(items.first_day, unit="D"),
        # The first day the item is no longer sold; empty while it is still on sale.
        "discontinue_date": stop.where(items.stop_day < config.n_days),
    })


# ---------------------------------------------------------------------------------
# Demand and today's ordering practice
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Demand:
    """Expected demand of every series: the part of the chain that ignores the shelf.

    Series are store-major: series s is store s // items, item s % items.
    """

    level: np.ndarray  # (series,) units a day before calendar and price effects
    item: np.ndarray  # (series,) item index
    week: np.ndarray  # (7, series) weekday multiplier
    day_item: np.ndarray  # (days, items) season, holiday, price and trend multiplier
    day_type: np.ndarray  # (days,) row of ``week`` to use
    first: np.ndarray  # (series,) first day on sale within the history
    stop: np.ndarray  # (series,) first day no longer on sale
    dispersion: np.ndarray  # (series,) gamma shape

    def expected(self, start: int, stop: int) -> np.ndarray:
        """(days, series) mean demand on days start..stop-1, 0 when not on sale."""
        day = np.arange(start, stop)[:, None]
        on_sale = (self.first <= day) & (day < self.stop)
        return self.level * self.day_item[day, self.item] * self.week[self.day_type[start:stop]] * on_sale

    def draw(self, seed: np.random.SeedSequence) -> np.ndarray:
        """(days, series) units demanded: Poisson-gamma around the expected demand.

        Blocks of days are drawn on all cores, each from its own stream, so the result
        does not depend on how many cores there are.
        """
        n_days = len(self.day_type)
        demand = np.empty((n_days, len(self.item)), np.int32)
        starts = range(0, n_days, DEMAND_BLOCK_DAYS)

        def draw_block(start: int, block_seed: np.random.SeedSequence) -> None:
            rng = np.random.default_rng(block_seed)
            stop = min(start + DEMAND_BLOCK_DAYS, n_days)
            mean = self.expected(start, stop)
            demand[start:stop] = rng.poisson(rng.gamma(self.dispersion, mean / self.dispersion))

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(draw_block, starts, seed.spawn(len(starts))))
        return demand


def _demand_model(
    calendar: _Calendar, size: np.ndarray, location: np.ndarray, items: _Items, rng: np.random.Generator
) -> _Demand:
    n_items = len(items.category)
    item = np.tile(np.arange(n_items), len(size))
    store = np.repeat(np.arange(len(size)), n_items)
    category = items.category[item]
    return _Demand(
        level=_mean_level(size, items, item, store, rng),
        item=item,
        week=_weekday_table()[:, category * len(LOCATIONS) + location[store]],
        day_item=_day_item_factor(calendar, items, len(calendar.dates)),
        day_type=calendar.day_type,
        first=np.maximum(items.first_day, 0)[item],
        stop=items.stop_day[item],
        dispersion=items.dispersion[item],
    )


def _simulate_practice(
    model: _Demand, demand: np.ndarray, shelf_life: np.ndarray, buffer: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run today's ordering practice day by day; return (days, series) sold, ordered, stockout."""
    n_days, n = demand.shape
    keeps_a_day, keeps_two_days = shelf_life >= 2, shelf_life >= 3
    never_expires = shelf_life > PERISHABLE_MAX_DAYS
    sold = np.zeros((n_days, n), np.int32)
    ordered = np.zeros((n_days, n), np.int32)
    stockout = np.zeros((n_days, n), np.int8)
    # Stock on hand by age in days: 1 and 2+ (non-perishables collect in the last).
    aged_one, older = np.zeros(n), np.zeros(n)
    for d in range(n_days):
        on_sale = (model.first <= d) & (d < model.stop)
        weeks = [sold[d - k * LOOKBACK_DAYS] for k in range(1, LOOKBACK_WEEKS + 1) if d >= k * LOOKBACK_DAYS]
        recent_best = np.max(weeks, axis=0) if weeks else 0
        basis = np.where(d - model.first < LOOKBACK_DAYS, model.expected(d, d + 1)[0], recent_best)
        # Rounded up: rounding to nearest would keep 1 or 2 units a day at 1 or 2 for ever.
        target = np.maximum(np.ceil(basis * (1 + buffer)), MIN_DISPLAY) * on_sale
        carried = aged_one + older
        order = np.maximum(target - carried, 0)
        available = carried + order
        sales = np.minimum(demand[d], available)
        # Oldest first: what the old stock does not cover comes off the fresh delivery.
        from_older = np.minimum(older, sales)
        from_aged = np.minimum(aged_one, sales - from_older)
        fresh = order - (sales - from_older - from_aged)
        # Overnight everything ages a day; what reaches its shelf life is thrown away.
        older = (aged_one - from_aged) * keeps_two_days + (older - from_older) * never_expires
        aged_one = fresh * keeps_a_day
        sold[d], ordered[d], stockout[d] = sales, order, demand[d] > available
    return sold, ordered, stockout


def _mean_level(
    size: np.ndarray, items: _Items, item: np.ndarray, store: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Expected units a day of each series before calendar and price effects."""
    typical = np.array([c.demand for c in CATEGORIES])[items.category[item]]
    store_fit = rng.lognormal(0.0, 0.2, len(item))  # how well an item suits a store
    level = typical * items.popularity[item] * size[store] * store_fit
    # Slow movers stay slow in every store: under 0.5 a day even with promotions.
    return np.where(items.slow[item], np.minimum(level, 0.4), level)


def _day_item_factor(calendar: _Calendar, items: _Items, n_days: int) -> np.ndarray:
    """(days, items) multiplier of demand from season, holidays, price and trend."""
    price = _charged_price(items)
    price_effect = (price / items.reference_price[None, :]) ** items.elasticity[None, :]
    years_from_middle = (np.arange(n_days) - n_days / 2) / 365
    trend = np.exp(np.outer(years_from_middle, items.trend))
    return calendar.season[:, items.category] * price_effect * trend


def _charged_price(items: _Items) -> np.ndarray:
    """(days, items) yen charged: the regular price less any promotion."""
    return np.round(items.regular_price * (1 - items.promo_depth / 100))


def _weekday_table() -> np.ndarray:
    """(7, categories x locations) weekday multipliers, each column averaging 1."""
    columns = [
        np.array(c.office_week if loc == OFFICE else c.home_week) for c in CATEGORIES for loc in LOCATIONS
    ]
    table = np.column_stack(columns)
    return table / table.mean(axis=0, keepdims=True)


# ---------------------------------------------------------------------------------
# The long frame
# ---------------------------------------------------------------------------------
def _sales_frame(
    config: DemoConfig,
    calendar: _Calendar,
    stores: pd.DataFrame,
    items: _Items,
    sold: np.ndarray,
    ordered: np.ndarray,
    stockout: np.ndarray,
) -> pd.DataFrame:
    """One row per series and day on sale, series-major and date-ascending.

    Every store sells an item on the same days, so the columns that depend only on the
    item and the day are built for one store and repeated for the others.
    """
    n_stores, n_items, n_days = config.stores, config.items, config.n_days
    days = np.arange(n_days)
    on_sale = (days >= np.maximum(items.first_day, 0)[:, None]) & (days < items.stop_day[:, None])
    item, day = np.nonzero(on_sale)  # one store's rows, item-major, date-ascending
    per_store = len(item)

    def each_store(values: np.ndarray) -> np.ndarray:
        return np.tile(values, n_stores)

    def observed(matrix: np.ndarray) -> np.ndarray:
        """A (days, series) matrix as a column: series-major, days on sale only."""
        return matrix.T.reshape(n_stores, n_items, n_days)[:, on_sale].ravel()

    store_codes = np.repeat(np.arange(n_stores, dtype=np.int16), per_store)
    region_codes = np.repeat(stores["region"].cat.codes.to_numpy(), per_store)
    return pd.DataFrame(
        {
            "store_id": pd.Categorical.from_codes(store_codes, categories=stores["store_id"]),
            "item_id": pd.Categorical.from_codes(
                each_store(item.astype(np.int16)), categories=[f"I{i + 1:04d}" for i in range(n_items)]
            ),
            "region": pd.Categorical.from_codes(region_codes, categories=REGIONS),
            "category": pd.Categorical.from_codes(
                each_store(items.category[item].astype(np.int8)), categories=CATEGORY_NAMES
            ),
            DATE: each_store(calendar.dates.to_numpy()[day]),
            TARGET: observed(sold).astype(np.float64),
            "price": each_store(_charged_price(items)[day, item]),
            "promo": each_store((items.promo_depth[day, item] > 0).astype(np.int8)),
            "holiday": each_store(calendar.holiday[day].astype(np.int8)),
            "stockout": observed(stockout),
            "ordered": observed(ordered).astype(np.float64),
        },
        copy=False,
    )


# ---------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = DemoConfig(
        stores=args.stores, items=args.items, years=args.years, seed=args.seed, name=args.name,
        end_date=args.end_date or yesterday(),
    )
    try:
        config.validate()
        _generate_and_load(config, Path(args.warehouse) if args.warehouse else warehouse_path())
    except MitoshiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    defaults = DemoConfig()
    parser = argparse.ArgumentParser(
        prog="python -m core.data.demo",
        description="Generate the AI Shop demo chain and load it into the warehouse.",
    )
    parser.add_argument("--stores", type=int, default=defaults.stores)
    parser.add_argument("--items", type=int, default=defaults.items)
    parser.add_argument("--years", type=int, default=defaults.years)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--name", default=defaults.name, help="dataset name in the warehouse")
    parser.add_argument("--end-date", type=_iso_date, default=None,
                        help="last day of sales, YYYY-MM-DD (default: yesterday)")
    parser.add_argument(
        "--warehouse", default=None, help="warehouse file (default: $MITOSHI_WAREHOUSE or data/mitoshi.duckdb)"
    )
    return parser


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-10-31.") from None


def _generate_and_load(config: DemoConfig, path: Path) -> Dataset:
    began = time.perf_counter()
    warehouse = Warehouse(path)
    try:
        # Checked before generating, which takes a while at full size.
        if warehouse.find_dataset(config.name) is not None:
            raise MitoshiError(
                f"{path} already has a dataset called '{config.name}'; pass --name to choose another."
            )
        size = f"{config.stores} stores x {config.items} items x {config.years} years"
        print(f"Generating {size} ...", flush=True)
        chain = generate_chain(config)
        print(f"Generated {len(chain.sales):,} rows in {time.perf_counter() - began:.1f} s", flush=True)
        print(f"Loading into {path} ...", flush=True)
        dataset = store_chain(warehouse, chain, config)
    finally:
        warehouse.close()
    print(
        f"Loaded '{dataset.name}': {dataset.n_series:,} series, {dataset.n_rows:,} rows, "
        f"{dataset.start_date} to {dataset.end_date}, {time.perf_counter() - began:.1f} s in all"
    )
    return dataset


if __name__ == "__main__":
    sys.exit(main())
