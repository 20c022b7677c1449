"""What users type is text: values for Streamlit's Markdown elements.

Streamlit reads Markdown (with HTML, LaTeX, colour directives and links) in
st.markdown, st.caption, alerts, titles, toasts, widget and expander labels, radio and
segmented options and help tooltips. A name, a note or a key value from a file shown
there goes through ``md`` first, so that it reads exactly as typed and nothing in it
is interpreted: ``![x](http://…)`` fetches no image, ``<a href>`` makes no link.
Elements that take plain text — st.text, st.code, st.dataframe cells, select box
options — take the value as it is.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark lets any of them be escaped with a
# backslash, and escaping all of them also covers GFM (tables, autolinks, strikethrough)
# and Streamlit's own syntax (:red[…], :material/…:, $math$).
_PUNCTUATION = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # four spaces would make a code block
# GFM turns bare web and e-mail addresses into links after the escapes are read, so an
# invisible word joiner (U+2060) follows each place where its patterns start: http, https, www, @.
_AUTOLINK = re.compile(r"(?i)(https?(?=:)|www(?=\.)|@)")
_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as text that Streamlit's Markdown shows literally, line breaks kept."""
    text = _AUTOLINK.sub(lambda m: m.group() + _JOINER, str(value))
    text = _PUNCTUATION.sub(r"\\\1", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INDENT.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), text)
    return text.replace("\n", "  \n")
