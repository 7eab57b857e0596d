"""The amounts to add up: each stated amount once, a part's never on top of its parent's total.

Agreements may belong to others (`part_of`): "seven projects with a total investment of 13.7
billion yuan" is one record with the total, and each project is a part of it. When the parent
states an amount, it is the total of its parts, so a part's own amount must not be added again.
When the parent states none, its parts' amounts are the only ones there are, and they count.

Every total, chart or count of yuan in geomap comes from stated_amounts(), so none of them can
count a part twice. An agreement with several partners has one amount, counted once.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from .atlas import Atlas


def stated_amounts(atlas: Atlas, agreement_ids: Iterable[str] | None = None) -> pd.Series:
    """Yuan per agreement id, for the agreements whose amount counts in a sum over
    `agreement_ids` (default: every agreement). An agreement's amount counts when it states
    one and no agreement it belongs to (its parent, the parent's parent, ...) that is also
    among `agreement_ids` states one. In the data's order; agreements stating no amount are
    left out. Pass a Selection's `agreements["agreement_id"]` to total what a filter keeps.
    """
    records = {a.id: a for a in atlas.records.agreements}
    ids = list(dict.fromkeys(records if agreement_ids is None else agreement_ids))
    chosen = set(ids)
    out: dict[str, float] = {}
    for aid in ids:
        a = records[aid]
        if a.value_cny is None:
            continue
        if not _within_a_stated_total(records, a, chosen):
            out[aid] = a.value_cny
    return pd.Series(out, dtype="float64", name="value_cny")


def _within_a_stated_total(records: dict, a, chosen: set[str]) -> bool:
    """Whether an agreement `a` belongs to (is a part, or a part of a part, of) a chosen
    agreement that states an amount."""
    parent, seen = a.part_of, {a.id}
    while parent is not None and parent not in seen:  # load() rejects cycles; stay safe
        seen.add(parent)
        p = records.get(parent)
        if p is None:
            return False
        if parent in chosen and p.value_cny is not None:
            return True
        parent = p.part_of
    return False


def total(atlas: Atlas, agreement_ids: Iterable[str] | None = None) -> float:
    """The sum of stated_amounts(): yuan, each amount once."""
    return float(stated_amounts(atlas, agreement_ids).sum())
