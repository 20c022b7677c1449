"""Planning a PoC before any model runs: projects, the problem definition with its
GO/NO-GO criteria, the effort/impact map of candidate initiatives, and the PoC plan.

No Streamlit; the only SQL is in ``store``, run through the warehouse's executor:

- ``criteria``: GO/NO-GO criteria as data, and their evaluation for the report;
- ``definition``: the structured problem definition, its validation, readiness, diffs;
- ``needs_ml``: the "does this need ML?" checklist that points to a rule where a rule would do;
- ``initiatives``: candidate initiatives, RICE/ICE scores, the talk's four quadrants;
- ``plan``: the PoC phases and the ladder of methods with a stop rule per step;
- ``merge``: the three-way field merge that lets two people edit the same project;
- ``example``: the pre-filled AI Shop demand-forecasting project;
- ``store``: projects, definitions (versioned), initiatives and plans in the warehouse;
- ``charts``: the effort/impact map and the plan timeline.
"""
