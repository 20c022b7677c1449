"""Cached reads for the pages. Datasets never change once stored (a new import gets a
new id), so a result keyed by dataset id and the chosen scope is never stale."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.columns import Freq
from core.data import explore
from ui.state import get_warehouse

Filters = tuple[tuple[str, tuple[str, ...]], ...]  # hashable form of Scope.filters


def _scope(filters: Filters, by: str | None, top: int = 8) -> explore.Scope:
    return explore.Scope(filters=dict(filters), by=by, top=top)


def _dataset(dataset_id: str):
    warehouse = get_warehouse()
    return warehouse, warehouse.get_dataset(dataset_id)


@st.cache_data(show_spinner=False, max_entries=64)
def profile(dataset_id: str) -> dict[str, object]:
    return explore.profile(*_dataset(dataset_id))


@st.cache_data(show_spinner=False, max_entries=64)
def missing_values(dataset_id: str) -> pd.DataFrame:
    return explore.missing_values(*_dataset(dataset_id))


@st.cache_data(show_spinner=False, max_entries=256)
def segment_values(dataset_id: str, column: str) -> list[str]:
    return explore.segment_values(*_dataset(dataset_id), column)


@st.cache_data(show_spinner=False, max_entries=256)
def totals_over_time(dataset_id: str, filters: Filters, by: str | None, grain: Freq) -> pd.DataFrame:
    return explore.totals_over_time(*_dataset(dataset_id), _scope(filters, by), grain)


@st.cache_data(show_spinner=False, max_entries=256)
def seasonal_profile(dataset_id: str, filters: Filters, by: str | None, part: str) -> pd.DataFrame:
    return explore.seasonal_profile(*_dataset(dataset_id), _scope(filters, by), part)


@st.cache_data(show_spinner=False, max_entries=256)
def flag_effect(dataset_id: str, filters: Filters, by: str | None, flag: str) -> pd.DataFrame:
    return explore.flag_effect(*_dataset(dataset_id), _scope(filters, by, top=20), flag)


@st.cache_data(show_spinner=False, max_entries=256)
def practice_summary(dataset_id: str, filters: Filters, by: str | None) -> pd.DataFrame:
    return explore.practice_summary(*_dataset(dataset_id), _scope(filters, by, top=20))


@st.cache_data(show_spinner=False, max_entries=256)
def series_list(dataset_id: str, filters: Filters) -> list[str]:
    return explore.series_list(*_dataset(dataset_id), _scope(filters, None))


@st.cache_data(show_spinner=False, max_entries=256)
def series_frame(dataset_id: str, series_id: str) -> pd.DataFrame:
    return explore.series_frame(*_dataset(dataset_id), series_id)


@st.cache_data(show_spinner=False, max_entries=64)
def sample_rows(dataset_id: str) -> pd.DataFrame:
    return explore.sample_rows(*_dataset(dataset_id))


@st.cache_data(show_spinner=False, max_entries=64)
def side_table(dataset_id: str, kind: str) -> pd.DataFrame | None:
    warehouse, dataset = _dataset(dataset_id)
    return warehouse.side_table(dataset, kind)


@st.cache_data(show_spinner=False, max_entries=64)
def series_names(dataset_id: str) -> dict[str, str]:
    """Readable series labels ("S001 渋谷店 / I0001 幕の内弁当") where the dataset's
    masters name its keys; otherwise an empty mapping and the ids are shown."""
    warehouse, dataset = _dataset(dataset_id)
    return explore.series_names(warehouse, dataset)
