"""A report's block on the page where its content lives: make the PDF now (the report is
snapshotted and stored as its next version), download it, and see what it shows — the
same ``core.paper.report.Report`` the PDF prints, rendered here with Streamlit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import MitoshiError
from core.i18n import _, language, using
from core.paper import report as paper
from core.paper.pdf import moment
from core.paper import store as reports
from core.reports.kinds import KINDS
from core.reports.make import file_name, make_report, report_document, report_pdf
from core.text import md
from ui.state import get_warehouse, show_error, table


def report_block(kind: str, project_id: str | None, options: dict | None = None, key: str = "",
                 help_text: str | None = None, *, title: str, caption: str) -> None:
    """The ``kind`` report of the project at the foot of its page, under a divider, ``title``
    and ``caption`` (in the reader's language): a button that makes it now from what the
    warehouse holds (``options``: the kind's own, e.g. ``{"runs": [...]}``), then a download
    of the PDF in the page's language and a preview of its sections. The newest stored
    version is offered until a new one is made."""
    st.divider()
    st.subheader(title, anchor=False)
    st.caption(caption)
    spec = KINDS[kind]
    if not project_id:
        st.caption(_("Choose a project to make its {report} report.").format(report=_(spec.title)))
        return
    warehouse = get_warehouse()
    chosen = f"report_{kind}_{key}"
    left, right = st.columns(2)
    if left.button(_("Make the {report} report").format(report=_(spec.title)), key=f"{chosen}_make",
                   icon=":material/picture_as_pdf:", width="stretch",
                   help=help_text or _("Snapshots what it shows now, as the next numbered version; A4, "
                                       "readable in black and white.")):
        with st.spinner(_("Making the report…")):
            before = reports.latest_report(warehouse, project_id, kind)
            try:
                made = make_report(warehouse, kind, project_id, options)
            except MitoshiError as error:
                show_error(error)
                return
        st.session_state[chosen] = made.report_id
        if before is not None and made.report_id == before.report_id:
            st.info(_("Nothing it shows has changed since version {version} of {when}: that version is offered.")
                    .format(version=made.version, when=moment(made.created_at.isoformat())),
                    icon=":material/info:")
    stored = None
    if st.session_state.get(chosen):
        try:
            stored = reports.get_report(warehouse, st.session_state[chosen])
        except MitoshiError:
            stored = None
    if stored is None or stored.project_id != project_id:
        stored = reports.latest_report(warehouse, project_id, kind)
    if stored is None:
        return
    shown_in = language()
    # Built when clicked, outside this script run: in the language of the page it was offered on.
    right.download_button(
        _("Download v{version} of {when}").format(version=stored.version, when=moment(stored.created_at.isoformat())),
        data=lambda: report_pdf(stored, shown_in), file_name=file_name(stored, shown_in), mime="application/pdf",
        icon=":material/download:", key=f"{chosen}_pdf_{stored.report_id}", width="stretch")
    with st.expander(_("What the {report} report v{version} shows").format(report=_(spec.title),
                                                                          version=stored.version)):
        render_report(_document(stored.report_id, shown_in))


# A stored report never changes: its sections (charts drawn) are made once per language, not on every rerun of
# the page that offers it.
@st.cache_data(show_spinner=False, max_entries=32)
def _document(report_id: str, shown_in: str) -> paper.Report:
    with using(shown_in):
        return report_document(reports.get_report(get_warehouse(), report_id))


def render_report(report: paper.Report) -> None:
    """The report's sections on the page, as the PDF prints them."""
    st.markdown(f"**{md(report.title)}**  \n{md(report.subtitle)}")
    table(pd.DataFrame(report.made_from, columns=[_("made from"), _("value")]))
    for section in report.sections:
        if isinstance(section, paper.Heading):
            st.markdown(f"#### {md(section.text)}")
        elif isinstance(section, paper.Paragraph):
            (st.caption if section.muted else st.markdown)(md(section.text))
        elif isinstance(section, paper.Bullets):
            st.markdown("\n".join(f"{i}. {md(item)}" if section.numbered else f"- {md(item)}"
                                  for i, item in enumerate(section.items, 1)) or md(section.empty or _("None.")))
        elif isinstance(section, paper.KeyValues):
            table(pd.DataFrame(section.pairs, columns=["", " "]))
        elif isinstance(section, paper.Table):
            if section.rows:
                table(pd.DataFrame(section.rows, columns=list(section.headings)))
            else:
                st.caption(md(section.empty or _("None.")))
        elif isinstance(section, paper.Figure):
            st.image(section.png, caption=section.caption or None)
        elif isinstance(section, paper.Canvas):
            for start in range(0, len(section.boxes), section.columns):
                for column, (title, text) in zip(st.columns(section.columns),
                                                 section.boxes[start:start + section.columns]):
                    with column.container(border=True):
                        st.markdown(f"**{md(title)}**  \n" + "  \n".join(md(line) for line in (text or "—").split("\n")))
