"""Forecasters behind one interface: rules, statistics and GBDT.

Every model is a small class with a unique ``alias``; its constructor only stores
settings; ``forecast(task)`` returns one value per row of ``task.future`` and never
touches the task's frames. Local models work on numpy (``Panel``); the backtest
engine owns the time, the grouping and the parallelism.
"""
