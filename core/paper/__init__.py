"""Paper: what every PDF Mitoshi prints shares (shared ground, below every step).

- ``pdf``: the A4 document (IPAexGothic embedded, running header and footer, page
  numbers), its text primitives (headings, paragraphs, lists, tables, figures) and the
  line breaking that Japanese needs;
- ``charts``: the matplotlib style of the charts printed in it, legible in greyscale;
- ``report``: a report as a declarative list of sections (``Report``) and the one
  renderer that prints it (``report_pdf``); the reports themselves are ``core.reports``.
"""
