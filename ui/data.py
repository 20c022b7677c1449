"""Importing a file on the Import page: the upload as read, the column mapping and the
repairs the user chose, and the check of every row. Reads and checks are kept in the
session, so a rerun repeats neither unless the file, mapping, repairs or name changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.columns import Freq
from core.data.importer import (
    CSV_SUFFIXES,
    ENCODINGS,
    EXCEL_SUFFIXES,
    ColumnMapping,
    ImportReport,
    RawTable,
    Repairs,
    read_table,
    suggest_mapping,
    validate,
)
from core.errors import DatasetExistsError, MitoshiError
from core.text import md
from core.warehouse import Warehouse
from ui.state import set_current_dataset, show_error, table

# Labels of the repairs a user can choose, by Repairs field and option.
REPAIR_LABELS = {
    "drop_missing_keys": "Drop rows with an empty series key",
    "drop_bad_dates": "Drop rows whose date cannot be read",
    "bad_targets": {"drop": "Drop rows with an empty or non-numeric target", "zero": "Count them as 0"},
    "negatives": {"zero": "Set negative targets to 0", "drop": "Drop rows with a negative target"},
    "fill_missing_exog": "Fill empty exogenous values with 0",
    "align_dates": "Move dates onto the period grid",
    "duplicates": {"sum": "Merge duplicates: sum", "mean": "Merge duplicates: mean", "last": "Keep the last row"},
    "fill_gaps": {"zero": "Fill missing periods with 0", "interpolate": "Interpolate missing periods"},
    "drop_short_series": "Drop series too short to backtest",
}
_RAW, _REPORT, _SUGGESTED = "import_raw", "import_report", "import_suggested"  # session keys: (cache key, value)


@dataclass(frozen=True)
class Upload:
    """An uploaded file and how it is read. The mapping and repair widgets are keyed by
    the file and its sheet, so another file or another sheet of the same workbook starts
    from fresh suggestions."""

    file: UploadedFile
    encoding: str
    sheet: str | None = None

    @property
    def read_key(self) -> tuple:
        return (self.file.file_id, self.encoding, self.sheet)

    def key(self, widget: str) -> str:
        return f"{widget}_{self.file.file_id}" + ("" if self.sheet is None else f"_{self.sheet}")

    def read(self) -> RawTable:
        """Read once per (file, encoding, sheet); a new read forgets the last check."""
        cached = st.session_state.get(_RAW)
        if cached is None or cached[0] != self.read_key:
            raw = read_table(self.file.getvalue(), self.file.name, encoding=self.encoding, sheet=self.sheet)
            st.session_state[_RAW] = (self.read_key, raw)
            st.session_state.pop(_REPORT, None)
        return st.session_state[_RAW][1]

    def suggestion(self, raw: RawTable) -> ColumnMapping:
        """Mitoshi's guess at the roles, made once per read (it parses dates and numbers of
        every column, too slow to repeat on each widget change)."""
        cached = st.session_state.get(_SUGGESTED)
        if cached is None or cached[0] != self.read_key:
            st.session_state[_SUGGESTED] = (self.read_key, suggest_mapping(raw.frame, raw.decimal_comma))
        return st.session_state[_SUGGESTED][1]

    def check(self, raw: RawTable, mapping: ColumnMapping, repairs: Repairs, name: str) -> ImportReport:
        """Validate every row once per (file, mapping, repairs, name)."""
        key = (self.read_key, mapping, repairs, name)
        cached = st.session_state.get(_REPORT)
        if cached is None or cached[0] != key:
            with st.spinner("Checking every row…"):
                st.session_state[_REPORT] = (key, validate(raw, mapping, repairs, name))
        return st.session_state[_REPORT][1]

    def chosen_repairs(self) -> Repairs:
        """The repairs ticked so far, read from their widgets' state."""
        values = {name: st.session_state.get(self.key(f"repair_{name}")) for name in REPAIR_LABELS}
        return Repairs(**{name: value for name, value in values.items() if value})


def read_upload(file: UploadedFile) -> tuple[Upload, RawTable]:
    """Ask how to read the file (encoding for CSV, sheet for an Excel book of several)
    and read it."""
    is_csv = file.name.lower().endswith(CSV_SUFFIXES)
    is_excel = file.name.lower().endswith(EXCEL_SUFFIXES)
    a, b = st.columns(2)
    encoding = a.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key="encoding",
                           disabled=not is_csv)
    upload = Upload(file, encoding)
    raw = upload.read()
    if is_excel and len(raw.sheets) > 1:
        upload = replace(upload, sheet=b.selectbox("Sheet", raw.sheets, key="sheet"))
        raw = upload.read()
    return upload, raw


def preview(raw: RawTable) -> None:
    st.caption(f"{md(raw.file_name)}: {len(raw.frame):,} rows × {len(raw.frame.columns)} columns"
               + (f" · read as {ENCODINGS[raw.encoding]}" if raw.encoding else ""))
    # A cell the file leaves empty is shown empty, as in the file (Streamlit's own placeholder is "None").
    st.dataframe(raw.frame.head(20), hide_index=True, width="stretch", placeholder="")


def mapping_form(upload: Upload, raw: RawTable) -> ColumnMapping:
    """What each column means, starting from Mitoshi's guess."""
    suggestion = upload.suggestion(raw)
    key = upload.key
    columns = list(raw.frame.columns)
    optional = [None, *columns]
    st.markdown("**2 · Say what each column means.** Mitoshi guessed; correct what is wrong. Columns with no "
                "role are not imported.")
    a, b, c = st.columns(3)
    keys = a.multiselect("Series key (one or more)", columns, default=list(suggestion.keys), key=key("keys"),
                         help="Columns that together identify one series, e.g. store and item.")
    date = b.selectbox("Date", columns, index=columns.index(suggestion.date), key=key("date"))
    target = c.selectbox("Target (what to forecast)", columns, index=columns.index(suggestion.target),
                         key=key("target"), help="Units sold, or sales amount.")
    a, b, c = st.columns(3)
    attributes = a.multiselect("Series attributes", columns, default=list(suggestion.attributes), key=key("attr"),
                               help="Constant within a series (category, region): used to group results.")
    known = b.multiselect("Exogenous, known in advance", columns, default=list(suggestion.exog_known),
                          key=key("known"), help="Planned price, promotion, holiday: known before the day comes.")
    unknown = c.multiselect("Exogenous, not known in advance", columns, default=list(suggestion.exog_unknown),
                            key=key("unknown"), help="Only observed after the fact (weather, footfall).")
    a, b, c = st.columns(3)
    stockout = a.selectbox("Stockout flag (optional)", optional, index=optional.index(suggestion.stockout),
                           key=key("stockout"), format_func=lambda v: "—" if v is None else v,
                           help="1 where the shelf ran empty, so sales understate demand.")
    orders = b.selectbox("Today's orders (optional)", optional, index=optional.index(suggestion.orders),
                         key=key("orders"), format_func=lambda v: "—" if v is None else v,
                         help="Units ordered for that date by today's practice.")
    freq = c.selectbox("Frequency", [None, *Freq], key=key("freq"),
                       format_func=lambda f: "infer from the dates" if f is None else f.label)
    return ColumnMapping(
        keys=tuple(keys), date=date, target=target, attributes=tuple(attributes), exog_known=tuple(known),
        exog_unknown=tuple(unknown), stockout=stockout, orders=orders, freq=freq,
    )


def repairs_form(upload: Upload, report: ImportReport, chosen: Repairs) -> None:
    """Offer a repair for each problem that has one, and keep showing those already ticked."""
    wanted = {p.repair for p in report.problems if p.repair}
    offered = [name for name in REPAIR_LABELS if name in wanted or getattr(chosen, name)]
    if offered:
        st.markdown("**3 · Repairs** — nothing is changed unless you choose it here.")
    for name in offered:
        labels = REPAIR_LABELS[name]
        if isinstance(labels, str):
            st.checkbox(labels, key=upload.key(f"repair_{name}"))
        else:
            options = [None, *labels]
            st.radio(
                name.replace("_", " ").capitalize(), options,
                format_func=lambda o, labels=labels: "Do not repair (block the import)" if o is None else labels[o],
                key=upload.key(f"repair_{name}"), horizontal=True,
            )


def report_outcome(report: ImportReport) -> None:
    """What blocks the import, what was repaired, or that it is ready."""
    if report.problems:
        repairable = any(p.repair for p in report.problems)
        st.error(f"{len(report.problems)} problem(s) block the import. Each says how to fix it"
                 + ("; repairs you can choose appear above." if repairable else ".")
                 + " Others may show once these are fixed: the file is checked step by step.",
                 icon=":material/block:")
        for problem in report.problems:
            with st.container(border=True):
                st.markdown(f"**{md(problem.message)}**")
                if not problem.examples.empty:
                    table(problem.examples)
    for note in report.notes:
        st.info(md(note), icon=":material/build:")
    if report.ok:
        info = report.info
        st.success(f"Ready: {info['series']:,} {info['frequency']} series, {info['rows']:,} rows, "
                   f"{info['start']} → {info['end']}.", icon=":material/check_circle:")


def import_button(warehouse: Warehouse, upload: Upload, report: ImportReport) -> None:
    """The Import button: writes the checked frame as a new dataset and makes it current."""
    if not st.button("Import", type="primary", disabled=not report.ok, key=upload.key("import")):
        return
    try:
        with st.status("Importing…", expanded=True) as status:
            st.write("Writing the dataset to the warehouse in one transaction…")
            started = time.perf_counter()
            dataset = warehouse.create_dataset(report.spec, report.frame, notes=report.notes)
            status.update(label=f"Imported '{md(dataset.name)}' in {time.perf_counter() - started:.1f} s",
                          state="complete")
        set_current_dataset(dataset.dataset_id)
        st.success(f"'{md(dataset.name)}' is in the warehouse: {dataset.n_series:,} series, "
                   f"{dataset.n_rows:,} rows.")
        st.page_link("pages/data.py", label="Explore it on the Data page", icon=":material/monitoring:")
    except DatasetExistsError:
        st.error(name_taken(report.spec.name, "**Dataset name** above"), icon=":material/error:")
    except MitoshiError as error:
        show_error(error)


def name_taken(name: str, field: str) -> str:
    """A clash of dataset names, pointing to controls on this page: the name ``field`` and
    the delete on the Manage datasets tab."""
    return (f"A dataset called '{md(name.strip())}' already exists. Type another name in {field}, or delete the "
            "old one on the **Manage datasets** tab of this page (tick 'Yes, delete it', then **Delete**) and "
            "import again.")
