"""How a person reads a series: by what it is ("New South Wales · Cafes"), not by its id.

One function, ``series_labels``, builds the label of every series of a dataset from its
attribute columns (the static columns a dataset declares: ``DatasetSpec.attributes``,
read per series by ``core.data.explore.series_attributes``) and the names its
masters give its keys (``core.data.explore.series_names``). Pages, charts and
tables that show a series to a person use it; ids stay in the warehouse, CSVs and the CLI.

Nothing here imports Streamlit or runs SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from core.columns import DATE, SERIES_ID
from core.fmt import missing
from core.i18n import gettext, pgettext

SEP = " · "
# The generated demo chain's name for its target, as its files name it (an append matches
# it); people read it in their language (``column_label``).
DEMO_TARGET = "units sold"


def column_label(dataset, column: str) -> str:
    """A dataset column's name as people read it: the name the user's file gave it
    (``Dataset.label``), or for the generated demo chain, whose names are Mitoshi's own
    words, those words in the reader's language ("units sold" / 販売数)."""
    label = dataset.label(column)
    if getattr(dataset, "generator", None) is not None:
        if label == DEMO_TARGET:
            return gettext("units sold")
        if column == DATE and label == "date":
            return pgettext("column", "date")
    return label


def series_labels(attributes: pd.DataFrame, names: Mapping[str, str] | None = None,
                  ids: Iterable[str] | None = None) -> dict[str, str]:
    """Series id → the label a person reads.

    ``attributes``: one row per series, column ``SERIES_ID`` and the dataset's attribute
    columns in their declared order (may be only ``SERIES_ID`` when it has none).
    ``names``: series id → the name its masters give it ("S001 丸の内店 / I0001 幕の内弁当"),
    empty when no master names the keys. ``ids``: series to label besides those in
    ``attributes`` (e.g. a run's series after the dataset was deleted).

    The rule, first that applies:

    1. the attribute values joined by " · " ("New South Wales · Cafes, restaurants and
       catering services") when they tell every series of ``attributes`` apart;
    2. the master name, when there is one;
    3. the attribute values and the id in brackets ("関東 · bento (S001/I0001)"), when
       they are shared by several series;
    4. the id itself, when the series has no attribute value and no name.

    Missing attribute values are left out of the label. Returns a plain dict; an id
    absent from both inputs is absent from it, so callers use ``labels.get(id, id)``.
    """
    names = dict(names or {})
    columns = [c for c in attributes.columns if c != SERIES_ID]
    texts: dict[str, str] = {}
    for row in attributes[[SERIES_ID, *columns]].itertuples(index=False, name=None):
        series_id, values = str(row[0]), row[1:]
        texts[series_id] = SEP.join(str(v).strip() for v in values if not missing(v) and str(v).strip())
    counts = pd.Series(list(texts.values()), dtype=object).value_counts() if texts else pd.Series(dtype=int)
    unique = bool(texts) and all(text and counts[text] == 1 for text in texts.values())
    labels: dict[str, str] = {}
    for series_id in dict.fromkeys([*texts, *(str(i) for i in (ids or ()))]):
        text = texts.get(series_id, "")
        if unique and text:
            labels[series_id] = text
        elif names.get(series_id):
            labels[series_id] = names[series_id]
        elif text:
            labels[series_id] = f"{text} ({series_id})"
        else:
            labels[series_id] = series_id
    return labels
