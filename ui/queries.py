"""Cached reads for the pages, keyed by the dataset's id, its fingerprint and the chosen scope.

A dataset grows when rows are appended (Import & manage, a simulated pilot, the demo's
``--extend``, another process): its fingerprint changes with its rows, so every read below
is keyed by it too and a page never shows a dataset as it was before an append."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

from core.columns import Freq
from core.data import explore
from ui.state import get_warehouse

Filters = tuple[tuple[str, tuple[str, ...]], ...]  # hashable form of Scope.filters


def _scope(filters: Filters, by: str | None, top: int = 8) -> explore.Scope:
    return explore.Scope(filters=dict(filters), by=by, top=top)


T = TypeVar("T")


def _fingerprint(dataset_id: str) -> str:
    """The dataset's fingerprint now (one row of the registry: cheap), "" when it is gone."""
    rows = get_warehouse().query("SELECT fingerprint FROM datasets WHERE dataset_id = ?", [dataset_id])
    return "" if rows.empty else str(rows["fingerprint"].iloc[0])


def _current(cached: Callable[..., T]) -> Callable[..., T]:
    """``cached(dataset_id, fingerprint, *args)`` called as ``f(dataset_id, *args)``: the
    fingerprint is read at each call, so the cache is keyed by the rows as they are."""
    @functools.wraps(cached)
    def call(dataset_id: str, *args, **kwargs):
        return cached(dataset_id, _fingerprint(dataset_id), *args, **kwargs)
    return call


def _dataset(dataset_id: str):
    warehouse = get_warehouse()
    return warehouse, warehouse.get_dataset(dataset_id)


@_current
@st.cache_data(show_spinner=False, max_entries=64)
def profile(dataset_id: str, fingerprint: str) -> dict[str, object]:
    return explore.profile(*_dataset(dataset_id))


@_current
@st.cache_data(show_spinner=False, max_entries=64)
def missing_values(dataset_id: str, fingerprint: str) -> pd.DataFrame:
    return explore.missing_values(*_dataset(dataset_id))


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def segment_values(dataset_id: str, fingerprint: str, column: str) -> list[str]:
    return explore.segment_values(*_dataset(dataset_id), column)


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def totals_over_time(dataset_id: str, fingerprint: str, filters: Filters, by: str | None, grain: Freq) -> pd.DataFrame:
    return explore.totals_over_time(*_dataset(dataset_id), _scope(filters, by), grain)


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def seasonal_profile(dataset_id: str, fingerprint: str, filters: Filters, by: str | None, part: str) -> pd.DataFrame:
    return explore.seasonal_profile(*_dataset(dataset_id), _scope(filters, by), part)


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def flag_effect(dataset_id: str, fingerprint: str, filters: Filters, by: str | None, flag: str) -> pd.DataFrame:
    return explore.flag_effect(*_dataset(dataset_id), _scope(filters, by, top=20), flag)


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def practice_summary(dataset_id: str, fingerprint: str, filters: Filters, by: str | None) -> pd.DataFrame:
    return explore.practice_summary(*_dataset(dataset_id), _scope(filters, by, top=20))


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def series_list(dataset_id: str, fingerprint: str, filters: Filters) -> list[str]:
    return explore.series_list(*_dataset(dataset_id), _scope(filters, None))


@_current
@st.cache_data(show_spinner=False, max_entries=256)
def series_frame(dataset_id: str, fingerprint: str, series_id: str) -> pd.DataFrame:
    return explore.series_frame(*_dataset(dataset_id), series_id)


@_current
@st.cache_data(show_spinner=False, max_entries=64)
def sample_rows(dataset_id: str, fingerprint: str) -> pd.DataFrame:
    return explore.sample_rows(*_dataset(dataset_id))


@_current
@st.cache_data(show_spinner=False, max_entries=64)
def side_table(dataset_id: str, fingerprint: str, kind: str) -> pd.DataFrame | None:
    warehouse, dataset = _dataset(dataset_id)
    return warehouse.side_table(dataset, kind)


@_current
@st.cache_data(show_spinner=False, max_entries=64)
def series_names(dataset_id: str, fingerprint: str) -> dict[str, str]:
    """Readable series labels ("S001 渋谷店 / I0001 幕の内弁当") where the dataset's
    masters name its keys; otherwise an empty mapping and the ids are shown."""
    warehouse, dataset = _dataset(dataset_id)
    return explore.series_names(warehouse, dataset)
