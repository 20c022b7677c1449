"""The pre-filled example: AI Shop (AI商店) asks whether store × item demand
forecasting is worth a PoC. Plausible numbers, the talk's eight candidate initiatives —
a starting point to edit, not data.

Its texts are fixed texts (``core.planning.texts``): stored as written here (English with
the Japanese terms, as before issue 15), marked for the catalog, and read in Japanese alone
by a Japanese reader until someone edits them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from core.i18n import N_
from core.planning.criteria import Criterion
from core.planning.definition import ProblemDefinition
from core.planning.initiatives import Initiative
from core.planning.plan import LadderStep, Phase, PhaseStatus, default_ladder

NAME = N_("AI Shop demand forecasting (AI商店 需要予測)")
DESCRIPTION = N_("10店舗 × 50商品の日次需要予測で発注を改善できるか。Can store × item daily demand forecasts improve "
                 "ordering enough to pay for themselves? Example project: edit anything.")


def initiatives() -> tuple[Initiative, ...]:
    """The talk's list for a retail chain, with rough first estimates."""
    return (
        Initiative(N_("Demand forecasting 需要予測"),
                   N_("店舗×商品の日次需要を予測し、発注数の根拠にする。Forecast daily demand per store and item to "
                      "set orders."), 12, 60_000_000, 0.7, 0.8),
        Initiative(N_("Delivery-delay prediction 配送遅延予測"),
                   N_("配送の遅れを前日に予測し、店舗に知らせる。Warn stores the day before a delivery runs late."),
                   8, 10_000_000, 0.6, 0.4),
        Initiative(N_("Checkout automation レジ自動化"),
                   N_("無人レジ・画像認識で会計を自動化する。Self-checkout with image recognition."),
                   80, 90_000_000, 0.4, 0.3),
        Initiative(N_("Inventory-management automation 在庫管理自動化"),
                   N_("棚の在庫を自動で数え、補充を指示する。Count shelf stock automatically and trigger refills."),
                   36, 40_000_000, 0.5, 0.6),
        Initiative(N_("Customer-flow analysis 動線分析"),
                   N_("店内カメラで客の動線を分析し、棚割りを見直す。Analyse in-store paths to rethink the layout."),
                   6, 5_000_000, 0.5, 0.4),
        Initiative(N_("Temperature-control automation 温度管理自動化"),
                   N_("冷蔵・冷凍ケースの温度を自動制御する。Control fridge and freezer temperatures automatically."),
                   20, 12_000_000, 0.5, 0.7),
        Initiative(N_("Crime-prevention analysis 防犯分析"),
                   N_("防犯カメラ映像から万引きの兆候を検知する。Spot shoplifting patterns on camera footage."),
                   30, 4_000_000, 0.3, 0.2),
        Initiative(N_("Order automation 発注自動化"),
                   N_("需要予測をもとに発注を自動で確定する。Place orders automatically from the demand forecast."),
                   26, 45_000_000, 0.5, 0.8),
    )


def definition() -> ProblemDefinition:
    return ProblemDefinition(
        problem=N_("店舗×商品の発注数は「直近3週の同曜日で最も売れた数＋バッファ」から在庫を引いて決めており、欠品と廃棄が"
                   "どちらも多い。Store × item orders top the shelf up to the best same-weekday sales of the last three "
                   "weeks plus a buffer, which leaves both stockouts and waste."),
        processes=(N_("Ordering 発注"), N_("Inventory 在庫管理")),
        decision=N_("各店舗の担当者が毎朝10時に翌日分の発注数を商品ごとに決める。The store's order for tomorrow, "
                    "per item, placed at 10:00 each morning."),
        kpi_name=N_("廃棄・欠品ロス率 Waste and stockout loss"), kpi_unit=N_("% of sales"), kpi_current=6.0,
        kpi_target=4.5, value_yen_per_year=60_000_000,
        value_estimate=N_("年商約40億円（10店舗）× ロス率1.5ポイント改善 = 年6,000万円。Chain sales about ¥4.0 billion a "
                          "year (10 stores) × 1.5 points less waste and stockout loss = ¥60M a year."),
        running_cost_yen_per_year=6_000_000, investment_yen=15_000_000,
        people=N_("PM 1名（30%）、MLエンジニア 1名、パイロット2店舗の店長。PM (30 %), one ML engineer, two pilot store "
                  "managers."),
        timeline=N_("3か月でPoC、夏の繁忙期までに判断。PoC in 3 months, decision before the summer peak."),
        budget_yen=15_000_000,
        data_sources=(N_("POS売上（店舗×商品×日、3年）POS sales per store, item and day (3 years)"),
                      N_("発注・納品実績 Orders and deliveries (today's practice)"),
                      N_("商品マスタ（売価・原価・賞味期限）Item master: price, cost, shelf life"),
                      N_("店舗マスタ Store master"), N_("販促カレンダー Promotion calendar"),
                      N_("祝日 Japanese public holidays")),
        out_of_scope=(N_("発注の完全自動化（担当者の承認は残す）No ordering without a person's approval"),
                      N_("販売実績のない新商品 New items without sales history"),
                      N_("当日中の予測更新 Intraday (real-time) forecasts"), N_("価格の最適化 Price optimisation")),
        checklist=("rule_measured", "rule_not_enough", "scale", "many_factors", "history", "feedback",
                   "tolerates_errors"),
        offline_metric="wape",
        offline_method=N_("時系列順のバックテスト（28日×3フォールド、ランダム分割はしない）。Rolling-origin backtest, "
                          "3 folds of 28 days on all 500 series — never a random split."),
        online_plan=N_("売上・規模・地域で対になる店舗を選び、各ペアの一方をくじでパイロット店舗に。予測に基づく発注案を店長が"
                       "承認して発注し、もう一方は現行どおり。期間は検出力の計算で決め、利益・廃棄・欠品を差の差で比較。"
                       "Stores paired on sales, size and region; a lot picks the pilot store of each pair, where the "
                       "forecast proposes the order and the store manager approves it, while its partner orders as "
                       "today. The length comes from a power calculation; profit, waste and stockouts are compared by "
                       "difference in differences."),
        # The criteria's notes are the PM's own words, in Japanese, in both languages.
        criteria=(
            Criterion("wape", "improves_by_at_least", 0.10, "practice", "予測誤差が現行の発注より10%以上改善"),
            Criterion("wape", "improves_by_at_least", 0.05, "snaive", "季節ナイーブにも5%以上勝つ"),
            Criterion("yearly_savings_yen", ">=", 1.0, "yearly_running_cost", "年間削減額が運用コストを上回る"),
            Criterion("payback_months", "<=", 18, None, "18か月以内に投資を回収"),
            # オンライン評価: the offline promise tested in stores before the verdict.
            Criterion("online_savings_lower", ">", 0.0, None, "パイロットで利益の改善を確認（95%区間の下限が0円超）"),
            Criterion("online_yearly_savings", ">=", 1.0, "yearly_running_cost", "パイロットで測った年間削減額が運用コストを上回る"),
        ),
    )


def phases(today: date) -> tuple[Phase, ...]:
    """Dates from ``today``: the survey is under way, the rest follows."""
    day = today - timedelta(days=today.weekday())  # plans start on Mondays
    return (
        Phase("survey", N_("田中 Tanaka (PM)"), day - timedelta(weeks=2), day + timedelta(weeks=1),
              PhaseStatus.IN_PROGRESS, N_("データ確認と現行発注の評価 Data check and today's ordering measured")),
        Phase("offline", N_("佐藤 Sato (ML engineer)"), day + timedelta(weeks=1), day + timedelta(weeks=6),
              notes=N_("ラダーを順に: ルール → 統計 → 線形モデル → GBDT → 外部モデル. The ladder, in order.")),
        Phase("online", N_("鈴木 Suzuki (store operations)"), day + timedelta(weeks=6), day + timedelta(weeks=11),
              notes=N_("対になる店舗でパイロット Pilot stores and their matched controls")),
        Phase("decision", N_("山本 Yamamoto (business owner)"), day + timedelta(weeks=11), day + timedelta(weeks=12),
              notes=N_("GO/NO-GOレポートで判断 Decide on the GO/NO-GO report")),
    )


def ladder() -> tuple[LadderStep, ...]:
    return tuple(replace(step, timebox_weeks=weeks) for step, weeks in zip(default_ladder(), (1, 1, 2, 0), strict=True))
