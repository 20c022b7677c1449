"""Reports: the documents a PoC team circulates, made from what the warehouse holds.

The last step of the journey: a report reads the steps before it. Each kind
(``kinds.KINDS``: the problem definition, the effort/impact map, the backtest
comparison, the pilot readout) makes a *snapshot* of what it shows — plain JSON, in no
language — stored with a version number per project and kind and with what it was made
from (``store``); ``make.report_document`` turns a stored snapshot into a
``core.paper.report.Report`` (sections in the language of the moment), which the page
shows and ``core.paper.report.report_pdf`` prints. ``python -m core.reports`` makes one
from the command line.
"""
