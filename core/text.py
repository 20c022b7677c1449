"""What users type is text: names, descriptions, notes and key values from files,
made safe for each place that would otherwise interpret them.

- ``md``: Streamlit's Markdown elements (st.markdown, st.caption, alerts, titles,
  toasts, st.metric, widget, tab and expander labels, radio and segmented options,
  help tooltips). Elements that take plain text — st.text, st.code, st.dataframe
  cells, select box options — take the value as it is.
- ``chart_label``: Plotly text (titles, axis and tick labels, legend names, hover text,
  bar and marker text, annotations), which reads a subset of HTML.
- ``csv_bytes``: a table for a CSV download, formula-leading cells neutralised.

Core builds no page, but some of its sentences are Markdown (``recommendation``), so
the escaping lives here, with no Streamlit in sight.
"""

from __future__ import annotations

import re

import pandas as pd

# Characters that open Markdown, GFM or Streamlit syntax wherever they stand: code,
# emphasis, links and images, HTML and entities, headings, tables, strikethrough,
# LaTeX, and :directives[…], :emoji: and :material/icons:. Each is backslash-escaped,
# which CommonMark reads as the character itself.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~$&:])")
# …and those that open a block only at the start of a line: lists, setext headings,
# thematic breaks, ordered lists ("1." or "1)").
_LINE_START = re.compile(r"^([ \t]*\d*)([-+=.)])", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # four spaces would make a code block
# GFM turns bare web and e-mail addresses into links, and Streamlit :material/…: into
# icons, after the escapes are read: an invisible word joiner (U+2060) follows each
# place where their patterns start.
_AFTER_ESCAPES = re.compile(r"(?i)(https?(?=:)|www(?=\.)|@|:(?=material/))")
_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as Markdown that Streamlit shows exactly as typed, line breaks kept."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _AFTER_ESCAPES.sub(lambda m: m.group() + _JOINER, text)
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _INDENT.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), text)
    return text.replace("\n", "  \n")


def chart_label(value: object) -> str:
    """``value`` as Plotly text that reads exactly as typed. Plotly draws <b>, <br>,
    <a href> and entities in every label and fills %{…} in hover templates; the
    entities it decodes itself stand for the characters that would start either."""
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("%", "&#37;"))


def chart_labels(values: pd.Series) -> pd.Series:
    """``chart_label`` for a column of category names, keys or series labels."""
    return values.map(chart_label)


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) that a spreadsheet would run as
    a formula prefixed with a single quote, as OWASP recommends; numbers, dates and
    booleans are left as they are, so a numeric -5 stays -5 and "-5" typed as text
    becomes '-5."""

    def cell(value: object) -> object:
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value

    out = frame.rename(columns=cell)
    for column in out.columns:
        values = out[column]
        if (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
                or isinstance(values.dtype, pd.CategoricalDtype)):
            out[column] = values.astype(object).map(cell)
    return out


# Floats in a CSV: 15 significant digits, all a double holds exactly, so that 0.1 + 0.2
# is written 0.3 and not 0.30000000000000004; rounding for people is the caller's.
CSV_FLOATS = "%.15g"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as a CSV download: formula-leading text cells neutralised, floats without
    binary noise (``CSV_FLOATS``), UTF-8 with a byte-order mark so that Excel on Japanese
    Windows reads keys like 渋谷 correctly."""
    return neutralise_formulas(frame).to_csv(index=False, float_format=CSV_FLOATS).encode("utf-8-sig")
