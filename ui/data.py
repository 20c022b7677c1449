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

from core import fmt
from core.columns import Freq
from core.data.importer import (
    CSV_SUFFIXES,
    ENCODINGS,
    EXAMPLE_COLUMNS,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    AppendReport,
    ColumnMapping,
    ImportReport,
    RawTable,
    Repairs,
    appended_source,
    read_table,
    suggest_mapping,
    validate,
    validate_append,
)
from core.errors import AppendOverlapError, DatasetExistsError, MitoshiError
from core.i18n import N_, _, ngettext, render
from core.text import md
from core.warehouse import Appended, Dataset, Warehouse
from ui.state import set_current_dataset, show_error, table

# Labels of the repairs a user can choose, by Repairs field and option (translated where shown).
REPAIR_LABELS = {
    "drop_missing_keys": N_("Drop rows with an empty series key"),
    "drop_bad_dates": N_("Drop rows whose date cannot be read"),
    "bad_targets": {"drop": N_("Drop rows with an empty or non-numeric target"), "zero": N_("Count them as 0")},
    "negatives": {"zero": N_("Set negative targets to 0"), "drop": N_("Drop rows with a negative target")},
    "fill_missing_exog": N_("Fill empty exogenous values with 0"),
    "align_dates": N_("Move dates onto the period grid"),
    "duplicates": {"sum": N_("Merge duplicates: sum"), "mean": N_("Merge duplicates: mean"),
                   "last": N_("Keep the last row")},
    "fill_gaps": {"zero": N_("Fill missing periods with 0"), "interpolate": N_("Interpolate missing periods")},
    "drop_short_series": N_("Drop series too short to backtest"),
    "aggregates": {"drop": N_("Leave out the series that are sums of others"),
                   "keep": N_("Keep them (totals count their sales twice)")},
}
# The heading of a repair with several options.
REPAIR_TITLES = {"bad_targets": N_("Bad targets"), "negatives": N_("Negatives"), "duplicates": N_("Duplicates"),
                 "fill_gaps": N_("Fill gaps"), "aggregates": N_("Series that are sums of others")}
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
            with st.spinner(_("Checking every row…")):
                st.session_state[self._state("report")] = (key, validate(raw, mapping, repairs, name))
        return st.session_state[self._state("report")][1]

    def check_append(self, warehouse: Warehouse, dataset: Dataset, raw: RawTable, repairs: Repairs) -> AppendReport:
        """Validate every row as new rows of ``dataset`` once per (file, dataset as stored
        now, repairs): an append to the dataset changes its fingerprint, so the overlap
        is counted again."""
        key = (self.read_key, dataset.dataset_id, dataset.fingerprint, repairs)
        cached = st.session_state.get(self._state("report"))
        if cached is None or cached[0] != key:
            with st.spinner(_("Checking every row against '{name}'…").format(name=md(dataset.name))):
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
    # Labels translated now, in the run's language (a format_func may be called outside the run).
    encodings = {key: _(label) for key, label in ENCODINGS.items()}
    encoding = a.selectbox(_("Text encoding"), list(ENCODINGS), format_func=encodings.get,
                           key=f"{prefix}encoding", disabled=not is_csv)
    upload = Upload(file, encoding, slot=slot)
    raw = upload.read()
    if is_excel and len(raw.sheets) > 1:
        upload = replace(upload, sheet=b.selectbox(_("Sheet"), raw.sheets, key=f"{prefix}sheet"))
        raw = upload.read()
    return upload, raw


def preview(raw: RawTable) -> None:
    if raw.encoding:
        st.caption(_("{file}: {rows:,} rows × {columns} columns · read as {encoding}").format(
            file=md(raw.file_name), rows=len(raw.frame), columns=len(raw.frame.columns),
            encoding=_(ENCODINGS[raw.encoding])))
    else:
        st.caption(_("{file}: {rows:,} rows × {columns} columns").format(
            file=md(raw.file_name), rows=len(raw.frame), columns=len(raw.frame.columns)))
    # A cell the file leaves empty is shown empty, as in the file (Streamlit's own placeholder is "None").
    st.dataframe(raw.frame.head(20), hide_index=True, width="stretch", placeholder="")


def mapping_form(upload: Upload, raw: RawTable) -> ColumnMapping:
    """What each column means, starting from Mitoshi's guess."""
    suggestion = upload.suggestion(raw)
    key = upload.key
    columns = list(raw.frame.columns)
    optional = [None, *columns]
    st.markdown(_("**2 · Say what each column means.** Mitoshi guessed; correct what is wrong. Columns with no "
                  "role are not imported."))
    a, b, c = st.columns(3)
    keys = a.multiselect(_("Series key (one or more)"), columns, default=list(suggestion.keys), key=key("keys"),
                         help=_("Columns that together identify one series, e.g. store and item."),
                         placeholder=_("Choose columns"))
    date = b.selectbox(_("Date"), columns, index=columns.index(suggestion.date), key=key("date"))
    target = c.selectbox(_("Target (what to forecast)"), columns, index=columns.index(suggestion.target),
                         key=key("target"), help=_("Units sold, or sales amount."))
    a, b, c = st.columns(3)
    attributes = a.multiselect(_("Series attributes"), columns, default=list(suggestion.attributes), key=key("attr"),
                               help=_("Constant within a series (category, region): used to group results."),
                               placeholder=_("Choose columns"))
    known = b.multiselect(_("Exogenous, known in advance"), columns, default=list(suggestion.exog_known),
                          key=key("known"), help=_("Planned price, promotion, holiday: known before the day comes."),
                          placeholder=_("Choose columns"))
    unknown = c.multiselect(_("Exogenous, not known in advance"), columns, default=list(suggestion.exog_unknown),
                            key=key("unknown"), help=_("Only observed after the fact (weather, footfall)."),
                            placeholder=_("Choose columns"))
    a, b, c = st.columns(3)
    stockout = a.selectbox(_("Stockout flag (optional)"), optional, index=optional.index(suggestion.stockout),
                           key=key("stockout"), format_func=lambda v: "—" if v is None else v,
                           help=_("1 where the shelf ran empty, so sales understate demand."))
    orders = b.selectbox(_("Today's orders (optional)"), optional, index=optional.index(suggestion.orders),
                         key=key("orders"), format_func=lambda v: "—" if v is None else v,
                         help=_("Units ordered for that date by today's practice."))
    frequencies = {None: _("infer from the dates"), **{f: f.text for f in Freq}}
    freq = c.selectbox(_("Frequency"), [None, *Freq], key=key("freq"), format_func=frequencies.get)
    return ColumnMapping(
        keys=tuple(keys), date=date, target=target, attributes=tuple(attributes), exog_known=tuple(known),
        exog_unknown=tuple(unknown), stockout=stockout, orders=orders, freq=freq,
    )


def repairs_form(upload: Upload, report: ImportReport | AppendReport, chosen: Repairs, numbered: bool = True) -> None:
    """Offer a repair for each problem that has one, and keep showing those already ticked
    (``numbered``: the import's third step; the append's repairs have no number)."""
    wanted = {p.repair for p in report.problems if p.repair}
    offered = [name for name in REPAIR_LABELS if name in wanted or getattr(chosen, name)]
    if offered:
        st.markdown(_("**3 · Repairs** — nothing is changed unless you choose it here.") if numbered else
                    _("**Repairs** — nothing is changed unless you choose it here."))
    for name in offered:
        labels = REPAIR_LABELS[name]
        if isinstance(labels, str):
            st.checkbox(_(labels), key=upload.key(f"repair_{name}"))
        else:
            options = {None: _("Do not repair (block the import)"), **{o: _(label) for o, label in labels.items()}}
            st.radio(_(REPAIR_TITLES[name]), list(options), format_func=options.get, key=upload.key(f"repair_{name}"),
                     horizontal=True)


def report_outcome(report: ImportReport) -> None:
    """What blocks the import, what was repaired, or that it is ready."""
    _problems_and_notes(report, appending=False)
    if report.ok:
        info = report.info
        st.success(_("Ready: {series:,} {freq} series, {rows:,} rows, {start} → {end}.").format(
            series=info["series"], freq=report.freq.text, rows=info["rows"], start=fmt.date(info["start"]),
            end=fmt.date(info["end"])), icon=":material/check_circle:")


def _problems_and_notes(report: ImportReport | AppendReport, appending: bool) -> None:
    """Each problem with its example rows (they block the import, or the append), then
    what the repairs and the reading did. Problems and notes are messages, read here in
    the reader's language (a check kept from before a change of language reads in the new one)."""
    if report.problems:
        repairable = any(p.repair for p in report.problems)
        n = len(report.problems)
        if appending:
            blocked = (_("{n} problem(s) block the append. Each says how to fix it; repairs you can choose appear "
                         "above.") if repairable else
                       _("{n} problem(s) block the append. Each says how to fix it."))
        else:
            blocked = (_("{n} problem(s) block the import. Each says how to fix it; repairs you can choose appear "
                         "above.") if repairable else
                       _("{n} problem(s) block the import. Each says how to fix it."))
        st.error(_sentences(blocked.format(n=n), _("Others may show once these are fixed: the file is checked step "
                                                   "by step.")), icon=":material/block:")
        for problem in report.problems:
            with st.container(border=True):
                st.markdown(f"**{md(problem.message)}**")
                if not problem.examples.empty:
                    table(problem.examples.rename(columns=_example_header))
    for note in report.notes:
        st.info(md(note), icon=":material/build:")


def _sentences(first: str, second: str) -> str:
    """Two sentences one after the other: a space between them in English, none in Japanese."""
    return _("{sentence} {next}").format(sentence=first, next=second)


def _example_header(column: object) -> object:
    """A column of a problem's example rows: the file's own as it is, Mitoshi's in the reader's language."""
    return _(EXAMPLE_COLUMNS[column]) if column in EXAMPLE_COLUMNS else column


def import_button(warehouse: Warehouse, upload: Upload, report: ImportReport) -> None:
    """The Import button: writes the checked frame as a new dataset and makes it current."""
    if not st.button(_("Import"), type="primary", disabled=not report.ok, key=upload.key("import")):
        return
    try:
        with st.status(_("Importing…"), expanded=True) as status:
            st.write(_("Writing the dataset to the warehouse in one transaction…"))
            started = time.perf_counter()
            # The notes are stored as messages, so that the Data page shows them in its reader's language.
            dataset = warehouse.create_dataset(report.spec, report.frame, notes=report.note_facts)
            status.update(label=_("Imported '{name}' in {seconds:.1f} s").format(
                name=md(dataset.name), seconds=time.perf_counter() - started), state="complete")
        set_current_dataset(dataset.dataset_id)
        st.success(_("'{name}' is in the warehouse: {series:,} series, {rows:,} rows.").format(
            name=md(dataset.name), series=dataset.n_series, rows=dataset.n_rows))
        st.page_link("pages/data.py", label=_("Explore it on the Data page"), icon=":material/monitoring:")
    except DatasetExistsError:
        st.error(name_taken(report.spec.name, _("**Dataset name** above")), icon=":material/error:")
    except MitoshiError as error:
        show_error(error)


def name_taken(name: str, field: str) -> str:
    """A clash of dataset names, pointing to controls on this page: the name ``field`` and
    the delete on the Manage datasets tab."""
    return _("A dataset called '{name}' already exists. Type another name in {field}, or delete the old one on the "
             "**Manage datasets** tab of this page (tick 'Yes, delete it', then **Delete**) and import again.").format(
        name=md(name.strip()), field=field)


# ---------------------------------------------------------------------------------
# Appending rows to a stored dataset
# ---------------------------------------------------------------------------------
_DONE = "append_done"  # session key: (dataset_id, file id or None for the demo, Appended) of the last append
OVERLAP_CHOICES = {"refuse": N_("Refuse (append only if nothing overlaps)"),
                   "replace": N_("Replace the stored rows for those dates")}


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
        st.info(_("No dataset yet: import a file or generate a demo chain first."))
        return
    names = {d.dataset_id: d.name for d in datasets}
    ids = list(names)
    current = st.session_state.get("dataset_id")
    dataset_id = st.selectbox(_("Dataset to append to"), ids,
                              index=ids.index(current) if current in ids else len(ids) - 1,
                              format_func=names.get, key="append_dataset")
    dataset = warehouse.get_dataset(dataset_id)
    spec = dataset.spec
    shown = [spec.original_names.get(c, c) for c in (*spec.keys, "ds", "y", *spec.value_columns())
             if c not in spec.attributes]
    facts = dict(name=md(dataset.name), freq=dataset.freq.text, start=fmt.date(dataset.start_date),
                 end=fmt.date(dataset.end_date), series=dataset.n_series, rows=dataset.n_rows,
                 columns=", ".join(_code(c) for c in shown))
    if spec.attributes:
        st.caption(_("**{name}**: {freq}, {start} → {end}, {series:,} series, {rows:,} rows. A file of new rows needs "
                     "its columns {columns} (and {attributes} for series new to the dataset); other columns are "
                     "ignored. Nothing changes until you press **Append**.").format(
            attributes=", ".join(_code(spec.original_names.get(c, c)) for c in spec.attributes), **facts))
    else:
        st.caption(_("**{name}**: {freq}, {start} → {end}, {series:,} series, {rows:,} rows. A file of new rows needs "
                     "its columns {columns}; other columns are ignored. Nothing changes until you press "
                     "**Append**.").format(**facts))
    _last_append(dataset)
    if dataset.generator is not None:
        _extend_demo_form(warehouse, dataset)
    file = st.file_uploader(_("**Choose a file of new rows**"), type=UPLOAD_TYPES, key="append_upload")
    if file is not None:
        _append_file(warehouse, dataset, file)
    _appends_history(warehouse, dataset)


def _append_file(warehouse: Warehouse, dataset: Dataset, file: UploadedFile) -> None:
    done = st.session_state.get(_DONE)
    if done is not None and done[:2] == (dataset.dataset_id, file.file_id):
        st.caption(_("This file has been appended (above). Choose another file to append more."))
        return
    try:
        upload, raw = read_upload(file, slot="append")
        preview(raw)
        repairs = upload.chosen_repairs()
        report = upload.check_append(warehouse, dataset, raw, repairs)
        repairs_form(upload, report, repairs, numbered=False)
    except MitoshiError as error:
        show_error(error)
        return
    _problems_and_notes(report, appending=True)
    for warning in report.warnings:
        st.warning(md(warning), icon=":material/warning:")
    if not report.ok:
        return
    info = report.info
    facts = dict(rows=info["rows"], freq=dataset.freq.text, series=info["series"], new=info["new_series"],
                 start=fmt.date(info["start"]), end=fmt.date(info["end"]))
    if info["new_series"]:
        ready = _("Ready to append {rows:,} {freq} rows of {series:,} series, {new:,} of them new to the dataset, "
                  "{start} → {end}.")
    else:
        ready = _("Ready to append {rows:,} {freq} rows of {series:,} series, {start} → {end}.")
    st.success(ready.format(**facts), icon=":material/check_circle:")
    replace_rows = False
    if info["overlap"]:
        facts = dict(n=info["overlap"], changed=info["overlap_changed"], first=fmt.date(info["overlap_first"]),
                     last=fmt.date(info["overlap_last"]))
        if info["overlap_changed"]:
            overlap = _("{n:,} of these rows have a series and date the dataset already holds ({first} → {last}); "
                        "{changed:,} of them with another value than the stored one.")
        else:
            overlap = _("{n:,} of these rows have a series and date the dataset already holds ({first} → {last}); "
                        "all with the values already stored.")
        st.warning(overlap.format(**facts), icon=":material/warning:")
        choices = {key: _(label) for key, label in OVERLAP_CHOICES.items()}
        choice = st.radio(_("When dates overlap"), list(choices), format_func=choices.get,
                          key=upload.key("append_overlap"))
        replace_rows = choice == "replace"
    blocked = bool(info["overlap"]) and not replace_rows
    if blocked:
        st.caption(_("Nothing is appended while rows overlap and you refuse them: remove the overlapping dates from "
                     "the file, or choose to replace the stored rows."))
    if not st.button(_("Append"), type="primary", disabled=blocked, key=upload.key("append")):
        return
    try:
        with st.status(_("Appending to '{name}'…").format(name=md(dataset.name)), expanded=True) as status:
            st.write(_("Writing the rows in one transaction (the stored rows of those dates are replaced)…")
                     if replace_rows else _("Writing the rows in one transaction…"))
            started = time.perf_counter()
            # The source is kept as a message: the appends' log reads it in its reader's language.
            appended = warehouse.append_rows(dataset.dataset_id, report.frame, replace=replace_rows,
                                             source=appended_source(raw))
            status.update(label=_("Appended in {seconds:.1f} s").format(seconds=time.perf_counter() - started),
                          state="complete")
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
    facts = dict(rows=appended.n_rows, series=appended.n_series, new=appended.n_new_series,
                 replaced=appended.n_replaced, start=fmt.date(appended.start_date), end=fmt.date(appended.end_date))
    if appended.n_new_series and appended.n_replaced:
        done_text = _("Appended {rows:,} rows of {series:,} series ({new:,} new), {start} → {end}, replacing "
                      "{replaced:,} stored rows.")
    elif appended.n_new_series:
        done_text = _("Appended {rows:,} rows of {series:,} series ({new:,} new), {start} → {end}.")
    elif appended.n_replaced:
        done_text = _("Appended {rows:,} rows of {series:,} series, {start} → {end}, replacing {replaced:,} stored "
                      "rows.")
    else:
        done_text = _("Appended {rows:,} rows of {series:,} series, {start} → {end}.")
    now = _("'{name}' now has {rows:,} rows of {series:,} series, {start} → {end}.").format(
        name=md(after.name), rows=after.n_rows, series=after.n_series, start=fmt.date(after.start_date),
        end=fmt.date(after.end_date))
    st.success(_sentences(done_text.format(**facts), now), icon=":material/check_circle:")


def _extend_demo_form(warehouse: Warehouse, dataset: Dataset) -> None:
    """Continue a generated chain's world from its seed for some more days."""
    from core.data.demo import MAX_EXTEND_DAYS, extend_demo

    with st.container(border=True):
        st.markdown(_("**Extend the demo chain.** The generator continues the same stores, items, prices, promotions "
                      "and demand from the day after the last date, as if the chain had kept trading."))
        a, b = st.columns([1, 2], vertical_alignment="bottom")
        days = int(a.number_input(_("Days"), 1, MAX_EXTEND_DAYS, 7, key="extend_days"))
        if not b.button(ngettext("Extend the demo chain by {n} day", "Extend the demo chain by {n} days",
                                 days).format(n=days), key="extend_demo"):
            return
        try:
            with st.status(_("Simulating {days} more day(s) of {series:,} series…").format(
                    days=days, series=dataset.n_series), expanded=True) as status:
                started = time.perf_counter()
                appended = extend_demo(warehouse, dataset.dataset_id, days)
                status.update(label=_("Extended in {seconds:.1f} s").format(seconds=time.perf_counter() - started),
                              state="complete")
        except MitoshiError as error:
            show_error(error)
            return
    _appended(dataset.dataset_id, None, appended)


def _appends_history(warehouse: Warehouse, dataset: Dataset) -> None:
    history = warehouse.list_appends(dataset.dataset_id)
    st.markdown(_("**Appends to {name}**").format(name=md(dataset.name)))
    if history.empty:
        st.caption(_("None yet: the dataset has the rows it was imported (or generated) with."))
        return
    # A source is a message (the file, the demo generator, a simulated pilot) or text from an older warehouse.
    table(pd.DataFrame({
        _("Appended at"): pd.to_datetime(history["created_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        _("Source"): history["source"].map(render),
        _("From"): pd.to_datetime(history["start_date"]),
        _("To"): pd.to_datetime(history["end_date"]),
        _("Rows"): history["n_rows"],
        _("Replaced"): history["n_replaced"],
        _("Series"): history["n_series"],
        _("New series"): history["n_new_series"],
    }))
