"""Pilot designs and readouts, versioned per project (tables ``pilot_designs`` and
``pilot_readouts`` of migration 9): each save is a new row in one transaction, nothing
is overwritten, the latest by ``created_at`` is the one in force.

A readout is stored as the JSON of ``core.pilot.readout.PilotReadout.to_dict`` (or any
dict); its key ``"evidence"`` holds the ``OnlineEvidence.to_dict`` the decision reads
(``online_evidence``).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np

from core.errors import WarehouseError
from core.i18n import M_, Fmt, Msg, to_json
from core.pilot.design import PilotDesign
from core.pilot.evidence import DESIGNED, NONE, READ, OnlineEvidence
from core.warehouse import Warehouse

if TYPE_CHECKING:
    from core.pilot.readout import PilotReadout

EVIDENCE_KEY = "evidence"


class PilotNotFoundError(WarehouseError):
    """A pilot design named does not exist (or belongs to another project)."""


def json_ready(value: object) -> object:
    """JSON for values a readout may hold: dates as ISO text, numpy numbers as Python's,
    NaN and infinities as null (JSON has none)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Msg | Fmt):  # a message kept as facts (core.i18n)
        return json_ready(to_json(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    return value


def _dumps(values: dict) -> str:
    return json.dumps(json_ready(values), ensure_ascii=False, sort_keys=True, allow_nan=False)


@dataclass(frozen=True)
class DesignInfo:
    """A stored design as a list shows it."""

    design_id: str
    project_id: str
    dataset_id: str
    created_at: datetime
    design: PilotDesign


def save_design(warehouse: Warehouse, design: PilotDesign) -> str:
    """Store ``design`` as the project's newest pilot design; returns its id (32 hex)."""
    if not design.project_id:
        raise WarehouseError(M_("A pilot design belongs to a project: choose or create one first."))
    design_id = uuid.uuid4().hex
    stored = replace(design, design_id=design_id)
    with warehouse.transaction() as cur:
        cur.execute("INSERT INTO pilot_designs VALUES (?, ?, ?, ?, ?)",
                    [design_id, design.project_id, design.dataset_id, datetime.now(), _dumps(stored.to_dict())])
    return design_id


def _design(row: dict) -> PilotDesign:
    try:
        design = PilotDesign.from_dict(json.loads(row["design"]))
    except (TypeError, KeyError, ValueError) as error:
        raise WarehouseError(M_("The pilot design stored on {day} {time} cannot be read by this version of Mitoshi "
                                "({error}): design the pilot again.",
                                day=Fmt("date", row["created_at"].date().isoformat()),
                                time=f"{row['created_at']:%H:%M}", error=str(error))) from None
    return replace(design, design_id=row["design_id"])


def list_designs(warehouse: Warehouse, project_id: str) -> list[DesignInfo]:
    """The project's designs, newest first."""
    rows = warehouse.query("SELECT * FROM pilot_designs WHERE project_id = ? ORDER BY created_at DESC, rowid DESC",
                           [project_id])
    return [DesignInfo(design_id=r["design_id"], project_id=r["project_id"], dataset_id=r["dataset_id"],
                       created_at=r["created_at"].to_pydatetime(), design=_design(r))
            for r in rows.to_dict("records")]


def latest_design(warehouse: Warehouse, project_id: str) -> PilotDesign | None:
    """The project's newest design (with its ``design_id``), or None."""
    designs = list_designs(warehouse, project_id)
    return designs[0].design if designs else None


def get_design(warehouse: Warehouse, design_id: str) -> PilotDesign:
    rows = warehouse.query("SELECT * FROM pilot_designs WHERE design_id = ?", [design_id])
    if rows.empty:
        raise PilotNotFoundError(M_("No pilot design with id '{id}': design the pilot again.", id=design_id))
    return _design(rows.to_dict("records")[0])


def save_readout(warehouse: Warehouse, project_id: str, design_id: str, readout: dict) -> str:
    """Store a readout of the design ``design_id`` of ``project_id``; returns its id.
    ``readout``: a JSON-able dict (dates, numpy numbers allowed; NaN stored as null),
    with the readout's ``OnlineEvidence.to_dict`` under ``"evidence"``. Raises
    ``PilotNotFoundError`` when the design is not the project's."""
    rows = warehouse.query("SELECT project_id FROM pilot_designs WHERE design_id = ?", [design_id])
    if rows.empty or rows["project_id"].iloc[0] != project_id:
        raise PilotNotFoundError(M_("The pilot design '{id}' is not one of this project's: read out a pilot designed "
                                    "for it.", id=design_id))
    readout_id = uuid.uuid4().hex
    with warehouse.transaction() as cur:
        cur.execute("INSERT INTO pilot_readouts VALUES (?, ?, ?, ?, ?)",
                    [readout_id, project_id, design_id, datetime.now(), _dumps(readout)])
    return readout_id


@dataclass(frozen=True)
class PilotedPromise:
    """The offline promise of what the treated stores ordered from: ``model`` (the batch's
    alias), ``yearly_savings`` (yen a year for the whole dataset, from the money impact of
    the batch's run at the batch's ordering; None when it could not be priced, or the
    batch had no order quantities to price) and ``ordering`` (how the batch ordered, in
    words, as a fact: ``profit-optimal per item``, ``a 90% service level``, ``the bare forecast``)."""

    model: str | None
    yearly_savings: float | None
    ordering: Msg | str | None = None


def save_pilot_readout(warehouse: Warehouse, design: PilotDesign, readout: PilotReadout,
                       batch_version: int | None = None, promise: PilotedPromise | None = None) -> str:
    """Store ``readout`` (a ``core.pilot.readout.PilotReadout``) of the stored ``design``:
    its ``to_dict`` with, under ``"evidence"``, its ``to_evidence`` carrying the design's
    id, dataset, store column, the published batch the treated stores ordered from and
    the offline promise the pilot is read against: ``promise`` (the piloted batch's own,
    ``core.pilot.run.piloted_promise``) when given, else the design's; the design's
    promise is kept beside it (``design_offline_*``); and the pilot's days planned and
    read (fewer read than planned: an interim readout, whose online criteria the decision
    leaves pending). Returns the readout's id; ``online_evidence`` reads it back."""
    if design.design_id is None:
        raise PilotNotFoundError(M_("Store the pilot design before its readout (save_design)."))
    savings, model, ordering = design.offline_yearly_savings, design.offline_model, None
    if promise is not None:
        savings, model, ordering = promise.yearly_savings, promise.model, promise.ordering
    evidence = replace(
        readout.to_evidence(design_id=design.design_id, dataset_id=design.dataset_id,
                            store_column=design.store_column, offline_yearly_savings=savings,
                            offline_model=model, batch_version=batch_version),
        batch_model=_batch_model(warehouse, design.dataset_id, batch_version), offline_ordering=ordering,
        design_offline_yearly_savings=design.offline_yearly_savings, design_offline_model=design.offline_model,
        days_planned=design.days, days_read=_days_read(readout), **_power(design))
    return save_readout(warehouse, design.project_id, design.design_id,
                        readout.to_dict() | {EVIDENCE_KEY: evidence.to_dict()})


def latest_readout(warehouse: Warehouse, project_id: str, design_id: str | None = None) -> dict | None:
    """The newest readout of ``design_id`` (default: the project's latest design), as stored,
    with ``readout_id``, ``design_id`` and ``created_at`` (ISO text) set; None when that
    design has none (a readout of an older design does not count once a new pilot is
    designed)."""
    if design_id is None:
        design = latest_design(warehouse, project_id)
        if design is None:
            return None
        design_id = design.design_id
    rows = warehouse.query("""SELECT * FROM pilot_readouts WHERE project_id = ? AND design_id = ?
                              ORDER BY created_at DESC, rowid DESC LIMIT 1""", [project_id, design_id])
    if rows.empty:
        return None
    row = rows.to_dict("records")[0]
    return json.loads(row["readout"]) | {"readout_id": row["readout_id"], "design_id": row["design_id"],
                                         "created_at": row["created_at"].isoformat()}


def _days_read(readout: PilotReadout) -> int | None:
    """The pilot days a readout read (None for a readout that does not say)."""
    days = getattr(readout, "pilot_days", None)
    return None if days is None else int(days)


def _power(design: PilotDesign) -> dict:
    """What the design can detect, for the decision to print beside its stores and dates."""
    return {"detectable_yearly": design.mde_yearly, "power": design.power, "alpha": design.alpha}


def _batch_model(warehouse: Warehouse, dataset_id: str, version: int | None) -> str | None:
    """The model of a dataset's published batch ``version`` (None: no version, or deleted since)."""
    if version is None:
        return None
    found = warehouse.query("SELECT model FROM forecast_batches WHERE dataset_id = ? AND version = ?",
                            [dataset_id, version])
    return None if found.empty else str(found["model"].iloc[0])


def designed_evidence(design: PilotDesign) -> OnlineEvidence:
    """What a design alone says to the decision: who is treated, when, what it can detect,
    and the promise."""
    return OnlineEvidence(
        status=DESIGNED, design_id=design.design_id, dataset_id=design.dataset_id, store_column=design.store_column,
        treated=design.treated, control=design.control, start=design.start, end=design.end,
        chain_stores=design.chain_stores, offline_yearly_savings=design.offline_yearly_savings,
        offline_model=design.offline_model, days_planned=design.days, **_power(design))


def online_evidence(warehouse: Warehouse, project_id: str | None) -> OnlineEvidence:
    """The project's online evidence: ``NONE`` without a design, ``DESIGNED`` with a design
    not read out yet, ``READ`` from the latest readout of the latest design (its
    ``"evidence"``, with the design's and readout's ids filled in where it lacks them)."""
    if not project_id:
        return OnlineEvidence(status=NONE)
    design = latest_design(warehouse, project_id)
    if design is None:
        return OnlineEvidence(status=NONE)
    readout = latest_readout(warehouse, project_id, design.design_id)
    if readout is None or not readout.get(EVIDENCE_KEY):
        return designed_evidence(design)
    evidence = OnlineEvidence.from_dict(readout[EVIDENCE_KEY])
    return replace(evidence, status=READ, design_id=evidence.design_id or design.design_id,
                   readout_id=evidence.readout_id or readout["readout_id"])
