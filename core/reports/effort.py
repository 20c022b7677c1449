"""The effort / impact report, for the meeting that chooses where to start: the project's
candidate ML initiatives on the talk's 2×2 (little or huge effort × small or large
impact, split at the project's thresholds), the ranking with its RICE and ICE scores
and what it recommends, and the initiative chosen to start with.

The chosen initiative is the one the product records as chosen: the latest one turned
into the project's problem definition with "Make it the problem definition" on the
Effort / impact page (``core.planning.initiatives.to_definition``), which saves a new
version of the definition noted "From the initiative '…'". The page's pick list itself
is not kept, and the ranking only recommends; when no initiative was ever made the
problem, the report says so and names the ranking's first as the recommendation.

The snapshot keeps the initiatives as stored (their names and descriptions as typed, or
as the product's fixed texts in English: ``core.planning.texts``), with the scores, the
quadrants (their English keys) and the ranks computed when it was made, so that the
report reads the same in either language."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pandas as pd

from core import fmt
from core.errors import MitoshiError
from core.i18n import M_, _, ngettext, using
from core.paper import charts
from core.paper.report import Bullets, Figure, Heading, KeyValues, Paragraph, Section, Table, share_widths
from core.paper.pdf import figure_room, sentences
from core.planning import store as planning
from core.planning import texts
from core.planning.initiatives import Initiative, Quadrant, Thresholds, recommendation, score_table
from core.warehouse.store import Warehouse

MAP_WIDTH, MAP_HEIGHT = 180.0, 118.0  # mm
# The note "Make it the problem definition" gives the version it writes (as the store reads it in English,
# possibly merged with another version saved meanwhile).
_FROM_INITIATIVE = re.compile(r"From the initiative '(?P<name>.*)'(?: \(merged with version \d+\))?", re.S)


# ---------------------------------------------------------------------------------
# Snapshot
# ---------------------------------------------------------------------------------
def snapshot(warehouse: Warehouse, project_id: str, options: dict) -> tuple[dict, dict]:
    """(made_from, snapshot) of the project's initiatives, thresholds and chosen
    initiative. Raises ``MitoshiError`` when the project has no initiative yet."""
    project = planning.get_project(warehouse, project_id)
    stored = planning.list_initiatives(warehouse, project_id)
    if not stored:
        raise MitoshiError(M_("The project '{project}' has no candidate initiative yet: add initiatives on the "
                              "Effort / impact page first.", project=project.name))
    thresholds = project.thresholds
    # Names and descriptions as stored: the product's fixed texts as their English originals, read in the
    # reader's language when printed.
    items = [(s.key, _stored(s.item)) for s in stored]
    table = score_table(items, thresholds)
    rows = [{"key": r["key"], "name": r["name"], "description": r["description"],
             "effort_weeks": float(r["effort_weeks"]), "impact_yen": float(r["impact_yen"]),
             "confidence": float(r["confidence"]), "reach": float(r["reach"]), "rice": float(r["rice"]),
             "ice": float(r["ice"]), "quadrant": str(r["quadrant"]), "rank": int(r["rank"])}
            for r in table.to_dict("records")]
    latest, chosen = _chosen(warehouse, project_id, rows)
    made_from = {"project": project.name}
    if latest is not None:
        made_from |= {"definition_version": latest.version,
                      "definition_saved_at": latest.saved_at.isoformat(timespec="seconds")}
    shot = {"thresholds": {"effort_weeks": thresholds.effort_weeks, "impact_yen": thresholds.impact_yen},
            "initiatives": rows, "changed_at": max(s.updated_at for s in stored).isoformat(timespec="seconds"),
            "chosen": chosen}
    return made_from, shot


def _stored(item: Initiative) -> Initiative:
    return replace(item, name=str(texts.stored(item.name, texts.INITIATIVE)),
                   description=str(texts.stored(item.description, texts.INITIATIVE)))


def _chosen(warehouse: Warehouse, project_id: str, rows: list[dict]):
    """(latest definition version or None, the chosen initiative or None): the newest
    version of the definition written from an initiative, whether the problem still reads
    as it wrote it, and which of today's initiatives it is (None when renamed or deleted since)."""
    with using("en"):  # notes and fixed texts in the source language: the notes' names as stored
        history = planning.definition_history(warehouse, project_id)
    if not history:
        return None, None
    latest = history[-1]
    for version in reversed(history):
        found = _FROM_INITIATIVE.fullmatch(str(version.note or ""))
        if not found:
            continue
        name = found["name"]
        same = [r for r in rows if r["name"].strip().lower() == name.strip().lower()]
        return latest, {"name": name, "key": same[0]["key"] if same else None, "version": version.version,
                        "saved_at": version.saved_at.isoformat(timespec="seconds"),
                        "still_the_problem": str(latest.definition.problem) == str(version.definition.problem),
                        "latest_version": latest.version}
    return latest, None


# ---------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------
def _shown_rows(shot: dict) -> list[dict]:
    return [{**r, "name": str(texts.shown(r["name"], texts.INITIATIVE)),
             "description": str(texts.shown(r["description"], texts.INITIATIVE))} for r in shot["initiatives"]]


def sections(shot: dict, made_from: dict) -> tuple[str, tuple[Section, ...]]:
    """(subtitle, sections) of the report in the current language."""
    rows = _shown_rows(shot)
    thresholds = Thresholds(**shot["thresholds"])
    chosen = shot.get("chosen")
    chosen_key = chosen.get("key") if chosen else None
    n = len(rows)
    split = _("little effort: at most {weeks} person-weeks; large impact: at least {amount} a year").format(
        weeks=fmt.trimmed(thresholds.effort_weeks, 1), amount=fmt.yen(thresholds.impact_yen))
    subtitle = ngettext("{n} candidate initiative as of {when}", "{n} candidate initiatives as of {when}", n).format(
        n=n, when=fmt.date(shot["changed_at"][:10])) + " · " + split
    table = pd.DataFrame(rows)
    advice = tuple(_plain(line) for line in recommendation(table))
    ranking = tuple((str(r["rank"]), r["name"] + (" ✓ " + _("chosen") if r["key"] == chosen_key else ""),
                     Quadrant(r["quadrant"]).label, fmt.trimmed(r["effort_weeks"], 1), fmt.yen(r["impact_yen"]),
                     fmt.pct(r["confidence"], 0), fmt.pct(r["reach"], 0), fmt.yen(r["rice"]), fmt.count(r["ice"]))
                    for r in rows)
    return subtitle, (
        *_chosen_sections(rows, chosen),
        Heading(_("The map"), keep=figure_room(MAP_HEIGHT)),
        Figure(map_png(rows, thresholds, chosen_key), MAP_HEIGHT, _(
            "Each point is an initiative, numbered by its rank; its marker says its quadrant and its size its reach. "
            "Both axes are logarithmic: equal distances are equal ratios (10 to 20 as far apart as 50 to 100). The dashed lines are the project's thresholds "
            "({split}).").format(split=split)),
        Heading(_("Where to start"), keep=40),
        Bullets(advice),
        Heading(_("The ranking"), keep=30),
        Table((_("rank"), _("initiative"), _("quadrant"), _("person-weeks"), _("¥ per year"), _("confidence"),
               _("reach"), _("RICE, ¥ per person-week"), "ICE"), ranking,
              share_widths(0.75, 2.55, 2.05, 1.1, 1.8, 1.5, 1.05, 1.85, 0.8),
              align=("L", "L", "L", "R", "R", "R", "R", "R", "R")),
        Paragraph(sentences(  # the page's explanation, then what the columns mean
            _("Ranked by quadrant — aim here, then low-risk starting points, then wait, then are you sure — and by "
              "RICE within a quadrant. RICE = impact × reach × confidence ÷ effort: expected first-year yen per "
              "person-week. ICE = impact × confidence × ease, each scored 1–10 (impact ¥1M → 1, ¥1B → 10; ease 1 "
              "person-week → 10, 100 → 1)."),
            _("Impact is a year at full scale; reach is the share of the chain reached in the first year; confidence "
              "is how sure the team is of the impact.")), muted=True),
    )


def _chosen_sections(rows: list[dict], chosen: dict | None) -> tuple[Section, ...]:
    by_key = {r["key"]: r for r in rows}
    if chosen is None:
        first = rows[0]
        return (
            Heading(_("The chosen initiative"), keep=45),
            Paragraph(_("Not chosen yet: no initiative has been made the project's problem definition (\"Make it the "
                        "problem definition\" on the Effort / impact page records the choice). The ranking puts "
                        "{name} first.").format(name=first["name"])),
            KeyValues(_initiative_pairs(first, len(rows))),
        )
    name = str(texts.shown(chosen["name"], texts.INITIATIVE))
    how = _("Made the problem definition in version {version} of {when}.").format(
        version=chosen["version"], when=fmt.date(chosen["saved_at"][:10]))
    if chosen["still_the_problem"]:
        how += " " + _("It is still the problem in the latest version ({latest}).").format(
            latest=chosen["latest_version"])
    else:
        how += " " + _("The problem has been rewritten since (latest version {latest}).").format(
            latest=chosen["latest_version"])
    row = by_key.get(chosen.get("key"))
    if row is None:
        pairs = ((_("Initiative"), name), (_("How it was chosen"), how),
                 (_("Now"), _("No longer among the initiatives: renamed or deleted since.")))
    else:
        pairs = ((_("Initiative"), row["name"]), (_("How it was chosen"), how), *_initiative_pairs(row, len(rows))[1:])
    return Heading(_("The chosen initiative"), keep=45), KeyValues(pairs)


def _initiative_pairs(row: dict, n: int) -> tuple[tuple[str, str], ...]:
    q = Quadrant(row["quadrant"])
    pairs = [
        (_("Initiative"), row["name"]),
        (_("Where it stands"), _("{quadrant} ({meaning}), rank {rank} of {n}").format(
            quadrant=q.label, meaning=q.meaning, rank=row["rank"], n=n)),
        (_("Effort and impact"), _("{weeks} person-weeks for {amount} a year at full scale").format(
            weeks=fmt.trimmed(row["effort_weeks"], 1), amount=fmt.yen(row["impact_yen"]))),
        (_("Confidence and reach"), _("{confidence} sure of the impact, reaching {reach} of the chain in the first "
                                      "year").format(confidence=fmt.pct(row["confidence"], 0),
                                                     reach=fmt.pct(row["reach"], 0))),
        (_("Scores"), _("RICE {rice} per person-week · ICE {ice}").format(rice=fmt.yen(row["rice"]),
                                                                          ice=fmt.count(row["ice"]))),
    ]
    if row["description"]:
        pairs.insert(1, (_("What it is"), row["description"]))
    return tuple(pairs)


def _plain(markdown: str) -> str:
    """A sentence of ``recommendation`` (Markdown: bold, names escaped by ``core.text.md``) as plain text."""
    text = re.sub(r"(?<!\\)\*\*", "", markdown).replace("  \n", "\n").replace("\u2060", "")
    return re.sub(r"\\(.)", r"\1", text)


# ---------------------------------------------------------------------------------
# The map, for print
# ---------------------------------------------------------------------------------
# Told apart by shape and fill, not colour: printed copies are often black and white.
MARKERS = {Quadrant.AIM: {"marker": "o", "facecolor": "#1a1a1a", "edgecolor": "#1a1a1a"},
           Quadrant.START: {"marker": "o", "facecolor": "white", "edgecolor": "#1a1a1a"},
           Quadrant.WAIT: {"marker": "s", "facecolor": "#8c8c8c", "edgecolor": "#1a1a1a"},
           Quadrant.DOUBT: {"marker": "X", "facecolor": "#595959", "edgecolor": "#595959"}}
AIM_FILL = "#ececec"


def _size(reach: float) -> float:
    return 22 + 110 * reach  # points², as the page's marker grows with reach


def map_png(rows: list[dict], thresholds: Thresholds, chosen_key: str | None = None,
            width_mm: float = MAP_WIDTH, height_mm: float = MAP_HEIGHT) -> bytes:
    """The initiatives on effort (x, log) against impact (y, log), each numbered by rank
    and named, the quadrants split at the thresholds and named in their corners, the aim
    quadrant shaded; the chosen one ringed and its name in bold."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    from core.plotting import yen_tick

    with charts.style():
        fig, (ax,) = charts.figure(width_mm, height_mm)
        efforts = [r["effort_weeks"] for r in rows] + [thresholds.effort_weeks]
        impacts = [max(r["impact_yen"], 1e5) for r in rows] + [thresholds.impact_yen]
        x0, x1 = math.log10(min(efforts)) - 0.3, math.log10(max(efforts)) + 0.35
        y0, y1 = math.log10(min(impacts)) - 0.45, math.log10(max(impacts)) + 0.5
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(10 ** x0, 10 ** x1)
        ax.set_ylim(10 ** y0, 10 ** y1)
        ax.axvspan(10 ** x0, thresholds.effort_weeks, ymin=(math.log10(thresholds.impact_yen) - y0) / (y1 - y0),
                   ymax=1, color=AIM_FILL, zorder=0, linewidth=0)
        ax.axvline(thresholds.effort_weeks, color="#404040", linestyle=(0, (4, 3)), linewidth=0.9, zorder=1)
        ax.axhline(thresholds.impact_yen, color="#404040", linestyle=(0, (4, 3)), linewidth=0.9, zorder=1)
        ax.xaxis.set_major_locator(FixedLocator(_ticks(x0, x1)))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.trimmed(v, 1)))
        ax.yaxis.set_major_locator(FixedLocator(_ticks(y0, y1)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: yen_tick(v)))
        ax.grid(color=charts.GRID, linewidth=0.5, zorder=0)
        ax.set_axisbelow(True)
        ax.set_xlabel(_("Effort (person-weeks, log scale)"))
        ax.set_ylabel(_("Impact (¥ per year, log scale)"))
        charts.title(ax, _("Effort against impact: start where effort is little and impact large"), width_mm)
        corners = {Quadrant.AIM: (0.012, 0.985, "left", "top"), Quadrant.WAIT: (0.988, 0.985, "right", "top"),
                   Quadrant.START: (0.012, 0.015, "left", "bottom"), Quadrant.DOUBT: (0.988, 0.015, "right", "bottom")}
        obstacles = []
        for q, (x, y, ha, va) in corners.items():
            name = ax.text(x, y, f"{q.label}\n{q.meaning}", transform=ax.transAxes, ha=ha, va=va, fontsize=7.5,
                           color=charts.INK if q is Quadrant.AIM else charts.MUTED, zorder=3, linespacing=1.25,
                           path_effects=_bold(charts.INK) if q is Quadrant.AIM else None)
            obstacles.append(name)
        for r in rows:
            style = MARKERS[Quadrant(r["quadrant"])]
            ax.scatter([r["effort_weeks"]], [max(r["impact_yen"], 1e5)], s=_size(r["reach"]), linewidths=0.9,
                       zorder=4, **style)
            if r["key"] == chosen_key:
                ax.scatter([r["effort_weeks"]], [max(r["impact_yen"], 1e5)], s=_size(r["reach"]) * 2.6 + 60,
                           marker="o", facecolor="none", edgecolor="#1a1a1a", linewidths=1.1, zorder=4)
        handles = [Line2D([], [], linestyle="", markersize=6.5, markeredgewidth=0.9, label=q.label,
                          marker=MARKERS[q]["marker"], markerfacecolor=MARKERS[q]["facecolor"],
                          markeredgecolor=MARKERS[q]["edgecolor"]) for q in Quadrant]
        if chosen_key and any(r["key"] == chosen_key for r in rows):
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=10, markerfacecolor="none",
                                  markeredgecolor="#1a1a1a", markeredgewidth=1.1, label=_("chosen")))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), handletextpad=0.3,
                   columnspacing=1.4)
        _label_points(fig, ax, rows, chosen_key, obstacles, thresholds)
        return charts.png(fig)


def _bold(color: str) -> list:
    """Bold without a bold face (IPAexGothic has none): the glyphs stroked as well as filled, as the PDF does."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=0.45, foreground=color)]


def _ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks inside a log10 range."""
    found = [m * 10 ** e for e in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)]
    return [t for t in found if low <= math.log10(t) <= high]


# Where a name may go around its point, nearest first: offsets in points and the text's alignment.
_PLACES = tuple((dx * d, dy * d, ha, va) for d in (1.0, 1.9, 3.0) for dx, dy, ha, va in (
    (7, 0, "left", "center"), (-7, 0, "right", "center"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
    (6, 6, "left", "bottom"), (-6, 6, "right", "bottom"), (6, -6, "left", "top"), (-6, -6, "right", "top")))


def _label_points(fig, ax, rows: list[dict], chosen_key: str | None, obstacles: list,
                  thresholds: Thresholds) -> None:
    """Each point's rank and name, put where it overlaps no other text, no marker and no
    threshold line and stays inside the axes: the nearest free place first; when none is
    free, the least crowded one, with a leader line to its point."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # the constrained layout settles the axes before the names are placed
    fig.set_layout_engine("none")
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    scale = fig.dpi / 72  # pixels a point
    taken = [t.get_window_extent(renderer).padded(2) for t in obstacles]
    split_x, split_y = ax.transData.transform((thresholds.effort_weeks, thresholds.impact_yen))
    lines = [Bbox.from_extents(split_x - 1, frame.y0, split_x + 1, frame.y1),
             Bbox.from_extents(frame.x0, split_y - 1, frame.x1, split_y + 1)]
    radii = {}
    for r in rows:
        px, py = ax.transData.transform((r["effort_weeks"], max(r["impact_yen"], 1e5)))
        radius = math.sqrt(_size(r["reach"]) * (2.6 if r["key"] == chosen_key else 1) + (
            60 if r["key"] == chosen_key else 0)) / 2  # points
        radii[r["key"]] = radius
        taken.append(Bbox.from_extents(px - radius * scale, py - radius * scale, px + radius * scale,
                                       py + radius * scale))
    for r in sorted(rows, key=lambda r: r["rank"]):
        point = (r["effort_weeks"], max(r["impact_yen"], 1e5))
        radius = radii[r["key"]]
        label = f"{r['rank']}  {_label(r['name'])}"
        weight = _bold(charts.INK) if r["key"] == chosen_key else None
        best = None
        for dx, dy, ha, va in _PLACES:
            # clear of the marker's edge, however big the marker
            offset = (dx + math.copysign(radius - 3, dx) if dx else 0, dy + math.copysign(radius - 3, dy) if dy else 0)
            text = ax.annotate(label, point, xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=7,
                               zorder=5, path_effects=weight, linespacing=1.15, annotation_clip=False)
            text.set_in_layout(False)
            box = text.get_window_extent(renderer).padded(1.5)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            crowd = (sum(_overlap(box, other) for other in taken) + sum(_overlap(box, line) for line in lines)
                     + (0 if inside else 1e9))
            if best is None or crowd < best[0]:
                if best is not None:
                    best[1].remove()
                best = (crowd, text, box)
            else:
                text.remove()
            if crowd == 0:
                break
        _crowd, text, box = best
        _leader(ax, text.get_window_extent(renderer), ax.transData.transform(point), radius * scale, 8 * scale)
        taken.append(box)


def _leader(ax, box, point, radius: float, gap: float) -> None:
    """A thin line from a name's box to the edge of its marker when they are more than
    ``gap`` apart, so that a name moved away still says whose it is (display coordinates
    in, drawn in data coordinates: the layout is settled)."""
    px, py = point
    x, y = min(max(px, box.x0), box.x1), min(max(py, box.y0), box.y1)
    length = math.hypot(px - x, py - y)
    if length <= radius + gap:
        return
    end = (px - (px - x) * (radius + 1) / length, py - (py - y) * (radius + 1) / length)
    (x0, y0), (x1, y1) = ax.transData.inverted().transform([(x, y), end])
    ax.plot([x0, x1], [y0, y1], color=charts.MUTED, linewidth=0.5, zorder=4.5)


def _label(name: str, width: int = 30) -> str:
    """A name in lines of about ``width`` Latin characters' room, broken at its spaces
    first (so that "Delivery-delay prediction 配送遅延予測" keeps its Japanese whole), and
    between characters only where one word is too long."""
    import textwrap

    lines = textwrap.wrap(name, width, break_long_words=False) or [name]
    return "\n".join(charts.fill(line, width) for line in lines)


def _overlap(a, b) -> float:
    """The area two boxes share (pixels²)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0
