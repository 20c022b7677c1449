"""Step 5 of the journey: money impact.

- ``impact``: each policy's forecasts replayed as orders against the same demand (units sold,
  lost sales, waste, in yen a year; newsvendor service levels), or, without prices, errors
  at a cost per unit;
- ``run_impact``: the money impact of a stored run, read from the warehouse;
- ``store``: the prices, costs and levels a user typed, stored per project and dataset;
- ``charts``: savings against today's practice, the split of the loss, sensitivity, segments.
"""
