"""What a page shows in Japanese that is still English (issue 15).

``english_left(at)`` walks an AppTest's element tree — text, labels, help, options,
metric values, table headers, chart titles, axes, legends and annotations — and returns
every piece that reads as English: an English catalog message shown as it is, or words
of English that no catalog holds (a string never marked for translation). Names that
stay in every language (LightGBM, WAPE, file formats, the demo chain's own data) are
allowed; so are identifiers (``store_id``), codes and numbers.
"""

from __future__ import annotations

import io
import json
import re
from functools import cache

from core.i18n import SOURCE, catalog

# Names and terms that stay as they are in Japanese text (the issue: "model names such as
# LightGBM and metric names such as WAPE may stay").
ALLOWED = {
    # product, talk, formats and tools
    "mitoshi", "ai", "shop", "poc", "ml", "kpi", "go", "no-go", "nogo", "csv", "parquet", "excel", "xlsx", "xls",
    "ods", "pdf", "json", "duckdb", "sql", "url", "id", "ids", "pos", "sku", "api", "cli", "utf", "bom", "iso",
    "developers", "summit", "dask", "streamlit", "python", "plotly", "mlflow", "nixtla", "tsv", "txt", "gz", "zip",
    "rice", "ice", "did", "aicc", "aic", "irls", "qa", "it", "sla", "roi", "yoy", "jan", "pilot_id", "http", "https",
    # models and methods
    "lightgbm", "gbdt", "ets", "theta", "glm", "arima", "poisson", "tweedie", "croston", "naive", "snaive", "ma",
    "lgbm", "comb", "holt", "winters", "ols", "ridge", "newsvendor", "conformal", "bootstrap", "statsmodels",
    # metrics
    "wape", "mase", "smape", "rmsse", "mae", "rmse", "mape", "bias", "pinball", "smd", "mde", "cr1",
    # units and marks
    "pp", "vs", "e.g", "i.e", "etc", "max", "min",
}
# The demo chain's own data (category values, the dataset's name) and the language switch.
DATA_WORDS = {"bento", "bread", "dairy", "hot", "food", "grocery", "beverages", "daily", "goods", "demo", "chain",
              "english", "language"}

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
_STRIP = re.compile(r"`[^`]*`|https?://\S+|\S+@\S+|\b\w+\.(?:csv|parquet|xlsx|xls|pdf|json|duckdb|py|md)\b"
                    r"|:material/[a-z_]+:|\$\$ID-\S+|\b[a-z]+_[a-z_0-9]+\b|\b[A-Za-z]*\d[\w\-]*\b|--[a-z\-]+")
# Proto fields that hold what a person reads.
TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "content", "caption", "value", "text", "title",
               "default_value", "message"}
SKIPPED_TYPES = {"code", "html", "exception", "json", "empty", "balloons", "snow", "toast"}


@cache
def _english_messages() -> frozenset[str]:
    """English messages the Japanese catalog translates otherwise."""
    found = set()
    for (context, msgid), translated in catalog("ja").items():
        forms = translated if isinstance(translated, tuple) else (translated,)
        if msgid not in forms and not re.fullmatch(r"[\W\d_]*", msgid):
            found.add(msgid)
    return frozenset(found)


def english_words(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """The words of ``text`` that read as English prose, after names that stay are
    removed. Empty when the text is Japanese, a name, a number or an identifier."""
    text = _STRIP.sub(" ", str(text))
    words = [w for w in _WORD.findall(text)
             if w.lower().strip("'’-") not in ALLOWED | DATA_WORDS | {a.lower() for a in allowed}
             and not (w.isupper() and len(w) <= 5)]  # acronyms: WAPE, KPI, S001 codes
    return [w for w in words if len(w) >= 3 or any(c.islower() for c in w) and len(words) > 1]


def _plotly_texts(spec: str) -> list[str]:
    figure = json.loads(spec)
    out: list[str] = []
    layout = figure.get("layout", {})

    def title(obj) -> None:
        if isinstance(obj, dict):
            t = obj.get("title")
            if isinstance(t, dict):
                out.append(t.get("text") or "")
            elif isinstance(t, str):
                out.append(t)

    title(layout)
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis", "legend", "coloraxis")):
            title(value)
            if isinstance(value, dict):
                out += [str(t) for t in value.get("ticktext") or []]
    out += [a.get("text", "") for a in layout.get("annotations", []) or []]
    for trace in figure.get("data", []):
        if trace.get("showlegend", True) is not False:
            out.append(str(trace.get("name") or ""))
        for key in ("text", "hovertemplate"):
            value = trace.get(key)
            if isinstance(value, str):
                out.append(re.sub(r"%\{[^}]*\}|<extra>.*?</extra>|<[^>]+>", " ", value))
        if trace.get("type") in ("table",):
            out += [str(v) for v in (trace.get("header", {}).get("values") or [])]
    return out


def _table_headers(data: bytes) -> list[str]:
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(io.BytesIO(data)).read_all()
    except Exception:  # noqa: BLE001 - not an Arrow stream
        return []
    return [str(c) for c in table.column_names if not str(c).startswith("__index_level")]


def shown_texts(at) -> list[str]:
    """Every piece of text the AppTest's last run shows, in tree order."""
    texts: list[str] = []

    def from_proto(proto, name: str = "") -> None:
        for descriptor, value in proto.ListFields():
            field = descriptor.name
            if descriptor.type == descriptor.TYPE_MESSAGE:
                items = value if descriptor.is_repeated else [value]
                for item in items:
                    from_proto(item, field)
            elif field == "spec" and isinstance(value, str):
                texts.extend(_plotly_texts(value))
            elif field == "data" and isinstance(value, bytes):
                texts.extend(_table_headers(value))
            elif field in TEXT_FIELDS or name in ("options",):
                if isinstance(value, str):
                    texts.append(value)
                elif descriptor.is_repeated:
                    texts.extend(v for v in value if isinstance(v, str))

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is not None and kind not in SKIPPED_TYPES:
            from_proto(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [t for t in texts if t and t.strip()]


def english_left(at, allowed: set[str] = frozenset()) -> list[str]:
    """The texts of the AppTest's page that are still English, each with its words."""
    messages = _english_messages()
    left = []
    for text in shown_texts(at):
        plain = re.sub(r"<[^>]+>|:(?:red|green|orange|blue|violet|gray|grey|rainbow|primary)(?:-background)?\[|&nbsp;",
                       " ", text.replace("\\", "").replace("**", "")).strip()
        if plain in messages or text in messages:
            left.append(f"{text!r}: an English catalog message shown as it is")
            continue
        words = english_words(plain, allowed)
        if len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 4 and words[0][0].isupper() and len(plain) < 40
                               and words[0] == plain.strip(" :.")):
            left.append(f"{text[:160]!r}: {' '.join(words[:12])}")
    return left


assert SOURCE == "en"
