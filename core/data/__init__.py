"""Step 1 of the journey, the data and the current state.

- ``reading`` and ``parsing``: users' files as their systems export them (CSV, Parquet, Excel;
  encodings, dates, numbers);
- ``importer``: column mapping, validation and repairs, and the one-transaction import;
- ``demo``: the generated AI Shop chain (``python -m core.data.demo``);
- ``explore``: the read queries of the Data page and the frames a backtest reads;
- ``labels``: a label for every series from its attributes (names from the masters);
- ``charts``: totals, seasonality, flags, today's ordering practice and one series.
"""
