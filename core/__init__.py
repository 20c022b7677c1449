"""Mitoshi core: everything that can be imported and tested without Streamlit.

One package per step of the PoC journey, each holding its model and, where it has them, its
storage (``store.py``, SQL run through the warehouse's one executor) and its charts (``charts.py``):

- ``data``: reading users' files, validation and import, the demo chain, exploring a dataset;
- ``planning``: projects, the problem definition and its GO/NO-GO criteria, initiatives, the plan;
- ``forecast``: the forecasters of the ladder behind one interface and registry;
- ``backtest``: rolling-origin backtests, their metrics, comparisons and stored runs;
- ``money``: forecast errors turned into yen against today's ordering, and its settings;
- ``decision``: the GO/NO-GO verdict as an immutable snapshot, its evaluation, storage and PDF;
- ``handoff``: the chosen model's batch forecasts as a table for production.

Shared ground, used by every step: ``warehouse`` (the one DuckDB connection, the one SQL
executor, migrations, the dataset registry), ``columns``, ``errors``, ``fmt`` (numbers and
names for people), ``periods`` (words for a data frequency), ``text`` (user text made safe for
Markdown, Plotly and CSV) and ``plotting`` (the look of every chart). The one import that runs up:
``fmt.model_name`` looks a model's name up in the forecaster registry (lazily).
Imports run one way: shared ground ← data ← planning ← forecast ← backtest ← money ← decision
← handoff; the warehouse imports no step.
"""

__version__ = "0.1.0"
