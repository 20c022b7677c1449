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

Continuing the chain (``continue_chain``, ``extend_demo``, ``python -m core.data.demo
--extend DAYS``): a generated dataset stores its settings (``DemoConfig.to_generator``, in
``datasets.generator``), so the days after its history can be generated later in the same
world and appended. The history is never drawn again differently: the days after it get
streams of their own (``SeedSequence(seed, spawn_key=(4, day))`` for demand, ``(5, day)``
for promotions; the history uses children 0-3), so a continuation by 7 then 7 days gives
exactly the rows of one by 14, and a continuation's rows do not depend on when it was
made. On those days the stores, items, demand levels, weekdays, Japanese calendar, peaks,
yearly season and trend go on as before; the regular price stays where the history left
it (no new rises); a promotion run under way at the end of the history finishes, and new
runs start day by day with the history's odds (a 3-7 day run at 10-30 % off, at least
``PROMO_MIN_GAP`` days after the last); items discontinued stay off sale, items on sale
stay on sale, none is launched. Today's practice carries on seamlessly: it is simulated
again over the whole history (deterministic given demand, so the stored rows come out
as they were) and over the days already appended, replaying their stored orders (a
pilot's included), so its shelf, stock by age and 3-week look-back are the ones the
stores really had. A continuation can take order-up-to levels for some series and days
(``targets``: a pilot's treated stores ordering from a published batch): there the
store orders ``max(0, ceil(order_up_to) - carried stock)`` instead of the practice's
target, and demand, shelf and waste follow as on any day. Simulated without them
(``simulate_continuation``), the same days give the pilot's counterfactual, so its
true effect on the demo chain is known exactly.

Everything is vectorised with numpy: the only Python loop runs over days and updates
vectors of all series, so 100 stores x 500 items x 3 years takes seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data.labels import DEMO_TARGET
from core.errors import MitoshiError
from core.i18n import M_, Fmt, Msg, nM_
from core.warehouse import Appended, Dataset, DatasetSpec, Warehouse, quote, warehouse_path

PERISHABLE_MAX_DAYS = 3  # shelf life up to this many days is tracked by age and expires
LOOKBACK_WEEKS = 3  # the practice looks at the same weekday of the last three weeks
MIN_DISPLAY = 1  # units the practice keeps on the shelf even after a week without sales
LOOKBACK_DAYS = 7  # the practice repeats the same weekday; before a week it uses expected demand
MIN_LIFE_DAYS = 120  # new and discontinued items have at least this much history
PROMO_SHARE = 0.04  # share of days an item is on promotion
PROMO_MIN_GAP = 14  # days between two promotions of one item, at least
PROMO_EXTRA_GAP_MEAN = 5 / PROMO_SHARE - 5 - PROMO_MIN_GAP  # mean days between runs beyond the minimum
NEW_SHARE, DISCONTINUED_SHARE, SLOW_SHARE, PRICE_RISE_SHARE = 0.10, 0.05, 0.15, 0.20
MAX_STORES, MAX_ITEMS, MAX_YEARS = 999, 9999, 10  # what the ids and the calendar allow
DEMAND_BLOCK_DAYS = 32  # days of demand drawn per task (fixed: results must not depend on cores)
SUMMER_PEAK_DAY = 213  # day of year of Aug 1: positive yearly amplitudes peak here
MAX_EXTEND_DAYS = 366  # days one continuation may add
# The continuation's own random streams: children 4 and 5 of SeedSequence(seed), which the
# history never spawns (it uses 0-3), each split by day (spawn_key (4, day), (5, day)).
CONTINUATION_DEMAND_STREAM, CONTINUATION_PROMO_STREAM = 4, 5
GENERATOR = "core.data.demo"  # what datasets.generator names as the generator
GENERATOR_FORMAT = 1  # version of the settings' layout in datasets.generator


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
        if not 1 <= self.stores <= MAX_STORES:
            raise MitoshiError(M_("The demo chain needs 1 to {most} stores; got {value}.", most=MAX_STORES,
                                  value=self.stores))
        if not 1 <= self.items <= MAX_ITEMS:
            raise MitoshiError(M_("The demo chain needs 1 to {most} items; got {value}.", most=MAX_ITEMS,
                                  value=self.items))
        if not 1 <= self.years <= MAX_YEARS:
            raise MitoshiError(M_("The demo chain needs 1 to {most} years; got {value}.", most=MAX_YEARS,
                                  value=self.years))
        if not 0 <= self.buffer <= 5:
            raise MitoshiError(M_("The ordering buffer must be between 0 and 5 (0-500 %); got {value}.",
                                  value=self.buffer))
        if not self.name.strip():
            raise MitoshiError(M_("Give the demo dataset a name."))
        if not isinstance(self.end_date, date):
            raise MitoshiError(M_("The demo chain's end date must be a date, e.g. date(2026, 10, 31); got {value}.",
                                  value=repr(self.end_date)))

    def to_generator(self) -> dict[str, object]:
        """The settings as JSON values, stored with the dataset (``datasets.generator``) so
        that the chain can be continued: generator, format, stores, items, years, seed,
        end_date (ISO), name, buffer."""
        return {"generator": GENERATOR, "format": GENERATOR_FORMAT, "stores": self.stores, "items": self.items,
                "years": self.years, "seed": self.seed, "end_date": self.end_date.isoformat(), "name": self.name,
                "buffer": self.buffer}

    @classmethod
    def from_generator(cls, settings: Mapping[str, object]) -> DemoConfig:
        """The config ``to_generator`` stored; ``MitoshiError`` when the settings are of
        another generator or format, or lack a value."""
        if settings.get("generator") != GENERATOR or settings.get("format") != GENERATOR_FORMAT:
            raise MitoshiError(M_(
                "This dataset was generated by {generator} (settings format {format}); this version of Mitoshi "
                "continues only {ours} format {our_format}. Generate the demo chain again (python -m core.data.demo).",
                generator=repr(settings.get('generator')), format=repr(settings.get('format')), ours=repr(GENERATOR),
                our_format=GENERATOR_FORMAT))
        try:
            config = cls(stores=int(settings["stores"]), items=int(settings["items"]), years=int(settings["years"]),
                         seed=int(settings["seed"]), end_date=date.fromisoformat(str(settings["end_date"])),
                         name=str(settings["name"]), buffer=float(settings["buffer"]))
        except (KeyError, TypeError, ValueError) as error:
            raise MitoshiError(M_("The demo generator's settings stored with this dataset are incomplete or damaged "
                                  "({error}); generate the demo chain again (python -m core.data.demo).",
                                  error=repr(error))) from None
        config.validate()
        return config


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
    promo_runs: _Runs  # the promotion runs drawn, including those that go on past the history


@dataclass(frozen=True)
class _Runs:
    """Promotion runs of every item, (items, runs) each: days [start, end) at depth % off."""

    start: np.ndarray
    end: np.ndarray
    depth: np.ndarray


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
    world = _world(config)
    sold, ordered, stockout, _ = _simulate_practice(
        world.model, world.model.draw(world.demand_seed), world.shelf_life, config.buffer
    )
    sales = _sales_frame(config, world.calendar, world.stores, world.items, sold, ordered, stockout)
    return DemoChain(sales=sales, items=_item_master(config, world.items), stores=world.stores)


@dataclass(frozen=True)
class _World:
    """Everything the seed fixes about a chain's history, before demand is drawn."""

    config: DemoConfig
    calendar: _Calendar
    stores: pd.DataFrame  # store master
    items: _Items
    model: _Demand
    shelf_life: np.ndarray  # (series,) days
    demand_seed: np.random.SeedSequence  # its children draw the history's demand, block by block


def _world(config: DemoConfig) -> _World:
    # One independent stream per part, so that e.g. more stores do not reshuffle items.
    store_seed, item_seed, series_seed, demand_seed = np.random.SeedSequence(config.seed).spawn(4)
    calendar = _calendar(config)
    stores, size, location = _stores(config.stores, np.random.default_rng(store_seed))
    item_arrays = _item_arrays(config, np.random.default_rng(item_seed))
    model = _demand_model(calendar, size, location, item_arrays, np.random.default_rng(series_seed))
    shelf_life = np.array([c.shelf_life_days for c in CATEGORIES])[item_arrays.category[model.item]]
    return _World(config=config, calendar=calendar, stores=stores, items=item_arrays, model=model,
                  shelf_life=shelf_life, demand_seed=demand_seed)


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
        source=demo_source(config),
        original_names={TARGET: DEMO_TARGET, DATE: "date"},  # people read them translated (column_label)
        description=M_(
            "AI Shop (AI商店), a generated Japanese convenience chain: daily unit sales per store "
            "and item across bento, bread, dairy, hot food, grocery, beverages and daily goods, "
            "with weekday, yearly and holiday seasonality, promotions, price rises, slow movers, "
            "launches and discontinuations. Today's ordering practice: each morning's delivery "
            "tops the shelf up to the best of the same weekday over the last {weeks} weeks plus "
            "{buffer:.0%} (rounded up, at least {minimum} unit); perishables expire after their "
            "shelf life. Sales are capped by stock, so they understate demand on stockout days.",
            weeks=LOOKBACK_WEEKS, buffer=config.buffer, minimum=MIN_DISPLAY),
    )



def demo_source(config: DemoConfig) -> Msg:
    """Where a generated chain came from, as its source is shown (Overview, Data page):
    "generated: AI Shop demo (seed=42, 3 stores x 5 items x 3 years)"."""
    return M_("generated: AI Shop demo (seed={seed}, {stores} stores x {items} items x {years} years)",
              seed=config.seed, stores=config.stores, items=config.items, years=config.years)


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
        generator=config.to_generator(),
    )


def demo_notes(chain: DemoChain, config: DemoConfig) -> list[Msg]:
    """What a user of the demo dataset should know, in the warehouse's notes: messages with
    their figures, so that the stored notes read in either language."""
    items, sales = chain.items, chain.sales
    launched = int((items["launch_date"] >= pd.Timestamp(config.start_date)).sum())
    discontinued = int(items["discontinue_date"].notna().sum())
    return [
        M_("Generated demo data: nothing here is a real shop's sales."),
        M_("Sales were capped by the stock on the shelf on {share} of store-item-days (stockout = 1); true demand "
           "was higher on those days.", share=Fmt("pct", float(sales["stockout"].mean()))),
        M_("'ordered' is today's practice: the best of the same weekday over the last {weeks} weeks + {buffer:.0%} "
           "(rounded up, at least {minimum} unit on the shelf), minus the stock carried over.",
           weeks=LOOKBACK_WEEKS, buffer=config.buffer, minimum=MIN_DISPLAY),
        M_("{launched} items were launched and {discontinued} discontinued during the history; {slow:.0%} of series "
           "sell under 0.5 units a day.", launched=launched, discontinued=discontinued,
           slow=_slow_share(sales, config.items)),
    ]


def _slow_share(sales: pd.DataFrame, n_items: int) -> float:
    """Share of series selling under 0.5 units a day (bincount: a groupby is slow at 50M rows)."""
    store = sales["store_id"].cat.codes.to_numpy().astype(np.int64)
    series = store * n_items + sales["item_id"].cat.codes.to_numpy()
    days = np.bincount(series)
    units = np.bincount(series, weights=sales[TARGET].to_numpy())
    return float(np.mean(units[days > 0] / days[days > 0] < 0.5))


# ---------------------------------------------------------------------------------
# Continuing the chain: the days after the history, in the same world
# ---------------------------------------------------------------------------------
class NotGeneratedError(MitoshiError):
    """A dataset that was imported, not generated, cannot be continued by the generator."""


ORDER_UP_TO = "order_up_to"  # the column of ``targets``: units a treated store orders up to


@dataclass(frozen=True)
class Continuation:
    """Days after a chain's history, simulated in the same world.

    ``sales`` has the dataset's columns (store_id, item_id, region, category, ds, y, price,
    promo, holiday, stockout, ordered), one row per series and day on sale, series-major
    and date-ascending, ready for ``Warehouse.append_rows``. ``truth`` is aligned with it
    row for row (same index) and holds what a real shop never records: store_id, item_id,
    ds, ``demand`` (units wanted; ``y`` is the part the shelf could serve) and ``wasted``
    (units thrown away that night because they reached their shelf life).
    """

    sales: pd.DataFrame
    truth: pd.DataFrame
    first_day: date
    last_day: date

    @property
    def n_days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def continue_chain(
    config: DemoConfig,
    days: int,
    first_day: date | None = None,
    targets: pd.DataFrame | None = None,
    placed: pd.DataFrame | None = None,
) -> Continuation:
    """The ``days`` days from ``first_day`` (default: the day after ``config.end_date``) of
    the chain ``config`` generates, continued in the same world.

    Same stores, items, demand levels, weekdays, calendar and trend; the regular price
    carries on, promotion runs under way finish and new ones start from streams derived
    from the seed and the day; demand of day d is drawn from its own stream
    (``SeedSequence(seed, spawn_key=(4, d))``), so continuing by 7 then 7 days gives the
    rows of continuing by 14. Today's practice is simulated over the whole history and
    the days before ``first_day`` again (deterministic given demand: the history comes out
    as it was stored), so its shelf and its 3-week look-back carry on.

    ``targets`` (optional): order-up-to levels that replace the practice on some series
    and days — columns ``unique_id`` (``S001/I0001``) or ``store_id`` and ``item_id``,
    ``ds`` and ``order_up_to`` (units; empty: the practice decides). On those series-days
    the store orders ``max(0, ceil(order_up_to) - carried stock)``; demand, shelf and waste
    follow as on any day. Rows on days outside the continuation are ignored.

    ``placed`` (optional): the orders already stored for days between the history's end
    and ``first_day`` (an earlier continuation, maybe a pilot's): columns as ``targets``
    with ``ordered`` (units) instead of ``order_up_to``. They are replayed as they are, so
    a continuation after a pilot starts from the shelf the pilot left. Without them the
    practice is assumed on those days.

    Raises ``MitoshiError`` for days outside 1..366, a first day inside the history, and
    targets or orders that name series the chain does not have or repeat a series and day.
    """
    config.validate()
    _check_days(days)
    first_day = first_day or config.end_date + timedelta(days=1)
    if first_day <= config.end_date:
        raise MitoshiError(M_(
            "A continuation starts after the history, which ends on {end}; {first} is inside it. The history is "
            "never simulated again with other orders.", end=Fmt("date", config.end_date.isoformat()),
            first=Fmt("date", first_day.isoformat())))
    world = _world(config)
    n_days, n_items = config.n_days, config.items
    start = n_days + (first_day - config.end_date).days - 1  # days counted from the history's first
    total = start + days
    calendar, items, model = _extended(world, total)
    demand = np.empty((total, len(model.item)), np.int32)
    demand[:n_days] = world.model.draw(world.demand_seed)
    for d in range(n_days, total):
        rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(CONTINUATION_DEMAND_STREAM, d)))
        demand[d] = rng.poisson(rng.gamma(model.dispersion, model.expected(d, d + 1)[0] / model.dispersion))
    store_ids = world.stores["store_id"].tolist()
    up_to = np.full((total - n_days, len(model.item)), np.nan)
    up_to[start - n_days:] = _series_days(targets, ORDER_UP_TO, store_ids, n_items, first_day, days, "targets")
    if start > n_days:
        after_history = config.end_date + timedelta(days=1)
        # Rows a user appended for series of their own have nothing to replay here.
        placed_matrix = _series_days(placed, "ordered", store_ids, n_items, after_history, start - n_days, "orders",
                                     strict=False)
        fixed = np.vstack([placed_matrix, np.full((days, len(model.item)), np.nan)])
    else:
        fixed = np.full_like(up_to, np.nan)
    sold, ordered, stockout, wasted = _simulate_practice(
        model, demand, world.shelf_life, config.buffer, _Override(start=n_days, up_to=up_to, placed=fixed))
    window = slice(start, total)
    sales = _sales_frame(config, calendar, world.stores, items, sold[window], ordered[window], stockout[window],
                         first=start)
    on_sale = _on_sale(items, start, days)
    truth = pd.DataFrame({
        "store_id": sales["store_id"], "item_id": sales["item_id"], DATE: sales[DATE],
        "demand": _observed(demand[window], on_sale, config.stores).astype(np.float64),
        "wasted": _observed(wasted[start - n_days:], on_sale, config.stores).astype(np.float64),
    }, index=sales.index)
    return Continuation(sales=sales, truth=truth, first_day=first_day,
                        last_day=first_day + timedelta(days=days - 1))


def is_generated(dataset: Dataset) -> bool:
    """Whether ``dataset`` was made by this generator (and can be continued by simulation)."""
    try:
        demo_config_of(dataset)
    except NotGeneratedError:
        return False
    return True


def demo_config_of(dataset: Dataset) -> DemoConfig:
    """The settings a generated dataset was made with; ``NotGeneratedError`` for an imported one."""
    if dataset.generator is None:
        raise NotGeneratedError(M_(
            "'{name}' was imported, not generated: only the demo chain can be continued by simulation. "
            "Append its new rows from a file instead (Import & manage page, or core.data.importer).",
            name=dataset.name))
    return DemoConfig.from_generator(dataset.generator)


def simulate_continuation(
    warehouse: Warehouse, dataset_id: str, start: date, days: int, targets: pd.DataFrame | None = None
) -> Continuation:
    """The days ``start``..``start + days - 1`` of a generated dataset, simulated and written
    nowhere: the orders stored for the days between the history and ``start`` are replayed,
    ``targets`` (see ``continue_chain``) override the practice after that.

    With ``targets=None`` over a pilot's days it is the pilot's *counterfactual*: the same
    demand, every store on today's practice, so the pilot's true effect is known exactly.
    ``start`` may be at most the day after the dataset's last date (no gap) and must be
    after the generated history. Raises ``NotGeneratedError`` for an imported dataset and
    ``MitoshiError`` for other bad input.
    """
    dataset = warehouse.get_dataset(dataset_id)
    config = demo_config_of(dataset)
    _check_days(days)
    next_day = dataset.end_date + timedelta(days=1)
    if start > next_day:
        raise MitoshiError(M_("'{name}' ends on {end}; a continuation from {start} would leave a gap. Start on "
                              "{next} at the latest.", name=dataset.name, end=_day(dataset.end_date),
                              start=_day(start), next=_day(next_day)))
    if start <= config.end_date:
        raise MitoshiError(M_("'{name}' was generated up to {end}; only the days after it can be simulated again, "
                              "so start on {next} or later.", name=dataset.name, end=_day(config.end_date),
                              next=_day(config.end_date + timedelta(days=1))))
    placed = None
    if start > config.end_date + timedelta(days=1):
        orders = quote(dataset.spec.orders or "ordered")
        placed = warehouse.query(
            f"SELECT store_id, item_id, {DATE}, {orders} AS ordered FROM {quote(dataset.table_name)} "
            f"WHERE {DATE} > ? AND {DATE} < ?", [config.end_date, start])
    return continue_chain(config, days, start, targets, placed)


def extend_demo(
    warehouse: Warehouse, dataset_id: str, days: int, targets: pd.DataFrame | None = None, source: str = ""
) -> Appended:
    """Append the next ``days`` days (1..366) to a generated dataset, continuing its world
    from the day after its last date (see ``continue_chain``; ``targets`` override the
    practice on some series and days), in one transaction (``Warehouse.append_rows``).

    Raises ``NotGeneratedError`` for an imported dataset, ``MitoshiError`` for a size out
    of range.
    """
    dataset = warehouse.get_dataset(dataset_id)
    demo_config_of(dataset)  # refuse an imported dataset before anything else
    _check_days(days)
    start = dataset.end_date + timedelta(days=1)
    continuation = simulate_continuation(warehouse, dataset_id, start, days, targets)
    return warehouse.append_rows(dataset_id, continuation.sales,
                                 source=source or nM_("demo generator: {n} more day", "demo generator: {n} more days",
                                                      "n", n=int(days)))


def _day(value: date) -> Fmt:
    """A day in a message, as the reader writes it (2026-10-31 / 2026年10月31日)."""
    return Fmt("date", value.isoformat())


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or not 1 <= days <= MAX_EXTEND_DAYS:
        raise MitoshiError(M_("The demo chain can be extended by 1 to {most} days at a time; got {value}.",
                              most=MAX_EXTEND_DAYS, value=repr(days)))


def _extended(world: _World, total: int) -> tuple[_Calendar, _Items, _Demand]:
    """The calendar, items and expected demand of days 0..total-1: the history's as they
    were (bit for bit) and the days after it continued."""
    config, items, model = world.config, world.items, world.model
    n_days = config.n_days
    calendar = _calendar_of(pd.date_range(config.start_date, periods=total, freq="D"))
    later = np.repeat(items.regular_price[-1:], total - n_days, axis=0)  # no rise after the history
    promo = _continued_promotions(items.promo_runs, n_days, total, config.seed)
    # An item still on sale at the end of the history stays on sale; discontinued stays off.
    stop = np.where(items.stop_day >= n_days, total, items.stop_day)
    extended = replace(items, stop_day=stop, regular_price=np.vstack([items.regular_price, later]),
                       promo_depth=np.vstack([items.promo_depth, promo]))
    demand = replace(model, day_item=_day_item_factor(calendar, extended, total, history_days=n_days),
                     day_type=calendar.day_type, stop=stop[model.item])
    return calendar, extended, demand


def _continued_promotions(runs: _Runs, n_days: int, total: int, seed: int) -> np.ndarray:
    """(total - n_days, items) percent off on the days after the history.

    A run under way at the end of the history finishes as drawn; after it, an item whose
    last run ended more than ``PROMO_MIN_GAP`` days ago starts one with probability
    1 / ``PROMO_EXTRA_GAP_MEAN`` a day (the history's geometric gaps, day by day), of
    3-7 days at 10-30 % off, each day's draws from its own stream.
    """
    begun = runs.start < n_days
    last = np.where(begun, runs.end, np.iinfo(np.int64).min).argmax(axis=1)  # the latest run begun
    rows = np.arange(len(last))
    has_run = begun[rows, last]
    run_end = np.where(has_run, runs.end[rows, last], -PROMO_MIN_GAP - 1)
    depth = np.where(has_run, runs.depth[rows, last], 0)
    out = np.zeros((total - n_days, len(last)), np.int64)
    for d in range(n_days, total):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CONTINUATION_PROMO_STREAM, d)))
        starts, length, new_depth = rng.random(len(last)), rng.integers(3, 8, len(last)), rng.integers(10, 31, len(last))
        begins = (d >= run_end + PROMO_MIN_GAP + 1) & (starts < 1 / PROMO_EXTRA_GAP_MEAN)
        run_end = np.where(begins, d + length, run_end)
        depth = np.where(begins, new_depth, depth)
        out[d - n_days] = np.where(d < run_end, depth, 0)
    return out


# What ``_series_days`` reads, as its errors name it.
_INPUTS = {"targets": M_("order-up-to targets"), "orders": M_("orders placed")}


def _series_days(
    frame: pd.DataFrame | None, column: str, store_ids: list[str], n_items: int, first_day: date, days: int,
    what: str, strict: bool = True,
) -> np.ndarray:
    """(days, series) values of ``column`` from a long frame naming series by ``unique_id``
    or ``store_id`` + ``item_id``; NaN where the frame has none; rows on other days ignored,
    and rows of series the chain does not have refused (``strict``) or ignored."""
    out = np.full((days, len(store_ids) * n_items), np.nan)
    if frame is None or frame.empty:
        return out
    if column not in frame.columns or DATE not in frame.columns:
        raise MitoshiError(M_("The {what} need the columns {date} and {column}; they have {columns}.",
                              what=_INPUTS[what], date=DATE, column=column, columns=Fmt("names", list(frame.columns))))
    by_keys = "store_id" in frame.columns and "item_id" in frame.columns
    if not by_keys and SERIES_ID not in frame.columns:
        raise MitoshiError(M_("The {what} name their series by {series_id} (e.g. S001/I0001) or by store_id and "
                              "item_id; they have neither ({columns}).", what=_INPUTS[what], series_id=SERIES_ID,
                              columns=Fmt("names", list(frame.columns))))
    empty = pd.Series(pd.NA, index=frame.index, dtype="string")
    store = frame["store_id"].astype("string") if by_keys else empty
    item = frame["item_id"].astype("string") if by_keys else empty
    if SERIES_ID in frame.columns:  # rows without store_id and item_id are named by their unique_id
        parts = frame[SERIES_ID].astype("string").str.split("/", n=1, expand=True).reindex(columns=[0, 1])
        store, item = store.fillna(parts[0]), item.fillna(parts[1])
    store, item = store.fillna("").astype(str), item.fillna("").astype(str)
    store_pos = pd.Index(store_ids).get_indexer(store)
    item_pos = pd.Index([f"I{i + 1:04d}" for i in range(n_items)]).get_indexer(item)
    unknown = (store_pos < 0) | (item_pos < 0)
    if unknown.any() and strict:
        example = f"{store[unknown].iloc[0]}/{item[unknown].iloc[0]}"
        raise MitoshiError(M_("{n:,} rows of the {what} name series the demo chain does not have (e.g. {example}); "
                              "its stores are {first_store}..{last_store} and its items I0001..{last_item}.",
                              n=int(unknown.sum()), what=_INPUTS[what], example=example, first_store=store_ids[0],
                              last_store=store_ids[-1], last_item=f"I{n_items:04d}"))
    day = (pd.to_datetime(frame[DATE]).dt.normalize() - pd.Timestamp(first_day)).dt.days.to_numpy()
    inside = (day >= 0) & (day < days) & ~unknown
    series = store_pos[inside] * n_items + item_pos[inside]
    day = day[inside]
    if len(np.unique(day * len(out[0]) + series)) < len(series):
        raise MitoshiError(M_("The {what} repeat a series and day; give one {column} per series and day.",
                              what=_INPUTS[what], column=column))
    out[day, series] = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)[inside]
    return out


# ---------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------
def _calendar(config: DemoConfig) -> _Calendar:
    return _calendar_of(pd.date_range(config.start_date, config.end_date, freq="D"))


def _calendar_of(dates: pd.DatetimeIndex) -> _Calendar:
    """Each day's holiday flag, day type and season: a function of the date alone."""
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
    dispersion, trend = rng.uniform(3.0, 10.0, n), rng.normal(0.02, 0.04, n)
    cost_share = rng.uniform(0.60, 0.75, n)
    promo_depth, promo_runs = _promotions(n, n_days, rng)
    return _Items(
        category=category, first_day=first_day, stop_day=stop_day, slow=slow,
        popularity=popularity, elasticity=elasticity,
        dispersion=dispersion, trend=trend,
        regular_price=regular_price, reference_price=reference_price,
        cost_share=cost_share,
        promo_depth=promo_depth,
        promo_runs=promo_runs,
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


def _promotions(n: int, n_days: int, rng: np.random.Generator) -> tuple[np.ndarray, _Runs]:
    """(days, items) percent off: non-overlapping chain-wide runs of 3-7 days; and the runs
    drawn, some of which go on past the history (the continuation finishes them)."""
    # Enough (gap, run) pairs per item that even the shortest ones cover the history.
    pairs = n_days // (3 + PROMO_MIN_GAP + 1) + 1
    length = rng.integers(3, 8, (n, pairs))
    gap = PROMO_MIN_GAP + rng.geometric(1 / PROMO_EXTRA_GAP_MEAN, (n, pairs))
    gap[:, 0] = rng.integers(0, round(2 * PROMO_EXTRA_GAP_MEAN), n)  # items start out of step
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
    return np.cumsum(steps, axis=1)[:, :n_days].T, _Runs(start=start, end=end, depth=depth)


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


@dataclass(frozen=True)
class _Override:
    """Orders that are not today's practice, on days ``start`` onwards of a continuation.

    ``up_to``: the order-up-to level a treated store orders to (it orders
    ``max(0, ceil(up_to) - carried)``); ``placed``: units already ordered and stored (an
    earlier continuation's rows), replayed as they are. NaN: the practice decides.
    """

    start: int  # first day the arrays cover (days counted from the history's first)
    up_to: np.ndarray  # (days, series)
    placed: np.ndarray  # (days, series)


def _simulate_practice(
    model: _Demand, demand: np.ndarray, shelf_life: np.ndarray, buffer: float, override: _Override | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run today's ordering practice day by day; return (days, series) sold, ordered,
    stockout, and the units thrown away at the end of each day from ``override.start``
    on (None without an override: generating a chain does not keep them)."""
    n_days, n = demand.shape
    keeps_a_day, keeps_two_days = shelf_life >= 2, shelf_life >= 3
    never_expires = shelf_life > PERISHABLE_MAX_DAYS
    sold = np.zeros((n_days, n), np.int32)
    ordered = np.zeros((n_days, n), np.int32)
    stockout = np.zeros((n_days, n), np.int8)
    wasted = None if override is None else np.zeros((n_days - override.start, n), np.int32)
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
        if override is not None and d >= override.start:
            up_to, placed = override.up_to[d - override.start], override.placed[d - override.start]
            order = np.where(np.isnan(up_to), order, np.maximum(np.ceil(up_to) - carried, 0) * on_sale)
            order = np.where(np.isnan(placed), order, placed)
        available = carried + order
        sales = np.minimum(demand[d], available)
        # Oldest first: what the old stock does not cover comes off the fresh delivery.
        from_older = np.minimum(older, sales)
        from_aged = np.minimum(aged_one, sales - from_older)
        fresh = order - (sales - from_older - from_aged)
        # Overnight everything ages a day; what reaches its shelf life is thrown away.
        if wasted is not None and d >= override.start:
            wasted[d - override.start] = (fresh * ~keeps_a_day + (aged_one - from_aged) * ~keeps_two_days
                                          + (older - from_older) * ~never_expires)
        older = (aged_one - from_aged) * keeps_two_days + (older - from_older) * never_expires
        aged_one = fresh * keeps_a_day
        sold[d], ordered[d], stockout[d] = sales, order, demand[d] > available
    return sold, ordered, stockout, wasted


def _mean_level(
    size: np.ndarray, items: _Items, item: np.ndarray, store: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Expected units a day of each series before calendar and price effects."""
    typical = np.array([c.demand for c in CATEGORIES])[items.category[item]]
    store_fit = rng.lognormal(0.0, 0.2, len(item))  # how well an item suits a store
    level = typical * items.popularity[item] * size[store] * store_fit
    # Slow movers stay slow in every store: under 0.5 a day even with promotions.
    return np.where(items.slow[item], np.minimum(level, 0.4), level)


def _day_item_factor(calendar: _Calendar, items: _Items, n_days: int, history_days: int | None = None) -> np.ndarray:
    """(days, items) multiplier of demand from season, holidays, price and trend; the trend
    is 1 in the middle of the history (``history_days``: its length when ``n_days`` runs
    on past it, in a continuation)."""
    price = _charged_price(items)
    price_effect = (price / items.reference_price[None, :]) ** items.elasticity[None, :]
    years_from_middle = (np.arange(n_days) - (history_days or n_days) / 2) / 365
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
    first: int = 0,
) -> pd.DataFrame:
    """One row per series and day on sale, series-major and date-ascending.

    The matrices cover the days ``first`` onwards (0: the history's first day); the
    calendar and the items cover at least those days. Every store sells an item on the
    same days, so the columns that depend only on the item and the day are built for one
    store and repeated for the others.
    """
    n_stores, n_items = config.stores, config.items
    on_sale = _on_sale(items, first, len(sold))
    item, day = np.nonzero(on_sale)  # one store's rows, item-major, date-ascending
    per_store = len(item)

    def each_store(values: np.ndarray) -> np.ndarray:
        return np.tile(values, n_stores)

    def observed(matrix: np.ndarray) -> np.ndarray:
        return _observed(matrix, on_sale, n_stores)

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
            DATE: each_store(calendar.dates.to_numpy()[first + day]),
            TARGET: observed(sold).astype(np.float64),
            "price": each_store(_charged_price(items)[first + day, item]),
            "promo": each_store((items.promo_depth[first + day, item] > 0).astype(np.int8)),
            "holiday": each_store(calendar.holiday[first + day].astype(np.int8)),
            "stockout": observed(stockout),
            "ordered": observed(ordered).astype(np.float64),
        },
        copy=False,
    )


def _on_sale(items: _Items, first: int, n_days: int) -> np.ndarray:
    """(items, days) bool: the item is on sale on days first..first+n_days-1."""
    days = np.arange(first, first + n_days)
    return (days >= np.maximum(items.first_day, 0)[:, None]) & (days < items.stop_day[:, None])


def _observed(matrix: np.ndarray, on_sale: np.ndarray, n_stores: int) -> np.ndarray:
    """A (days, series) matrix as a column: series-major, days on sale only."""
    n_items, n_days = on_sale.shape
    return matrix.T.reshape(n_stores, n_items, n_days)[:, on_sale].ravel()


# ---------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = DemoConfig(
        stores=args.stores, items=args.items, years=args.years, seed=args.seed, name=args.name,
        end_date=args.end_date or yesterday(),
    )
    path = Path(args.warehouse) if args.warehouse else warehouse_path()
    try:
        if args.extend is not None:
            _extend(path, args.dataset or args.name, args.extend)
            return 0
        config.validate()
        _generate_and_load(config, path)
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
    parser.add_argument("--extend", type=int, default=None, metavar="DAYS",
                        help=f"instead of generating, append the next DAYS days (1-{MAX_EXTEND_DAYS}) to the "
                             "generated dataset --dataset, continuing its world")
    parser.add_argument("--dataset", default=None, metavar="NAME",
                        help="the dataset --extend continues (default: --name)")
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


def _extend(path: Path, name: str, days: int) -> Appended:
    began = time.perf_counter()
    warehouse = Warehouse(path)
    try:
        dataset = warehouse.find_dataset(name)
        if dataset is None:
            known = ", ".join(f"'{d.name}'" for d in warehouse.list_datasets()) or "none"
            raise MitoshiError(f"{path} has no dataset called '{name}' (it has {known}); pass --dataset NAME.")
        _check_days(days)
        print(f"Extending '{dataset.name}' (last day {dataset.end_date}) by {days} days ...", flush=True)
        appended = extend_demo(warehouse, dataset.dataset_id, days)
    finally:
        warehouse.close()
    print(f"Appended {appended.n_rows:,} rows of {appended.n_series:,} series, {appended.start_date} to "
          f"{appended.end_date}, {time.perf_counter() - began:.1f} s; '{appended.dataset.name}' now has "
          f"{appended.dataset.n_rows:,} rows to {appended.dataset.end_date}")
    return appended


if __name__ == "__main__":
    sys.exit(main())
