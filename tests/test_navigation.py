"""The Streamlit mechanism that makes ``ui.navigation.stay_in_app`` necessary is still there: a
process-wide flag, set when the main script's folder has ``pages/``, that keeps a fresh server in
the old pages-folder mode (fast; the browser pin in tests/browser/test_deep_links.py shows what it
does to a direct link on a fresh server)."""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager

CHANGED = ("Streamlit changed the pages-folder behaviour that ui/navigation.py works around "
           "(PagesManager.uses_pages_directory): check whether ui.navigation.stay_in_app is still needed or "
           "still works.")


@pytest.fixture
def fresh_flag():
    """The class attribute as a fresh process has it (None), restored after the test."""
    saved = PagesManager.__dict__.get("uses_pages_directory", None)
    PagesManager.uses_pages_directory = None
    yield
    PagesManager.uses_pages_directory = saved


def test_the_pages_folder_flag_is_a_class_attribute():
    assert "uses_pages_directory" in PagesManager.__dict__, CHANGED


def test_a_script_with_a_pages_folder_sets_the_flag(tmp_path, fresh_flag):
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is True, CHANGED


def test_a_script_without_a_pages_folder_clears_it(tmp_path, fresh_flag):
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is False, CHANGED


def test_a_set_flag_is_kept_by_the_next_manager(tmp_path, fresh_flag):
    """The flag is process-wide: set once, later managers (new sessions) do not reconsider it, so
    only st.navigation (or the guard) takes a process out of the pages-folder mode."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    PagesManager.uses_pages_directory = False
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is False, CHANGED
