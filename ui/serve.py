"""``python -m ui.serve [streamlit options]``: ``streamlit run app.py`` with Streamlit in navigation
mode from its first request (what ``make run`` starts).

A fresh ``streamlit run`` process starts in Streamlit's old pages-folder mode because ``pages/``
exists (``PagesManager.uses_pages_directory``, Streamlit 1.67; see ``ui/navigation.py``), so its
first requests, if they are direct links, run the page file before ``app.py`` — which
``ui.navigation.stay_in_app`` then hands back, but only after the browser has briefly shown
Streamlit's raw list of file names in the sidebar. Starting the server from here sets the mode
before any session exists, in the same process, so no request ever runs in it. Plain
``streamlit run app.py`` keeps working through the guard in every page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from ui.navigation import APP


def main(options: Sequence[str] | None = None) -> None:
    """Run ``app.py`` with the given ``streamlit run`` options (``--server.port 8501`` …);
    returns when the server stops (Streamlit's command line exits the process)."""
    PagesManager.uses_pages_directory = False  # before the first session: navigation mode from the start
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if options is None else options)]
    cli.main()


if __name__ == "__main__":
    main()
