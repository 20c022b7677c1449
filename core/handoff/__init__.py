"""Step 7 of the journey: the hand-off to production.

- ``batch``: the chosen model refitted on all history, its forecasts and order quantities;
- ``store``: the batch-inference table ``batch_forecasts`` in the warehouse, versioned;
- ``charts``: a published forecast after the history it continues.
"""
