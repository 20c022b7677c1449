"""Importing a file on the Import page: the upload as read, the column mapping and the
repairs the user chose, and the check of every row. Reads and checks are kept in the
session, so a rerun repeats neither unless the file, mapping, repairs or name changed.

Appending a file of new rows to a stored dataset (``append_section``) reads and repairs
the same way; its check is ``core.data.importer.validate_append``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.columns import Freq
from core.data.importer import (
    CSV_SUFFIXES,
    ENCODINGS,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    AppendReport,
    ColumnMapping,
    ImportReport,
    RawTable,
    Repairs,
    read_table,
    suggest_mapping,
    validate,
    validate_append,
)
from core.errors import AppendOverlapError, DatasetExistsError, MitoshiError
from core.text import md
from core.warehouse import Appended, Dataset, Warehouse
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
# File types the uploaders take (".csv.gz" is offered as "gz").
UPLOAD_TYPES = [*(s.lstrip(".") for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES) if s.count(".") == 1),
                "gz"]


@dataclass(frozen=True)
class Upload:
    """An uploaded file and how it is read. The mapping and repair widgets are keyed by
    the file and its sheet, so another file or another sheet of the same workbook starts
    from fresh suggestions. ``slot`` names the uploader ("import" or "append"), whose
    reads and checks are kept apart in the session."""

    file: UploadedFile
    encoding: str
    sheet: str | None = None
    slot: str = "import"

    def _state(self, what: str) -> str:
        """Session key of one kept result: (cache key, value)."""
        return f"{self.slot}_{what}"

    @property
    def read_key(self) -> tuple:
        return (self.file.file_id, self.encoding, self.sheet)

    def key(self, widget: str) -> str:
        return f"{widget}_{self.file.file_id}" + ("" if self.sheet is None else f"_{self.sheet}")

    def read(self) -> RawTable:
        """Read once per (file, encoding, sheet); a new read forgets the last check."""
        cached = st.session_state.get(self._state("raw"))
        if cached is None or cached[0] != self.read_key:
            raw = read_table(self.file.getvalue(), self.file.name, encoding=self.encoding, sheet=self.sheet)
            st.session_state[self._state("raw")] = (self.read_key, raw)
            st.session_state.pop(self._state("report"), None)
        return st.session_state[self._state("raw")][1]

    def suggestion(self, raw: RawTable) -> ColumnMapping:
        """Mitoshi's guess at the roles, made once per read (it parses dates and numbers of
        every column, too slow to repeat on each widget change)."""
        cached = st.session_state.get(self._state("suggested"))
        if cached is None or cached[0] != self.read_key:
            st.session_state[self._state("suggested")] = (self.read_key, suggest_mapping(raw.frame, raw.decimal_comma))
        return st.session_state[self._state("suggested")][1]

    def check(self, raw: RawTable, mapping: ColumnMapping, repairs: Repairs, name: str) -> ImportReport:
        """Validate every row once per (file, mapping, repairs, name)."""
        key = (self.read_key, mapping, repairs, name)
        cached = st.session_state.get(self._state("report"))
        if cached is None or cached[0] != key:
            with st.spinner("Checking every row…"):
                st.session_state[self._state("report")] = (key, validate(raw, mapping, repairs, name))
        return st.session_state[self._state("report")][1]

    def check_append(self, warehouse: Warehouse, dataset: Dataset, raw: RawTable, repairs: Repairs) -> AppendReport:
        """Validate every row as new rows of ``dataset`` once per (file, dataset as stored
        now, repairs): an append to the dataset changes its fingerprint, so the overlap
        is counted again."""
        key = (self.read_key, dataset.dataset_id, dataset.fingerprint, repairs)
        cached = st.session_state.get(self._state("report"))
        if cached is None or cached[0] != key:
            with st.spinner(f"Checking every row against '{md(dataset.name)}'…"):
                st.session_state[self._state("report")] = (key, validate_append(warehouse, dataset, raw, repairs))
        return st.session_state[self._state("report")][1]

    def chosen_repairs(self) -> Repairs:
        """The repairs ticked so far, read from their widgets' state."""
        values = {name: st.session_state.get(self.key(f"repair_{name}")) for name in REPAIR_LABELS}
        return Repairs(**{name: value for name, value in values.items() if value})


def read_upload(file: UploadedFile, slot: str = "import") -> tuple[Upload, RawTable]:
    """Ask how to read the file (encoding for CSV, sheet for an Excel book of several)
    and read it. ``slot`` keeps each uploader's widgets and reads apart."""
    is_csv = file.name.lower().endswith(CSV_SUFFIXES)
    is_excel = file.name.lower().endswith(EXCEL_SUFFIXES)
    prefix = "" if slot == "import" else f"{slot}_"
    a, b = st.columns(2)
    encoding = a.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key=f"{prefix}encoding",
                           disabled=not is_csv)
    upload = Upload(file, encoding, slot=slot)
    raw = upload.read()
    if is_excel and len(raw.sheets) > 1:
        upload = replace(upload, sheet=b.selectbox("Sheet", raw.sheets, key=f"{prefix}sheet"))
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


def repairs_form(upload: Upload, report: ImportReport | AppendReport, chosen: Repairs,
                 heading: str = "**3 · Repairs**") -> None:
    """Offer a repair for each problem that has one, and keep showing those already ticked."""
    wanted = {p.repair for p in report.problems if p.repair}
    offered = [name for name in REPAIR_LABELS if name in wanted or getattr(chosen, name)]
    if offered:
        st.markdown(f"{heading} — nothing is changed unless you choose it here.")
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
    _problems_and_notes(report, "import")
    if report.ok:
        info = report.info
        st.success(f"Ready: {info['series']:,} {info['frequency']} series, {info['rows']:,} rows, "
                   f"{info['start']} → {info['end']}.", icon=":material/check_circle:")


def _problems_and_notes(report: ImportReport | AppendReport, what: str) -> None:
    """Each problem with its example rows (``what`` blocks: "import" or "append"), then
    what the repairs and the reading did."""
    if report.problems:
        repairable = any(p.repair for p in report.problems)
        st.error(f"{len(report.problems)} problem(s) block the {what}. Each says how to fix it"
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


# ---------------------------------------------------------------------------------
# Appending rows to a stored dataset
# ---------------------------------------------------------------------------------
_DONE = "append_done"  # session key: (dataset_id, file id or None for the demo, Appended) of the last append
OVERLAP_CHOICES = {"refuse": "Refuse (append only if nothing overlaps)",
                   "replace": "Replace the stored rows for those dates"}


def _code(name: str) -> str:
    """A column name as inline code: read literally there, so not escaped for Markdown (an
    escaped underscore would show its backslash); only a backtick could end the span."""
    return "`" + str(name).replace("`", "'") + "`"


def append_section(warehouse: Warehouse) -> None:
    """Pick a dataset, upload a file of new rows, see what the append will do (rows,
    series, new series, dates, overlap with stored dates), choose what overlapping dates
    do, append; then what was appended and the dataset's appends so far. A generated demo
    chain can also be extended by some days from its generator."""
    datasets = warehouse.list_datasets()
    if not datasets:
        st.info("No dataset yet: import a file or generate a demo chain first.")
        return
    names = {d.dataset_id: d.name for d in datasets}
    ids = list(names)
    current = st.session_state.get("dataset_id")
    dataset_id = st.selectbox("Dataset to append to", ids, index=ids.index(current) if current in ids else len(ids) - 1,
                              format_func=names.get, key="append_dataset")
    dataset = warehouse.get_dataset(dataset_id)
    spec = dataset.spec
    shown = [spec.original_names.get(c, c) for c in (*spec.keys, "ds", "y", *spec.value_columns())
             if c not in spec.attributes]
    st.caption(f"**{md(dataset.name)}**: {dataset.freq.label}, {dataset.start_date:%Y-%m-%d} → "
               f"{dataset.end_date:%Y-%m-%d}, {dataset.n_series:,} series, {dataset.n_rows:,} rows. A file of new rows "
               f"needs its columns {', '.join(_code(c) for c in shown)}"
               + (f" (and {', '.join(_code(spec.original_names.get(c, c)) for c in spec.attributes)} for "
                  "series new to the dataset)" if spec.attributes else "")
               + "; other columns are ignored. Nothing changes until you press **Append**.")
    _last_append(dataset)
    if dataset.generator is not None:
        _extend_demo_form(warehouse, dataset)
    file = st.file_uploader("**Choose a file of new rows**", type=UPLOAD_TYPES, key="append_upload")
    if file is not None:
        _append_file(warehouse, dataset, file)
    _appends_history(warehouse, dataset)


def _append_file(warehouse: Warehouse, dataset: Dataset, file: UploadedFile) -> None:
    done = st.session_state.get(_DONE)
    if done is not None and done[:2] == (dataset.dataset_id, file.file_id):
        st.caption("This file has been appended (above). Choose another file to append more.")
        return
    try:
        upload, raw = read_upload(file, slot="append")
        preview(raw)
        repairs = upload.chosen_repairs()
        report = upload.check_append(warehouse, dataset, raw, repairs)
        repairs_form(upload, report, repairs, heading="**Repairs**")
    except MitoshiError as error:
        show_error(error)
        return
    _problems_and_notes(report, "append")
    for warning in report.warnings:
        st.warning(md(warning), icon=":material/warning:")
    if not report.ok:
        return
    info = report.info
    new = f", {info['new_series']:,} of them new to the dataset" if info["new_series"] else ""
    st.success(f"Ready to append {info['rows']:,} {info['frequency']} rows of {info['series']:,} series{new}, "
               f"{info['start']:%Y-%m-%d} → {info['end']:%Y-%m-%d}.", icon=":material/check_circle:")
    replace_rows = False
    if info["overlap"]:
        changed = (f"; {info['overlap_changed']:,} of them with another value than the stored one"
                   if info["overlap_changed"] else "; all with the values already stored")
        st.warning(f"{info['overlap']:,} of these rows have a series and date the dataset already holds "
                   f"({info['overlap_first']:%Y-%m-%d} → {info['overlap_last']:%Y-%m-%d}){changed}.",
                   icon=":material/warning:")
        choice = st.radio("When dates overlap", list(OVERLAP_CHOICES), format_func=OVERLAP_CHOICES.get,
                          key=upload.key("append_overlap"))
        replace_rows = choice == "replace"
    blocked = bool(info["overlap"]) and not replace_rows
    if blocked:
        st.caption("Nothing is appended while rows overlap and you refuse them: remove the overlapping dates from "
                   "the file, or choose to replace the stored rows.")
    if not st.button("Append", type="primary", disabled=blocked, key=upload.key("append")):
        return
    try:
        with st.status(f"Appending to '{md(dataset.name)}'…", expanded=True) as status:
            st.write("Writing the rows in one transaction" + (" (the stored rows of those dates are replaced)…"
                                                             if replace_rows else "…"))
            started = time.perf_counter()
            appended = warehouse.append_rows(dataset.dataset_id, report.frame, replace=replace_rows,
                                             source=f"appended: {raw.file_name}")
            status.update(label=f"Appended in {time.perf_counter() - started:.1f} s", state="complete")
    except AppendOverlapError as error:  # the dataset changed since the check (another tab, the command line)
        show_error(error)
        return
    except MitoshiError as error:
        show_error(error)
        return
    _appended(dataset.dataset_id, file.file_id, appended)


def _appended(dataset_id: str, file_id: str | None, appended: Appended) -> None:
    """Remember the append for the next run, which shows it. (The pages' cached reads are keyed
    by the dataset's fingerprint, which the append changed: nothing to forget.)"""
    set_current_dataset(dataset_id)
    st.session_state[_DONE] = (dataset_id, file_id, appended)
    st.rerun()


def _last_append(dataset: Dataset) -> None:
    """What the last append of this session did to ``dataset``."""
    done = st.session_state.get(_DONE)
    if done is None or done[0] != dataset.dataset_id:
        return
    appended: Appended = done[2]
    after = appended.dataset
    new = f" ({appended.n_new_series:,} new)" if appended.n_new_series else ""
    replaced = f", replacing {appended.n_replaced:,} stored rows" if appended.n_replaced else ""
    st.success(f"Appended {appended.n_rows:,} rows of {appended.n_series:,} series{new}, "
               f"{appended.start_date:%Y-%m-%d} → {appended.end_date:%Y-%m-%d}{replaced}. '{md(after.name)}' now has "
               f"{after.n_rows:,} rows of {after.n_series:,} series, {after.start_date:%Y-%m-%d} → "
               f"{after.end_date:%Y-%m-%d}.", icon=":material/check_circle:")


def _extend_demo_form(warehouse: Warehouse, dataset: Dataset) -> None:
    """Continue a generated chain's world from its seed for some more days."""
    from core.data.demo import MAX_EXTEND_DAYS, extend_demo

    with st.container(border=True):
        st.markdown("**Extend the demo chain.** The generator continues the same stores, items, prices, promotions "
                    "and demand from the day after the last date, as if the chain had kept trading.")
        a, b = st.columns([1, 2], vertical_alignment="bottom")
        days = int(a.number_input("Days", 1, MAX_EXTEND_DAYS, 7, key="extend_days"))
        if not b.button(f"Extend the demo chain by {days} day{'s' if days != 1 else ''}", key="extend_demo"):
            return
        try:
            with st.status(f"Simulating {days} more day(s) of {dataset.n_series:,} series…", expanded=True) as status:
                started = time.perf_counter()
                appended = extend_demo(warehouse, dataset.dataset_id, days)
                status.update(label=f"Extended in {time.perf_counter() - started:.1f} s", state="complete")
        except MitoshiError as error:
            show_error(error)
            return
    _appended(dataset.dataset_id, None, appended)


def _appends_history(warehouse: Warehouse, dataset: Dataset) -> None:
    history = warehouse.list_appends(dataset.dataset_id)
    st.markdown(f"**Appends to {md(dataset.name)}**")
    if history.empty:
        st.caption("None yet: the dataset has the rows it was imported (or generated) with.")
        return
    table(pd.DataFrame({
        "Appended at": pd.to_datetime(history["created_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        "Source": history["source"],
        "From": pd.to_datetime(history["start_date"]),
        "To": pd.to_datetime(history["end_date"]),
        "Rows": history["n_rows"],
        "Replaced": history["n_replaced"],
        "Series": history["n_series"],
        "New series": history["n_new_series"],
    }))
