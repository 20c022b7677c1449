"""Online evaluation (the talk's オンライン評価): the pilot in a few stores that the GO/NO-GO
waits for, and the published forecasts watched against what then sold.

- ``design``: treated and control stores matched on the pre-period, and the pilot's length
  from a power calculation;
- ``simulate``: the pilot run on the demo chain (treated stores order from the published
  batch, control stores keep today's practice);
- ``readout``: difference-in-differences of treated against control stores, pre against
  during the pilot, with confidence intervals from the stores' changes (each store one observation);
- ``monitor``: each published batch against the actuals appended since;
- ``store``: designs and readouts, versioned per project.

The pilot comes after the hand-off (its treated stores order from a published batch) and
before the decision (whose online criteria read its readout).
"""
