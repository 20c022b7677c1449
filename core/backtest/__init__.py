"""Step 4 of the journey: time-ordered, leak-free rolling-origin backtests of the ladder.

- ``splits``: cutoffs and the fold tasks (never a random split);
- ``engine``: running every model of the ladder over the folds (``python -m core.backtest``);
- ``metrics``: WAPE, sMAPE, MASE, RMSSE, bias and the scales they divide by;
- ``accounting``: which series each model forecast, fell back on or left out;
- ``compare``: runs compared on what they share, and the Diebold–Mariano test;
- ``store``: runs, forecasts and metrics in the warehouse;
- ``charts``: the ladder, improvement, error by horizon and segment, forecasts against actuals.
"""
