"""Import a chain's own sales file; append new rows to a dataset; rename or delete
datasets; generate a demo chain."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.data.demo import DemoConfig, load_demo
from core.data.importer import CSV_SUFFIXES, EXCEL_SUFFIXES, MAX_UPLOAD_MB, PARQUET_SUFFIXES
from core.errors import DatasetExistsError, MitoshiError
from core.i18n import _, render
from core.text import md
from ui import data as import_file
from ui.navigation import stay_in_app
from ui.state import get_warehouse, set_current_dataset, show_error

stay_in_app()

warehouse = get_warehouse()
st.title(_("Import & manage datasets"))
# The tabs track which one is open so that the append tab, its uploader and its queries
# run only when it is shown (the other tabs run always, as before).
tab_import, tab_append, tab_manage, tab_demo = st.tabs(
    [_("Import a file"), _("Append new rows"), _("Manage datasets"), _("Generate a demo chain")], key="import_tab",
    on_change="rerun")

with tab_import:
    st.markdown(_(
        "Bring your chain's sales as a long table: one row per series and date — for example "
        "`store, item, date, units` — with optional price, promotion, stockout and order columns. "
        "CSV (UTF-8, Shift_JIS as Japanese Excel saves it, or UTF-16 'Unicode text'; optionally .gz), Parquet or "
        "Excel; up to {limit} MB. Nothing in the warehouse changes until you press **Import**."
    ).format(limit=MAX_UPLOAD_MB))
    types = [s.lstrip(".") for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES) if s.count(".") == 1]
    file = st.file_uploader(_("**1 · Choose a file**"), type=[*types, "gz"], key="upload")
    if file is not None:
        try:
            upload, raw = import_file.read_upload(file)
        except MitoshiError as error:
            show_error(error)
            st.stop()
        import_file.preview(raw)
        try:
            mapping = import_file.mapping_form(upload, raw)
            name = st.text_input(_("Dataset name"), value=raw.file_name.split(".")[0], key=upload.key("name"),
                                 max_chars=80)
            repairs = upload.chosen_repairs()
            report = upload.check(raw, mapping, repairs, name)
            import_file.repairs_form(upload, report, repairs)
        except MitoshiError as error:
            show_error(error)
            st.stop()
        import_file.report_outcome(report)
        import_file.import_button(warehouse, upload, report)

with tab_append:
    st.markdown(_(
        "**Append new rows to a dataset**: a week's sales, the pilot's orders and sales, corrections. The file is "
        "checked as an import is (dates, numbers, the dataset's frequency, duplicates, missing days) and matched to "
        "the dataset's columns by their names. Rows for dates the dataset already holds are refused, or replace the "
        "stored ones if you choose so; the append is one transaction, and each one is listed below."
    ))
    if tab_append.open:
        import_file.append_section(warehouse)

with tab_manage:
    datasets = warehouse.list_datasets()
    if not datasets:
        st.info(_("No dataset yet: import a file or generate a demo chain."))
    else:
        series, rows = _("Series"), _("Rows")
        st.dataframe(
            pd.DataFrame([{
                _("Name"): d.name, _("Source"): render(d.spec.source), _("Frequency"): d.freq.text, series: d.n_series,
                rows: d.n_rows, _("From"): d.start_date, _("To"): d.end_date, _("Stored"): d.created_at,
            } for d in datasets]),
            hide_index=True, width="stretch", placeholder="–",
            column_config={series: st.column_config.NumberColumn(format="localized"),
                           rows: st.column_config.NumberColumn(format="localized")},
        )
        names = {d.dataset_id: d.name for d in datasets}
        target_id = st.selectbox(_("Dataset"), list(names), format_func=names.get, key="manage_target")
        left, right = st.columns(2)
        with left.form("rename"):
            new_name = st.text_input(_("New name"), value=names[target_id])
            if st.form_submit_button(_("Rename")):
                try:
                    warehouse.rename_dataset(target_id, new_name)
                    st.success(_("Renamed to '{name}'.").format(name=md(new_name.strip())))
                    st.rerun()
                except MitoshiError as error:
                    show_error(error)
        with right.form("delete"):
            st.markdown(_("Delete **{name}** and all its rows. This cannot be undone.").format(
                name=md(names[target_id])))
            sure = st.checkbox(_("Yes, delete it"))
            if st.form_submit_button(_("Delete"), type="secondary"):
                if not sure:
                    st.warning(_("Tick 'Yes, delete it' to confirm."))
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
    st.markdown(_(
        "The AI Shop demo chain: stores in Japanese regions; bento, bread, dairy, hot food, grocery, beverages "
        "and daily goods; weekly and yearly seasonality, Japanese holidays, Golden Week, Obon and year end; "
        "promotions with price elasticity; stockouts that censor sales; slow movers, new and discontinued items; "
        "and today's ordering practice. The history ends yesterday, so forecasts from it are for the days ahead; "
        "the same seed gives the same stores, items, prices and promotions, with sales that follow the "
        "calendar of the dates it covers."
    ))
    with st.form("demo"):
        a, b, c, d = st.columns(4)
        stores = a.number_input(_("Stores"), 1, 200, 10)
        items = b.number_input(_("Items"), 5, 1000, 50)
        years = c.number_input(_("Years"), 1, 5, 3)
        seed = d.number_input(_("Seed"), 0, 2**31 - 1, 7)
        # The name offered is in the reader's language; what is typed is stored as it is (a dataset's name).
        demo_name = st.text_input(_("Name"), value=_("AI Shop demo (seed {seed})").format(seed=seed))
        submitted = st.form_submit_button(_("Generate and store"), type="primary")
        if submitted and warehouse.find_dataset(demo_name) is not None:  # said before generating, which takes long
            st.error(import_file.name_taken(demo_name, _("**Name** above")), icon=":material/error:")
        elif submitted:
            try:
                with st.status(_("Generating {n:,} series…").format(n=stores * items), expanded=True) as status:
                    started = time.perf_counter()
                    config = DemoConfig(stores=int(stores), items=int(items), years=int(years), seed=int(seed),
                                        name=demo_name)
                    dataset = load_demo(warehouse, config)
                    status.update(label=_("Stored '{name}': {series:,} series, {rows:,} rows in {seconds:.1f} s").format(
                        name=md(dataset.name), series=dataset.n_series, rows=dataset.n_rows,
                        seconds=time.perf_counter() - started), state="complete")
                set_current_dataset(dataset.dataset_id)
            except DatasetExistsError:
                st.error(import_file.name_taken(demo_name, _("**Name** above")), icon=":material/error:")
            except MitoshiError as error:
                show_error(error)
    st.caption(_("Large chains take a while in the browser; for the 50,000-series benchmark chain use "
                 "`python -m core.data.demo --stores 100 --items 500` on the command line."))
