"""The backtest comparison report: what the ML engineers bring to the PM. For one or more
stored runs: the leaderboard with people's names (WAPE, MASE, bias, fit seconds, rung),
the ladder chart (``core.decision.pdf_charts.ladder_png``, as the GO/NO-GO PDF draws it),
the error by horizon step and by segment, whether each model beats the baselines beyond
chance (Diebold–Mariano, ``core.backtest.compare``), and what the run left out or handed
to a simple rule (``core.backtest.accounting``).

The snapshot keeps numbers, ids, keys and dates only (the accounting's sentences as facts,
``core.i18n.to_json``): every word is written at ``sections`` time, in either language.
Everything is read from what the run stored (its overall, step and segment metrics, a few
thousand rows however many series); only the significance tests read forecasts, those of
the models tested, through ``run_forecast_rows``."""

from __future__ import annotations

import math

import pandas as pd

from core import fmt, periods
from core.backtest import accounting, external
from core.backtest import store as runs
from core.backtest.compare import (
    BASELINES,
    RunScope,
    config_differences,
    diebold_mariano,
    diebold_mariano_note,
    same_data,
    scope_differences,
    scope_key,
    window_name,
)
from core.columns import Freq
from core.decision.pdf_charts import RUNG_ORDER, ladder_png
from core.errors import MitoshiError
from core.forecast.base import rung_name
from core.forecast.registry import MODELS, is_external, model_info
from core.i18n import M_, _, from_json, ngettext, render, to_json
from core.paper import charts as paper_charts
from core.paper.pdf import figure_room
from core.paper.report import Figure, Heading, Paragraph, Section, Table, share_widths
from core.planning import store as planning
from core.warehouse.store import Warehouse

# A segment column with more values than this is not printed (a national chain's items):
# the Backtest page shows it, one value at a time.
MAX_SEGMENT_VALUES = 12
MAX_SEGMENT_MODELS = 6  # models side by side in a segment table; the best overall are kept
MAX_IDS = 8  # series ids kept per line of the left-out and fallback tables


def _widths(*weights: float) -> tuple[float, ...]:
    """``share_widths`` a hair under the page: shares summed in floating point may pass
    1.0 by an ulp, which the PDF's table refuses."""
    return tuple(w * 0.9999 for w in share_widths(*weights))


# ---------------------------------------------------------------------------------
# The snapshot: numbers and keys read from the stored runs
# ---------------------------------------------------------------------------------
def snapshot(warehouse: Warehouse, project_id: str, options: dict) -> tuple[dict, dict]:
    """(made_from, snapshot) of the runs in ``options["runs"]`` (ids), or of the newest
    stored run when none is given. Raises ``MitoshiError`` when there is no run, or a
    run id is not stored."""
    project = planning.get_project(warehouse, project_id)
    ids = [str(r) for r in (options.get("runs") or []) if str(r).strip()]
    newest = not ids
    if newest:
        stored = runs.list_runs(warehouse)
        if not stored:
            raise MitoshiError(M_("There is no backtest run to report on yet: run one on the Backtest page (or with "
                                  "python -m core.backtest) first."))
        ids = [stored[0].run_id]
    ids = list(dict.fromkeys(ids))  # a run asked for twice is shown once
    shots = [_run_snapshot(warehouse, run_id) for run_id in ids]
    made_from = {
        "project": project.name,
        "runs": [{"id": s["id"], "name": s["name"]} for s in shots],
        "dataset": ", ".join(dict.fromkeys(s["dataset"] for s in shots)),
        "dataset_fingerprint": ", ".join(dict.fromkeys(s["fingerprint"] for s in shots)),
    }
    return made_from, {"newest": newest, "runs": shots}


def _run_snapshot(warehouse: Warehouse, run_id: str) -> dict:
    view = runs.run_view(warehouse, run_id)  # every level but per series: a few thousand rows
    info, metrics = view.info, view.metrics
    cutoffs = runs.run_cutoffs(warehouse, run_id)
    excluded, fallbacks = runs.run_excluded(warehouse, run_id), runs.run_fallbacks(warehouse, run_id)
    board = _leaderboard(metrics, view.timings, external.effort_weeks(warehouse, run_id))
    segments = sorted({lv.removeprefix("segment:") for lv in metrics["level"] if lv.startswith("segment:")})
    return {
        "id": info.run_id, "name": info.name, "dataset": info.dataset_name, "dataset_id": info.dataset_id,
        "fingerprint": info.fingerprint, "code_version": info.code_version, "freq": info.freq.value,
        "created_at": info.created_at.isoformat(timespec="seconds"),
        "data_end": info.data_end.isoformat() if info.data_end else None,
        "config": info.config.to_dict(), "scope": {k: list(v) for k, v in info.scope.items()},
        "n_series": info.n_series, "n_scored": info.n_scored, "wall_seconds": round(info.wall_seconds, 3),
        "cutoffs": [f"{pd.Timestamp(c):%Y-%m-%d}" for c in cutoffs],
        "segments": segments,
        "leaderboard": board,
        "by_step": _by_group(metrics, "step", int),
        "by_fold": _by_group(metrics, "fold", lambda g: f"{pd.Timestamp(g):%Y-%m-%d}"),
        "by_segment": {column: _by_group(metrics, f"segment:{column}", str) for column in segments
                       if metrics.loc[metrics["level"] == f"segment:{column}", "group"].nunique()
                       <= MAX_SEGMENT_VALUES},
        "segment_sizes": {column: int(metrics.loc[metrics["level"] == f"segment:{column}", "group"].nunique())
                          for column in segments},
        "significance": _significance(warehouse, run_id, [r["model"] for r in board], info.config.split.horizon),
        "accounting": {
            "sentences": to_json(accounting.sentence_facts(excluded, fallbacks, info.n_series, cutoffs)),
            "whole_fold": to_json(accounting.whole_fold_facts(excluded, fallbacks, info.n_series, cutoffs)),
            "left_out": _left_out(excluded, cutoffs), "fallbacks": _fallbacks(fallbacks, cutoffs),
        },
    }


def _number(value: object) -> float | None:
    return None if value is None or fmt.missing(value) else float(value)


def _leaderboard(metrics: pd.DataFrame, timings: pd.DataFrame, effort: dict) -> list[dict]:
    """One dict per model, best WAPE first: the keys ``ladder_png`` reads (model, rung,
    wape, seconds, vs_practice, vs_snaive, effort_weeks) and mase, bias, rmse."""
    overall = metrics[metrics["level"] == "overall"]
    if overall.empty:
        return []
    board = overall.pivot(index="model", columns="metric", values="value")
    seconds = timings.groupby("model")["seconds"].sum() if not timings.empty else pd.Series(dtype=float)
    rows = []
    for model, values in board.iterrows():
        rows.append({"model": str(model),
                     "rung": model_info(model).rung.value if model in MODELS or is_external(model) else "",
                     **{m: _number(values.get(m)) for m in ("wape", "mase", "bias", "rmse", "mae")},
                     "seconds": _number(seconds.get(model)), "effort_weeks": _number(effort.get(model))})
    reference = {r["model"]: r["wape"] for r in rows}
    for row in rows:
        for baseline in BASELINES:
            base = reference.get(baseline)
            row[f"vs_{baseline}"] = (1 - row["wape"] / base if base and row["wape"] is not None and base > 0
                                     else None)
    return sorted(rows, key=lambda r: (r["wape"] is None, r["wape"] or 0.0, r["mae"] or 0.0, r["model"]))


def _by_group(metrics: pd.DataFrame, level: str, key) -> dict[str, list]:
    """WAPE per model along a level's groups: {model: [[group, wape], ...]} in group order."""
    part = metrics[(metrics["level"] == level) & (metrics["metric"] == "wape")]
    out: dict[str, list] = {}
    for model, rows in part.groupby("model", sort=True):
        pairs = sorted((key(g), _number(v)) for g, v in zip(rows["group"], rows["value"], strict=True))
        out[str(model)] = [[g, v] for g, v in pairs]
    return out


def _significance(warehouse: Warehouse, run_id: str, models: list[str], horizon: int) -> list[dict]:
    """Each model against each baseline the run has (today's practice, seasonal naive):
    one-sided Diebold–Mariano on absolute errors. Reads only the forecasts tested."""
    baselines = [b for b in BASELINES if b in models]
    if not baselines or len(models) < 2:
        return []
    forecasts = runs.run_forecast_rows(warehouse, run_id, sorted(models))
    out = []
    for baseline in baselines:
        for model in models:
            if model == baseline:
                continue
            try:
                test = diebold_mariano(forecasts, model, baseline, horizon)
            except ValueError:  # one of the two has no forecast stored
                continue
            out.append({"model": model, "baseline": baseline, "mean_difference": _number(test.mean_difference),
                        "statistic": _number(test.statistic), "p_value": _number(test.p_value),
                        "periods": int(test.periods)})
    return out


def _left_out(excluded: pd.DataFrame, cutoffs) -> list[dict]:
    numbers = accounting.folds_of(cutoffs)
    return [{"fold": numbers.get(pd.Timestamp(cutoff)), "cutoff": f"{pd.Timestamp(cutoff):%Y-%m-%d}",
             "reason": str(reason), "series": int(part["unique_id"].nunique()),
             "ids": sorted(part["unique_id"].astype(str).unique())[:MAX_IDS]}
            for (cutoff, reason), part in excluded.groupby(["cutoff", "reason"], sort=True)]


def _fallbacks(fallbacks: pd.DataFrame, cutoffs) -> list[dict]:
    numbers = accounting.folds_of(cutoffs)
    return [{"model": str(model), "rule": str(rule), "reason": str(reason),
             "series": int(part["unique_id"].nunique()),
             "folds": sorted({int(numbers.get(pd.Timestamp(c), 0)) for c in part["cutoff"].unique()}),
             "ids": sorted(part["unique_id"].astype(str).unique())[:MAX_IDS]}
            for (model, rule, reason), part in fallbacks.groupby(["model", "rule", "reason"], sort=True)]


# ---------------------------------------------------------------------------------
# The sections, in the language of the moment
# ---------------------------------------------------------------------------------
def sections(shot: dict, made_from: dict) -> tuple[str, tuple[Section, ...]]:
    """(subtitle, sections) of the report in the current language."""
    shown = shot["runs"]
    first = shown[0]
    if shot.get("newest"):
        subtitle = _("The newest backtest run, {run} of {when} (no run was chosen)").format(
            run=first["name"], when=fmt.date(first["created_at"][:10]))
    elif len(shown) == 1:
        subtitle = _("Backtest run {run} of {when}").format(run=first["name"], when=fmt.date(first["created_at"][:10]))
    else:
        subtitle = ngettext("{n} backtest run compared", "{n} backtest runs compared", len(shown)).format(n=len(shown))
    out: list[Section] = [*_overview(shown)]
    if len(shown) > 1:
        out += _differences(shown)
    for index, run in enumerate(shown, start=1):
        out += _run_sections(run, index if len(shown) > 1 else None)
    return subtitle, tuple(out)


def _best(run: dict) -> dict | None:
    board = [r for r in run["leaderboard"] if r.get("wape") is not None]
    return board[0] if board else None


def _config_line(run: dict) -> str:
    """"horizon 14 days, 3 folds, step 14 days, expanding window · all series"."""
    split, freq = run["config"]["split"], Freq(run["freq"])
    window = window_name(split.get("window", "expanding"))
    parts = [_("horizon {span}").format(span=periods.span(freq, split["horizon"])),
             ngettext("{n} fold", "{n} folds", split["folds"]).format(n=split["folds"]),
             _("step {span}").format(span=periods.span(freq, split.get("step") or split["horizon"])),
             _("{window} window of {span}").format(window=window, span=periods.span(freq, split["train_periods"]))
             if split.get("train_periods") else _("{window} window").format(window=window)]
    if split.get("gap"):
        parts.append(_("gap {span}").format(span=periods.span(freq, split["gap"])))
    scope = "; ".join(f"{k} = {', '.join(v)}" for k, v in run["scope"].items()) or _("all series")
    return f"{_(', ').join(parts)} · {scope}"


def _overview(shown: list[dict]) -> list[Section]:
    rows = []
    for run in shown:
        best = _best(run)
        rows.append((run["name"], run["dataset"], fmt.date(run["created_at"][:10]), _config_line(run),
                     render(accounting.scored_fact(run["n_scored"], run["n_series"])),
                     fmt.model_name(best["model"]) if best else fmt.MISSING,
                     fmt.pct(best["wape"]) if best else fmt.MISSING))
    return [
        Heading(ngettext("The run", "The runs", len(shown)), keep=25),
        Table((_("Run"), _("Dataset"), _("Created"), _("How it was split"), _("Series"), _("Best model"),
               _("Best WAPE")), tuple(rows), _widths(2.1, 1.7, 1.6, 3.4, 1.5, 1.6, 1.1),
              align=("L", "L", "L", "L", "L", "L", "R")),
    ]


def _scope(run: dict) -> RunScope:
    return RunScope(dataset=run["dataset"], dataset_key=run["dataset_id"] or f"data {run['fingerprint']}",
                    freq=Freq(run["freq"]).text, horizon=int(run["config"]["split"]["horizon"]),
                    cutoffs=tuple(pd.Timestamp(c) for c in run["cutoffs"]), n_series=int(run["n_series"]),
                    segments=tuple(run["segments"]), fingerprint=run["fingerprint"],
                    scope=scope_key(run["scope"]),
                    data_end=pd.Timestamp(run["data_end"]).date() if run.get("data_end") else None)


def _labels(shown: list[dict]) -> list[str]:
    """Each run's name, its id's start added where two runs share a name."""
    names = [run["name"] for run in shown]
    return [f"{n} ({run['id'][:6]})" if names.count(n) > 1 else n for n, run in zip(names, shown, strict=True)]


def _differences(shown: list[dict]) -> list[Section]:
    labels = _labels(shown)
    scopes = {label: _scope(run) for label, run in zip(labels, shown, strict=True)}
    differ = scope_differences(scopes)
    out: list[Section] = [Heading(_("What differs between the runs"), keep=30)]
    if not same_data(scopes):
        out.append(Paragraph(_("These runs are on different data — they differ in {differences}. Their errors are not "
                               "comparable with each other: read each run's figures on its own.").format(
                                   differences="; ".join(differ))))
    elif differ:
        out.append(Paragraph(_("These runs differ in {differences}: each run's figures below are on all it scored, so "
                               "compare them with care (the Experiments page compares them on what they share).")
                             .format(differences="; ".join(differ))))
    else:
        out.append(Paragraph(_("The runs cover the same data the same way (dataset, frequency, horizon, cutoffs and "
                               "series): their errors are comparable.")))
    table = config_differences({label: run["config"] | {"scope": run["scope"], "dataset": run["dataset"]}
                                for label, run in zip(labels, shown, strict=True)})
    if table.empty:
        out.append(Paragraph(_("The configs are identical (same dataset, scope, time settings and models)."),
                             muted=True))
    else:
        rest = (1.0 - 0.24) / len(labels)
        out.append(Table((_("Setting"), *labels),
                         tuple((str(index), *(str(v) for v in values)) for index, values in table.iterrows()),
                         _widths(0.24, *([rest] * len(labels)))))
    return out


def _run_sections(run: dict, number: int | None) -> list[Section]:
    freq = Freq(run["freq"])
    board = run["leaderboard"]
    title = run["name"] if number is None else _("Run {n}: {run}").format(n=number, run=run["name"])
    out: list[Section] = [Heading(title, keep=60), Paragraph(
        _("{dataset} · {config} · {scored} · run {run_id} · code {code} · data {fingerprint}").format(
            dataset=run["dataset"], config=_config_line(run),
            scored=render(accounting.scored_fact(run["n_scored"], run["n_series"])), run_id=run["id"],
            code=run["code_version"], fingerprint=run["fingerprint"]), muted=True)]
    out += _leaderboard_sections(run, board)
    out += _horizon_sections(run, freq)
    out += _segment_sections(run)
    out += _significance_sections(run, freq)
    out += _accounting_sections(run)
    return out


def _seconds(value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    return f"{value:,.1f}" if value >= 0.1 else _("< 0.1")


def _leaderboard_sections(run: dict, board: list[dict]) -> list[Section]:
    out: list[Section] = [Heading(_("Leaderboard"), keep=40)]
    best = _best(run)
    if best is None:
        out.append(Paragraph(_("No model can be ranked: WAPE is undefined for every model because nothing sold on the "
                               "scored days.")))
    else:
        gains = []
        for baseline in BASELINES:
            gain = best.get(f"vs_{baseline}")
            if gain is not None and best["model"] != baseline:
                gains.append((_("{pct} lower than {model}") if gain > 0 else _("{pct} higher than {model}")).format(
                    pct=fmt.pct(abs(gain)), model=fmt.model_name(baseline)))
        sentence = _("Best model: {model} ({rung}), WAPE {wape}").format(
            model=fmt.model_name(best["model"]), rung=rung_name(best["rung"]), wape=fmt.pct(best["wape"]))
        if gains:
            sentence = _("{best}, {gains}").format(best=sentence, gains=_(", ").join(gains))
        out.append(Paragraph(_("{sentence}.").format(sentence=sentence)))
    gain_of = [b for b in BASELINES if any(r.get(f"vs_{b}") is not None for r in board)]
    headings = (_("Model"), _("Rung"), fmt.metric_name("wape"), fmt.metric_name("mase"), fmt.metric_name("bias"),
                _("Fit seconds"), *(_("vs {model}").format(model=fmt.model_name(b)) for b in gain_of))
    rows = tuple((fmt.model_name(r["model"]), rung_name(r["rung"]) if r["rung"] else fmt.MISSING, fmt.pct(r["wape"]),
                  fmt.number(r["mase"], 3), fmt.number(r["bias"], 2, signed=True), _seconds(r["seconds"]),
                  *(fmt.pct_change(r.get(f"vs_{b}")) if r["model"] != b else "—" for b in gain_of))
                 for r in board)
    widths = _widths(2.6, 1.7, 1.0, 1.0, 1.0, 1.1, *([1.3] * len(gain_of)))
    out.append(Table(headings, rows, widths, align=("L", "L", *(["R"] * (len(headings) - 2))),
                     empty=_("The run has no overall metrics.")))
    out.append(Paragraph(_("WAPE: total absolute error as a share of total sales, lower is better. MASE: mean absolute "
                           "error over the in-sample seasonal naive's, below 1 beats it. Bias: mean of forecast − "
                           "actual in units per series and period, negative forecasts too low. Fit seconds: fit and "
                           "predict over every fold. 'vs': WAPE reduction against that baseline."), muted=True))
    for line in run["accounting"]["whole_fold"]:
        out.append(Paragraph(render(from_json(line))))
    ranked = [r for r in board if r.get("wape") is not None]
    if ranked:
        height = min(48 + 7 * len(ranked), 120)
        out.append(Figure(ladder_png(ranked, "", 180, height), height, _(
            "The ladder: cheapest rung first. Each rung has its own hatch; each bar carries its WAPE and fit time.")))
    return out


# shapes that stay apart at print size and in grey: no two that read as the same blob (a PM read "P" as "D")
MARKERS = ("o", "s", "^", "D", "v", "x", "+", "*", "<", ">")
DASHES = ("-", "--", ":", "-.")


def _horizon_png(by_step: dict[str, list], models: list[str], freq: Freq, width_mm: float = 180,
                 height_mm: float = 70) -> bytes:
    """WAPE by periods ahead, one line per model, each with its own marker and dash."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    with paper_charts.style():
        fig, (ax,) = paper_charts.figure(width_mm, height_mm)
        values = []
        for i, model in enumerate(models):
            points = [(s, v) for s, v in by_step.get(model, []) if v is not None]
            if not points:
                continue
            steps, wapes = zip(*points, strict=True)
            values += wapes
            ax.plot(steps, wapes, marker=MARKERS[i % len(MARKERS)], linestyle=DASHES[i % len(DASHES)],
                    color=paper_charts.INK if i % 2 == 0 else paper_charts.MUTED, linewidth=1.1, markersize=4.4,
                    markerfacecolor="white" if i % 3 == 1 else None, label=fmt.model_name(model))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.pct(v, 0)))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color=paper_charts.GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        if values:
            ax.set_ylim(0, max(values) * 1.12)
        paper_charts.title(ax, _("WAPE by periods ahead (lower is better)"), width_mm)
        ax.set_xlabel(_("Periods after the cutoff ({unit})").format(unit=periods.period_noun(freq, plural=True)))
        fig.legend(loc="outside lower center", ncols=_legend_columns(models), handlelength=3.2)
        return paper_charts.png(fig)


def _legend_columns(models: list[str]) -> int:
    """Four names to a legend row, three when one is long ("Linear model (Poisson GLM)" was cut at the edge)."""
    longest = max((len(fmt.model_name(m)) for m in models), default=0)
    return max(1, min(4 if longest <= 20 else 3, len(models)))


def _ladder_order(board: list[dict]) -> list[str]:
    rank = {r: i for i, r in enumerate(RUNG_ORDER)}
    return [r["model"] for r in sorted(board, key=lambda r: (rank.get(r.get("rung"), len(rank)),
                                                              r["wape"] if r.get("wape") is not None else math.inf))]


def _horizon_sections(run: dict, freq: Freq) -> list[Section]:
    by_step = run["by_step"]
    models = [m for m in _ladder_order(run["leaderboard"]) if by_step.get(m)]
    if not models:
        return [Heading(_("Error by horizon"), keep=20),
                Paragraph(_("The run stored no error by horizon step."), muted=True)]
    height = 62 + 5 * math.ceil(len(models) / _legend_columns(models))
    # the heading goes to the next page with its chart, never alone at the foot of one
    out: list[Section] = [Heading(_("Error by horizon"), keep=figure_room(height))]
    out.append(Figure(_horizon_png(by_step, models, freq, 180, height), height, _(
        "How the error grows with the periods ahead: each model has its own marker and dash.")))
    steps = sorted({s for m in models for s, _v in by_step[m]})
    shown = sorted({steps[0], steps[len(steps) // 2], steps[-1]}) if steps else []
    folds = run["by_fold"]
    fold_dates = sorted({c for m in models for c, _v in folds.get(m, [])})
    headings = (_("Model"), *(_("step {n}").format(n=s) for s in shown),
                *(_("fold {n}").format(n=i) for i in range(1, len(fold_dates) + 1)))
    rows = []
    for model in models:
        steps_of, folds_of = dict(map(tuple, by_step[model])), dict(map(tuple, folds.get(model, [])))
        rows.append((fmt.model_name(model), *(fmt.pct(steps_of.get(s)) for s in shown),
                     *(fmt.pct(folds_of.get(c)) for c in fold_dates)))
    columns = len(headings) - 1
    out.append(Table(headings, tuple(rows), _widths(0.28, *([0.72 / columns] * columns)), align=("L", *(["R"] * columns))))
    if fold_dates:
        out.append(Paragraph(_("WAPE at the first, middle and last step ahead, and in each fold (cutoffs {cutoffs}): a "
                               "model whose error swings between folds is less sure than its average says.").format(
                                   cutoffs=", ".join(fmt.date(c) for c in fold_dates)), muted=True))
    return out


def _segment_sections(run: dict) -> list[Section]:
    out: list[Section] = [Heading(_("Error by segment"), keep=40)]
    board = [r for r in run["leaderboard"] if r.get("wape") is not None]
    kept = [r["model"] for r in board[:MAX_SEGMENT_MODELS]]
    for baseline in BASELINES:  # the baselines stay in view: a segment is won or lost against them
        if baseline in {r["model"] for r in board} and baseline not in kept:
            kept = [*kept[:MAX_SEGMENT_MODELS - 1], baseline]
    models = [m for m in _ladder_order(run["leaderboard"]) if m in kept]
    printed = False
    for column, by_model in run["by_segment"].items():
        values = sorted({g for m in models for g, _v in by_model.get(m, [])})
        if len(values) < 2 or not models:
            continue
        printed = True
        cells = {m: dict(map(tuple, by_model.get(m, []))) for m in models}
        rows, lowest_of = [], []
        for value in values:
            wapes = {m: cells[m].get(value) for m in models if cells[m].get(value) is not None}
            lowest = min(wapes, key=wapes.get) if wapes else None
            rows.append((value, *(("▸ " if m == lowest else "") + fmt.pct(cells[m].get(value)) for m in models)))
            lowest_of.append(lowest)
        wins = {m: lowest_of.count(m) for m in models}
        out.append(Paragraph(_("By {column}: {wins}.").format(column=column, wins=_(", ").join(
            ngettext("{model} lowest in {n} of {total}", "{model} lowest in {n} of {total}", n).format(
                model=fmt.model_name(m), n=n, total=len(rows)) for m, n in wins.items() if n))))
        out.append(Table((column, *(fmt.model_name(m) for m in models)), tuple(rows),
                         _widths(0.2, *([0.8 / len(models)] * len(models))), align=("L", *(["R"] * len(models)))))
    if printed:
        note = _("WAPE of each model in each segment value; ▸ marks the lowest.")
        if len(board) > len(models):
            note += " " + _("The {n} models with the best overall WAPE are shown, with the baselines.").format(
                n=len(models))
        out.append(Paragraph(note, muted=True))
    skipped = [f"{c} ({n:,})" for c, n in run["segment_sizes"].items() if n > MAX_SEGMENT_VALUES]
    if skipped:
        out.append(Paragraph(_("Too many values to print: {columns}. The Backtest page shows them.").format(
            columns=", ".join(skipped)), muted=True))
    if not printed and not skipped:
        out.append(Paragraph(_("The run has no segment with two values or more."), muted=True))
    return out


def _significance_sections(run: dict, freq: Freq) -> list[Section]:
    out: list[Section] = [Heading(_("Is the gain real? (Diebold–Mariano)"), keep=35)]
    tests = run["significance"]
    if not tests:
        return [*out, Paragraph(_("This run has neither seasonal naive nor today's practice to test against."),
                                muted=True)]
    rows = []
    for t in tests:
        p = t["p_value"]
        verdict = (_("Significantly better") if p is not None and p < 0.05 else
                   _("Not significantly better") if p is not None else _("Not testable (too few periods)"))
        rows.append((fmt.model_name(t["model"]), fmt.model_name(t["baseline"]),
                     fmt.number(t["mean_difference"], 3, signed=True), fmt.number(t["statistic"], 2),
                     fmt.p_value(p), f"{t['periods']:,}", verdict))
    out.append(Table((_("Model"), _("Against"), _("MAE difference"), _("DM statistic"), _("p-value"), _("Periods"),
                      _("Verdict")), tuple(rows), _widths(2.3, 2.0, 1.3, 1.1, 0.9, 0.9, 2.2),
                     align=("L", "L", "R", "R", "R", "R", "L")))
    out.append(Paragraph(diebold_mariano_note(freq), muted=True))
    return out


def _ids(ids: list[str], total: int) -> str:
    more = _(" … and {n:,} more").format(n=total - len(ids)) if total > len(ids) else ""
    return ", ".join(ids) + more


def _accounting_sections(run: dict) -> list[Section]:
    out: list[Section] = [Heading(_("What was left out"), keep=30)]
    if run["n_scored"] is None:
        return [*out, Paragraph(_("This run was stored before Mitoshi counted the series a fold left out and the "
                                  "models' fallbacks."), muted=True)]
    book = run["accounting"]
    left_out, fallbacks = book["left_out"], book["fallbacks"]
    if not left_out and not fallbacks:
        return [*out, Paragraph(" ".join(render(from_json(s)) for s in book["sentences"][:1]) + " " + _(
            "Every series was scored in every fold, and every model forecast every series itself."))]
    out.append(Paragraph(" ".join(render(from_json(s)) for s in book["sentences"])))
    if left_out:
        out.append(Table((_("Fold"), _("Cutoff"), _("Reason"), _("Series"), _("Which series")), tuple(
            (str(r["fold"]), fmt.date(r["cutoff"]), accounting.reason_text(r["reason"]), f"{r['series']:,}",
             _ids(r["ids"], r["series"])) for r in left_out), _widths(0.6, 1.3, 3.0, 0.8, 4.3),
            align=("R", "L", "L", "R", "L")))
    if fallbacks:
        out.append(Table((_("Model"), _("Rule"), _("Reason"), _("Series"), _("Folds"), _("Which series")), tuple(
            (fmt.model_name(r["model"]), accounting.rule_name(r["rule"]), accounting.reason_text(r["reason"]),
             f"{r['series']:,}", ", ".join(str(f) for f in r["folds"]), _ids(r["ids"], r["series"]))
            for r in fallbacks), _widths(1.6, 1.5, 2.4, 0.8, 0.8, 3.0), align=("L", "L", "L", "R", "L", "L")))
        out.append(Paragraph(_("Those series are scored on the rule's forecasts, not the model's."), muted=True))
    return out
