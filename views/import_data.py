"""Import a chain's own sales file; rename or delete datasets; generate a demo chain."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.columns import Freq
from core.demo import DemoConfig, load_demo
from core.errors import MitoshiError
from core.importer import (
    CSV_SUFFIXES,
    ENCODINGS,
    EXCEL_SUFFIXES,
    MAX_UPLOAD_MB,
    PARQUET_SUFFIXES,
    ColumnMapping,
    ImportReport,
    Repairs,
    read_table,
    suggest_mapping,
    validate,
)
from ui.state import get_warehouse, set_current_dataset, show_error, table

warehouse = get_warehouse()
st.title("Import & manage datasets")
tab_import, tab_manage, tab_demo = st.tabs(["Import a file", "Manage datasets", "Generate a demo chain"])

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


def _read(upload, encoding: str, sheet: str | None):
    """Read the upload once per (file, encoding, sheet); keep it in the session."""
    key = (upload.file_id, encoding, sheet)
    cached = st.session_state.get("import_raw")
    if cached is None or cached[0] != key:
        raw = read_table(upload.getvalue(), upload.name, encoding=encoding, sheet=sheet)
        st.session_state["import_raw"] = (key, raw)
        st.session_state.pop("import_report", None)
    return st.session_state["import_raw"][1]


def _validate(raw, mapping: ColumnMapping, repairs: Repairs, name: str, file_key) -> ImportReport:
    key = (file_key, mapping, repairs, name)
    cached = st.session_state.get("import_report")
    if cached is None or cached[0] != key:
        with st.spinner("Checking every row…"):
            st.session_state["import_report"] = (key, validate(raw, mapping, repairs, name))
    return st.session_state["import_report"][1]


def _mapping_form(raw, suggestion: ColumnMapping, k: str) -> ColumnMapping:
    columns = list(raw.frame.columns)
    optional = [None, *columns]
    st.markdown("**2 · Say what each column means.** Mitoshi guessed; correct what is wrong. Columns with no "
                "role are not imported.")
    a, b, c = st.columns(3)
    keys = a.multiselect("Series key (one or more)", columns, default=list(suggestion.keys), key=f"keys{k}",
                         help="Columns that together identify one series, e.g. store and item.")
    date = b.selectbox("Date", columns, index=columns.index(suggestion.date), key=f"date{k}")
    target = c.selectbox("Target (what to forecast)", columns, index=columns.index(suggestion.target),
                         key=f"target{k}", help="Units sold, or sales amount.")
    a, b, c = st.columns(3)
    attributes = a.multiselect("Series attributes", columns, default=list(suggestion.attributes), key=f"attr{k}",
                               help="Constant within a series (category, region): used to group results.")
    known = b.multiselect("Exogenous, known in advance", columns, default=list(suggestion.exog_known),
                          key=f"known{k}", help="Planned price, promotion, holiday: known before the day comes.")
    unknown = c.multiselect("Exogenous, not known in advance", columns, default=list(suggestion.exog_unknown),
                            key=f"unknown{k}", help="Only observed after the fact (weather, footfall).")
    a, b, c = st.columns(3)
    stockout = a.selectbox("Stockout flag (optional)", optional, index=optional.index(suggestion.stockout),
                           key=f"stockout{k}", format_func=lambda v: "—" if v is None else v,
                           help="1 where the shelf ran empty, so sales understate demand.")
    orders = b.selectbox("Today's orders (optional)", optional, index=optional.index(suggestion.orders),
                         key=f"orders{k}", format_func=lambda v: "—" if v is None else v,
                         help="Units ordered for that date by today's practice.")
    freq = c.selectbox("Frequency", [None, *Freq], key=f"freq{k}",
                       format_func=lambda f: "infer from the dates" if f is None else f.label)
    return ColumnMapping(
        keys=tuple(keys), date=date, target=target, attributes=tuple(attributes), exog_known=tuple(known),
        exog_unknown=tuple(unknown), stockout=stockout, orders=orders, freq=freq,
    )


def _chosen_repairs(k: str) -> Repairs:
    """The repairs ticked so far, read from their widgets' state."""
    values = {name: st.session_state.get(f"repair_{name}{k}") for name in REPAIR_LABELS}
    return Repairs(**{name: value for name, value in values.items() if value})


def _repairs_form(report: ImportReport, chosen: Repairs, k: str) -> None:
    """Offer a repair for each problem that has one, and keep showing those already ticked."""
    wanted = {p.repair for p in report.problems if p.repair}
    offered = [name for name in REPAIR_LABELS if name in wanted or getattr(chosen, name)]
    if offered:
        st.markdown("**3 · Repairs** — nothing is changed unless you choose it here.")
    for name in offered:
        labels = REPAIR_LABELS[name]
        if isinstance(labels, str):
            st.checkbox(labels, key=f"repair_{name}{k}")
        else:
            options = [None, *labels]
            st.radio(
                name.replace("_", " ").capitalize(), options,
                format_func=lambda o, labels=labels: "Do not repair (block the import)" if o is None else labels[o],
                key=f"repair_{name}{k}", horizontal=True,
            )


with tab_import:
    st.markdown(
        "Bring your chain's sales as a long table: one row per series and date — for example "
        "`store, item, date, units` — with optional price, promotion, stockout and order columns. "
        f"CSV (UTF-8 or Shift_JIS as Japanese Excel saves it, optionally .gz), Parquet or Excel; up to "
        f"{MAX_UPLOAD_MB} MB. Nothing in the warehouse changes until you press **Import**."
    )
    types = [s.lstrip(".") for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES) if s.count(".") == 1]
    upload = st.file_uploader("**1 · Choose a file**", type=[*types, "gz"], key="upload")
    if upload is not None:
        is_csv = upload.name.lower().endswith(CSV_SUFFIXES)
        is_excel = upload.name.lower().endswith(EXCEL_SUFFIXES)
        a, b = st.columns(2)
        encoding = a.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key="encoding",
                               disabled=not is_csv)
        sheet = None
        try:
            raw = _read(upload, encoding, None)
            if is_excel and len(raw.sheets) > 1:
                sheet = b.selectbox("Sheet", raw.sheets, key="sheet")
                raw = _read(upload, encoding, sheet)
        except MitoshiError as error:
            show_error(error)
            st.stop()
        file_key = (upload.file_id, encoding, sheet)
        k = f"_{upload.file_id}"
        st.caption(f"{raw.file_name}: {len(raw.frame):,} rows × {len(raw.frame.columns)} columns"
                   + (f" · read as {ENCODINGS[raw.encoding]}" if raw.encoding else ""))
        st.dataframe(raw.frame.head(20), hide_index=True, width="stretch")

        try:
            mapping = _mapping_form(raw, suggest_mapping(raw.frame), k)
            name = st.text_input("Dataset name", value=raw.file_name.split(".")[0], key=f"name{k}", max_chars=80)
            repairs = _chosen_repairs(k)
            report = _validate(raw, mapping, repairs, name, file_key)
            _repairs_form(report, repairs, k)
        except MitoshiError as error:
            show_error(error)
            st.stop()

        if report.problems:
            st.error(f"{len(report.problems)} problem(s) block the import. Each says how to fix it; repairs "
                     "you can choose appear above.", icon=":material/block:")
            for problem in report.problems:
                with st.container(border=True):
                    st.markdown(f"**{problem.message}**")
                    if not problem.examples.empty:
                        table(problem.examples)
        for note in report.notes:
            st.info(note, icon=":material/build:")
        if report.ok:
            info = report.info
            st.success(f"Ready: {info['series']:,} {info['frequency']} series, {info['rows']:,} rows, "
                       f"{info['start']} → {info['end']}.", icon=":material/check_circle:")
        if st.button("Import", type="primary", disabled=not report.ok, key=f"import{k}"):
            try:
                with st.status("Importing…", expanded=True) as status:
                    st.write("Writing the dataset to the warehouse in one transaction…")
                    started = time.perf_counter()
                    dataset = warehouse.create_dataset(report.spec, report.frame, notes=report.notes)
                    status.update(label=f"Imported '{dataset.name}' in {time.perf_counter() - started:.1f} s",
                                  state="complete")
                set_current_dataset(dataset.dataset_id)
                st.success(f"'{dataset.name}' is in the warehouse: {dataset.n_series:,} series, "
                           f"{dataset.n_rows:,} rows.")
                st.page_link("views/data.py", label="Explore it on the Data page", icon=":material/monitoring:")
            except MitoshiError as error:
                show_error(error)

with tab_manage:
    datasets = warehouse.list_datasets()
    if not datasets:
        st.info("No dataset yet: import a file or generate a demo chain.")
    else:
        st.dataframe(
            pd.DataFrame([{
                "name": d.name, "source": d.spec.source, "frequency": d.freq.label, "series": d.n_series,
                "rows": d.n_rows, "from": d.start_date, "to": d.end_date, "stored": d.created_at,
            } for d in datasets]),
            hide_index=True, width="stretch",
            column_config={"series": st.column_config.NumberColumn(format="localized"),
                           "rows": st.column_config.NumberColumn(format="localized")},
        )
        names = {d.dataset_id: d.name for d in datasets}
        target_id = st.selectbox("Dataset", list(names), format_func=names.get, key="manage_target")
        left, right = st.columns(2)
        with left.form("rename"):
            new_name = st.text_input("New name", value=names[target_id])
            if st.form_submit_button("Rename"):
                try:
                    warehouse.rename_dataset(target_id, new_name)
                    st.success(f"Renamed to '{new_name.strip()}'.")
                    st.rerun()
                except MitoshiError as error:
                    show_error(error)
        with right.form("delete"):
            st.markdown(f"Delete **{names[target_id]}** and all its rows. This cannot be undone.")
            sure = st.checkbox("Yes, delete it")
            if st.form_submit_button("Delete", type="secondary"):
                if not sure:
                    st.warning("Tick 'Yes, delete it' to confirm.")
                else:
                    try:
                        warehouse.delete_dataset(target_id)
                        if st.session_state.get("dataset_id") == target_id:
                            st.session_state.pop("dataset_id", None)
                            st.query_params.pop("dataset", None)
                        st.rerun()
                    except MitoshiError as error:
                        show_error(error)

with tab_demo:
    st.markdown(
        "The AI Shop demo chain: stores in Japanese regions; bento, bread, dairy, hot food, grocery, beverages "
        "and daily goods; weekly and yearly seasonality, Japanese holidays, Golden Week, Obon and year end; "
        "promotions with price elasticity; stockouts that censor sales; slow movers, new and discontinued items; "
        "and today's ordering practice. The same seed always gives the same chain."
    )
    with st.form("demo"):
        a, b, c, d = st.columns(4)
        stores = a.number_input("Stores", 1, 200, 10)
        items = b.number_input("Items", 5, 1000, 50)
        years = c.number_input("Years", 1, 5, 3)
        seed = d.number_input("Seed", 0, 2**31 - 1, 7)
        demo_name = st.text_input("Name", value=f"AI Shop demo (seed {seed})")
        if st.form_submit_button("Generate and store", type="primary"):
            try:
                with st.status(f"Generating {stores * items:,} series…", expanded=True) as status:
                    started = time.perf_counter()
                    config = DemoConfig(stores=int(stores), items=int(items), years=int(years), seed=int(seed),
                                        name=demo_name)
                    dataset = load_demo(warehouse, config)
                    status.update(label=f"Stored '{dataset.name}': {dataset.n_series:,} series, "
                                        f"{dataset.n_rows:,} rows in {time.perf_counter() - started:.1f} s",
                                  state="complete")
                set_current_dataset(dataset.dataset_id)
            except MitoshiError as error:
                show_error(error)
    st.caption("Large chains take a while in the browser; for the 50,000-series benchmark chain use "
               "`python -m core.demo --stores 100 --items 500` on the command line.")
