"""Step 6 of the journey: the GO / NO-GO decision.

- ``verdict``: the decision as an immutable snapshot of facts (criteria, ladder pick,
  money, readiness) and the rules that give GO, conditional GO or NO-GO; its sentences
  are kept as messages (``core.i18n.Msg``), so a decision reads in Japanese or English;
- ``online``: the pilot's evidence in a decision, in words kept as facts;
- ``evaluation``: a stored run, its money impact and the project's criteria into a decision;
- ``store``: decisions in the warehouse;
- ``charts``: the production-readiness chart (money charts are in ``core.money.charts``);
- ``pdf`` and ``pdf_charts``: the A4 report rendered from the same snapshot.
"""
