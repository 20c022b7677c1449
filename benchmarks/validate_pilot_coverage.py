"""Does the pilot readout's 95 % interval cover the true effect 95 % of the time?

Simulates many pilots with a KNOWN true effect on a synthetic chain and prints, for each
configuration a user meets (10 stores with 2, 3 or 5 treated; 100 stores with 10
treated; pilots of 28 and 56 days after a pre-period twice as long; an effect constant
across stores or proportional to store size), the share of seeds whose interval covers
the truth, for the readout's estimator and the alternatives it was chosen against:

* ``store-level t`` (the readout's): each store's mean change (pilot less pre-period)
  regressed on a treated dummy, OLS with its classical variance, t with G - 2 degrees
  of freedom (Bertrand, Duflo & Mullainathan 2004's collapsed estimator) — computed by
  ``core.pilot.readout.did_fit`` itself;
* ``CR1 t(G-1)``: OLS on the store x day panel with store and day fixed effects,
  standard errors clustered by store (CR1, as statsmodels' ``cov_type="cluster"``), t
  with G - 1 degrees of freedom (the same panel fit, computed in numpy: by the
  Frisch-Waugh-Lovell theorem on the two-way demeaned panel);
* ``Welch``: the store-level changes, unequal variances, Satterthwaite's df;
* ``wild bootstrap``: wild cluster restricted bootstrap of the store-level regression
  (the WCR of Cameron, Gelbach & Miller 2008; Webb's six-point weights, 399 draws), a
  test of the truth at 5 % (MacKinnon & Webb 2017 warn it misbehaves with few treated
  clusters);
* ``per store``: each treated store's change less the control mean, with the controls'
  spread as its variance (s_C x sqrt(1 + 1/n_C), t with n_C - 1 df; the idea of Conley
  & Taber 2011), covering that store's own true effect.

The synthetic chain (yen of profit per store and day): store sizes lognormal (sd 0.35,
as the demo chain's store means ¥3.8K-¥13.6K), a weekday pattern, chain-wide daily
shocks (AR(1), 0.5) that scale with store size, AR(1) noise within each store (0.3)
with its spread growing with store size (size ** 0.6: heteroskedastic, as on the demo
chain), and a slow idiosyncratic drift of each store (a random walk). Treated stores are
drawn at random. The stress rows put the effect on the largest stores.

With ``--demo N`` it also runs N pilots on demo chains per demo configuration (10 stores,
30 items, a year of history; seeds 1..N, 3 treated stores drawn at random; 28 days
ordering up to each series' mean of its last four same weekdays x 1.2 + 1, 28 days at
x 0.9 + 1 (fewer units: a negative effect on waste, a positive one on lost sales), 14
days at x 1.2 + 1) and counts, for every measure the readout reads (profit, waste cost,
lost-sales margin, stockout days), how often its interval covers the exact true effect:
the treated stores' outcomes with those orders less their outcomes on today's practice
over the same days and demand (``core.data.demo.continue_chain`` with and without the
targets), priced from the simulation's own demand and waste
(``core.pilot.simulate.true_outcomes``), while the readout reads what a shop records
(``core.money.outcomes.store_day_outcomes``). Lost-sales margin is the one measure whose
recorded value is an estimate (demand on a stockout day is not observed): its interval
misses, which is why the readout gives it without one (``core.pilot.readout.NO_INTERVAL``).
``--seeds 0`` skips the synthetic chain.

Run: ``python -m benchmarks.validate_pilot_coverage [--seeds 1000] [--demo 40]`` (``--seeds 0 --demo 40``:
the demo part alone, about 7 minutes on one core).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from core.pilot.readout import did_fit

BASE_PROFIT = 8000.0  # yen per store-day for a store of size 1
WEEKDAY = np.array([0.97, 0.98, 0.96, 0.93, 0.97, 1.07, 1.12])
NOISE_SD = 6500.0  # yen, the demo chain's store-day residual spread
CHAIN_SHOCK_SD = 0.15
DRIFT_SD = 80.0  # yen a day, each store's random walk
EFFECT = 1500.0  # yen per store-day
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class Case:
    stores: int
    treated: int
    pilot: int
    effect: str  # "constant" or "size"
    largest: bool = False  # the treated are the largest stores (stress), not drawn at random

    @property
    def pre(self) -> int:
        return 2 * self.pilot


def panels(case: Case, seeds: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeds, stores, days) profit, (seeds, stores) treated mask, (seeds, stores) true effects."""
    g, t = case.stores, case.pre + case.pilot
    size = rng.lognormal(0.0, 0.35, (seeds, g))
    size /= size.mean(axis=1, keepdims=True)
    weekday = WEEKDAY[(np.arange(t) + rng.integers(0, 7, (seeds, 1))) % 7]  # (seeds, days)
    shock = np.zeros((seeds, t))
    noise = np.zeros((seeds, g, t))
    drift = np.cumsum(rng.normal(0, DRIFT_SD, (seeds, g, t)), axis=2)
    shock[:, 0] = rng.normal(0, CHAIN_SHOCK_SD, seeds)
    noise[:, :, 0] = rng.normal(0, 1, (seeds, g))
    for d in range(1, t):
        shock[:, d] = 0.5 * shock[:, d - 1] + rng.normal(0, CHAIN_SHOCK_SD * np.sqrt(1 - 0.25), seeds)
        noise[:, :, d] = 0.3 * noise[:, :, d - 1] + rng.normal(0, np.sqrt(1 - 0.09), (seeds, g))
    profit = (BASE_PROFIT * size[:, :, None] * (weekday[:, None, :] + shock[:, None, :])
              + NOISE_SD * size[:, :, None] ** 0.6 * noise + drift * size[:, :, None])
    if case.largest:
        order = np.argsort(-size, axis=1)
        treated = np.zeros((seeds, g), dtype=bool)
        np.put_along_axis(treated, order[:, :case.treated], True, axis=1)
    else:
        treated = np.argsort(rng.random((seeds, g)), axis=1) < case.treated
    effect = EFFECT * (size if case.effect == "size" else np.ones_like(size)) * treated
    profit[:, :, case.pre:] += effect[:, :, None]
    return profit, treated, effect


def store_t(changes: np.ndarray, treated: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Covered by the readout's own estimator (``did_fit``)."""
    covered = np.zeros(len(changes), dtype=bool)
    for s in range(len(changes)):
        fit = did_fit(changes[s], treated[s], 0.95)
        covered[s] = fit.low <= truth[s] <= fit.high
    return covered


def cr1_panel(profit: np.ndarray, treated: np.ndarray, pre: int, truth: np.ndarray) -> np.ndarray:
    """Store and day fixed effects, clustered by store (CR1), t(G - 1), on the panel."""
    seeds, g, t = profit.shape
    during = np.arange(t) >= pre
    x = (treated[:, :, None] & during[None, None, :]).astype(float)

    def demean(a: np.ndarray) -> np.ndarray:
        return a - a.mean(axis=2, keepdims=True) - a.mean(axis=1, keepdims=True) + a.mean(axis=(1, 2), keepdims=True)

    xd, yd = demean(x), demean(profit)
    sxx = (xd**2).sum(axis=(1, 2))
    beta = (xd * yd).sum(axis=(1, 2)) / sxx
    u = yd - beta[:, None, None] * xd
    score = (xd * u).sum(axis=2)  # (seeds, stores)
    n, k = g * t, g + t  # intercept, G - 1 store and T - 1 day dummies, the effect
    correction = g / (g - 1) * (n - 1) / (n - k)
    se = np.sqrt(correction * (score**2).sum(axis=1)) / sxx
    q = stats.t.ppf(0.975, g - 1)
    return np.abs(beta - truth) <= q * se


def welch(changes: np.ndarray, treated: np.ndarray, truth: np.ndarray) -> np.ndarray:
    covered = np.zeros(len(changes), dtype=bool)
    for s in range(len(changes)):
        a, b = changes[s][treated[s]], changes[s][~treated[s]]
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        covered[s] = abs(a.mean() - b.mean() - truth[s]) <= stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    return covered


def wild_bootstrap(changes: np.ndarray, treated: np.ndarray, truth: np.ndarray, rng: np.random.Generator,
                   draws: int = 399) -> np.ndarray:
    """WCR bootstrap test of beta = truth at 5 % on the store-level regression (HC1 t)."""
    seeds, g = changes.shape

    def t_stat(y: np.ndarray, d: np.ndarray, null: np.ndarray) -> np.ndarray:
        n1 = d.sum(axis=-1)
        m1 = (y * d).sum(axis=-1) / n1
        m0 = (y * ~d).sum(axis=-1) / (g - n1)
        e = y - np.where(d, m1[..., None], m0[..., None])
        v = ((e * d) ** 2).sum(axis=-1) / n1**2 + ((e * ~d) ** 2).sum(axis=-1) / (g - n1) ** 2
        return (m1 - m0 - null) / np.sqrt(v * g / (g - 2))

    observed = t_stat(changes, treated, truth)
    # Restricted fit: y - truth x d = a + u.
    a = (changes - truth[:, None] * treated).mean(axis=1, keepdims=True)
    resid = changes - truth[:, None] * treated - a
    v = WEBB[rng.integers(0, 6, (draws, seeds, g))]
    y_star = a[None] + truth[None, :, None] * treated[None] + v * resid[None]
    t_star = t_stat(y_star, np.broadcast_to(treated, y_star.shape), truth[None, :])
    p = (np.abs(t_star) >= np.abs(observed)[None]).mean(axis=0)
    return p > 0.05


def per_store(changes: np.ndarray, treated: np.ndarray, effect: np.ndarray) -> np.ndarray:
    covered = []
    for s in range(len(changes)):
        c = changes[s][~treated[s]]
        q = stats.t.ppf(0.975, len(c) - 1) * c.std(ddof=1) * np.sqrt(1 + 1 / len(c))
        own = changes[s][treated[s]] - c.mean()
        covered.extend(np.abs(own - effect[s][treated[s]]) <= q)
    return np.asarray(covered)


METHODS = ("store-level t", "CR1 t(G-1)", "Welch", "wild bootstrap", "per store")


def run(case: Case, seeds: int, rng: np.random.Generator, chunk: int = 250) -> dict[str, float]:
    covered: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    for start in range(0, seeds, chunk):
        n = min(chunk, seeds - start)
        profit, treated, effect = panels(case, n, rng)
        truth = effect.sum(axis=1) / case.treated  # the average effect on a treated store-day
        changes = profit[:, :, case.pre:].mean(axis=2) - profit[:, :, :case.pre].mean(axis=2)
        covered["store-level t"].append(store_t(changes, treated, truth))
        covered["CR1 t(G-1)"].append(cr1_panel(profit, treated, case.pre, truth))
        covered["Welch"].append(welch(changes, treated, truth))
        covered["wild bootstrap"].append(wild_bootstrap(changes, treated, truth, rng))
        covered["per store"].append(per_store(changes, treated, effect))
    return {m: float(np.concatenate(v).mean()) for m, v in covered.items()}


CASES = tuple(Case(g, k, pilot, effect) for effect in ("constant", "size") for g, k in ((10, 2), (10, 3), (10, 5),
                                                                                       (100, 10))
              for pilot in (28, 56)) + (Case(10, 2, 28, "size", largest=True), Case(10, 3, 28, "size", largest=True))


DEMO_MEASURES = ("profit", "waste_cost", "lost_margin", "stockout_days")


def demo_pilot(seed: int, pilot_days: int = 28, treated_count: int = 3,
               buffer: float = 1.2) -> dict[str, tuple[float, float, float, float]]:
    """One pilot on a demo chain: per measure of ``DEMO_MEASURES``, (true effect per treated
    store-day, estimate, low, high) — the estimate and interval of ``read_out`` on the
    recorded rows (``store_day_outcomes``), the truth from the simulation's own demand and
    waste (``core.pilot.simulate.true_outcomes``) with the pilot less without it."""
    from datetime import timedelta

    import pandas as pd

    from core.backtest.engine import BacktestData
    from core.columns import DATE, Freq
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, continue_chain, generate_chain
    from core.money.impact import Economics
    from core.money.outcomes import store_day_outcomes
    from core.pilot.readout import read_out
    from core.pilot.simulate import true_outcomes

    config = DemoConfig(stores=10, items=30, years=1, seed=seed, end_date=REFERENCE_END_DATE)
    chain = generate_chain(config)
    history = chain.sales
    stores = sorted(history["store_id"].astype(str).unique())
    treated = sorted(np.random.default_rng(seed).choice(stores, treated_count, replace=False).tolist())
    days = pd.date_range(REFERENCE_END_DATE + timedelta(days=1), periods=pilot_days, freq="D")
    recent = history[history[DATE] > days[0] - pd.Timedelta(days=29)]
    level = (recent.assign(weekday=recent[DATE].dt.day_of_week)
             .groupby(["store_id", "item_id", "weekday"], observed=True)["y"].mean().rename("level").reset_index())
    grid = level[level["store_id"].astype(str).isin(treated)].merge(
        pd.DataFrame({DATE: days, "weekday": days.day_of_week}), on="weekday")
    targets = grid.assign(order_up_to=np.ceil(grid["level"] * buffer + 1))[["store_id", "item_id", DATE,
                                                                            "order_up_to"]]
    pre = (days[0] - pd.Timedelta(days=max(56, 2 * pilot_days)), days[0] - pd.Timedelta(days=1))
    pilot, counterfactual = continue_chain(config, pilot_days, targets=targets), continue_chain(config, pilot_days)
    frame = pd.concat([history, pilot.sales], ignore_index=True)
    frame["unique_id"] = frame["store_id"].astype(str) + "/" + frame["item_id"].astype(str)
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="demo", keys=("store_id", "item_id"),
                        orders="ordered", stockout="stockout")
    measured = store_day_outcomes(data, chain.items, Economics(), "store_id", start=pre[0])
    effect = (true_outcomes(pilot, chain.items).set_index(["store", DATE])
              - true_outcomes(counterfactual, chain.items).set_index(["store", DATE]))
    truth = effect[effect.index.get_level_values("store").isin(treated)].mean()
    readout = read_out(measured, treated, [s for s in stores if s not in treated], pre, (days[0], days[-1]),
                       chain_stores=10)
    rows = readout.overall.set_index("measure")
    return {m: (float(truth[m]), float(rows.loc[m, "per_store_day"]), float(rows.loc[m, "low"]),
                float(rows.loc[m, "high"])) for m in DEMO_MEASURES if m in rows.index}


def demo_coverage(pilots: int, pilot_days: int, buffer: float) -> None:
    """Print, per measure, how often the readout's interval covers the exact true effect."""
    t0 = time.perf_counter()
    results = [demo_pilot(seed, pilot_days=pilot_days, buffer=buffer) for seed in range(1, pilots + 1)]
    print(f"Demo chains, {pilots} pilots of {pilot_days} days, treated stores ordering up to {buffer:g} x recent "
          f"same-weekday sales + 1 ({time.perf_counter() - t0:.0f} s):")
    print(f"{'measure':>14} {'covered':>12} {'true effect':>12} {'estimate':>10} {'est./truth':>10} "
          f"{'mean width':>10}")
    for measure in DEMO_MEASURES:
        values = np.array([r[measure] for r in results if measure in r])
        truth, estimate, low, high = values.T
        covered = (low <= truth) & (truth <= high)
        print(f"{measure:>14} {f'{covered.sum()}/{len(values)} {covered.mean():.0%}':>12} {truth.mean():>12,.1f} "
              f"{estimate.mean():>10,.1f} {estimate.mean() / truth.mean():>10.2f} {(high - low).mean():>10,.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="synthetic pilots per configuration (default 1000; 0: none)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--demo", type=int, default=0,
                        help="also run this many pilots on demo chains per demo configuration (default 0)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.seeds:
        synthetic_coverage(args.seeds, rng)
    if args.demo:
        for pilot_days, buffer in ((28, 1.2), (28, 0.9), (14, 1.2)):
            demo_coverage(args.demo, pilot_days, buffer)


def synthetic_coverage(seeds: int, rng: np.random.Generator) -> None:
    """Print, per configuration of ``CASES``, the share of simulated pilots each method covers."""
    began = time.perf_counter()
    print(f"Share of {seeds} simulated pilots whose 95 % interval covers the true effect "
          f"(Monte Carlo error about ±{1.96 * np.sqrt(0.95 * 0.05 / seeds):.1%})")
    print(f"{'stores':>6} {'treated':>7} {'days':>4} {'effect':>8} {'treated are':>11} "
          + " ".join(f"{m:>14}" for m in METHODS) + f" {'seconds':>7}")
    for case in CASES:
        t0 = time.perf_counter()
        shares = run(case, seeds, rng)
        print(f"{case.stores:>6} {case.treated:>7} {case.pilot:>4} {case.effect:>8} "
              f"{'largest' if case.largest else 'random':>11} "
              + " ".join(f"{shares[m]:>14.1%}" for m in METHODS) + f" {time.perf_counter() - t0:>7.1f}")
    print(f"Total {time.perf_counter() - began:.0f} s")

if __name__ == "__main__":
    main()
