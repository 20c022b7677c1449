"""Three-way merge of two people's edits of the same document, field by field.

Each editable thing (the problem definition, an initiative, a phase, a ladder step)
carries a revision. A save names the revision it was opened at; when someone else
saved since, the fields only one of them changed are combined, and only a field both
changed to different values is a conflict. So two tabs never lose a save silently.
"""

from __future__ import annotations

from collections.abc import Mapping


def three_way_merge(base: Mapping[str, object], theirs: Mapping[str, object], mine: Mapping[str, object]
                    ) -> tuple[dict[str, object], tuple[str, ...]]:
    """``mine`` and ``theirs`` both started from ``base``: the merged fields, and the
    names of the fields both changed differently (then the merge is not to be used)."""
    merged, conflicts = {}, []
    for field in mine:
        ours, other, start = mine[field], theirs.get(field), base.get(field)
        if ours == start:
            merged[field] = other
        elif other == start or other == ours:
            merged[field] = ours
        else:
            merged[field] = ours
            conflicts.append(field)
    return merged, tuple(conflicts)
