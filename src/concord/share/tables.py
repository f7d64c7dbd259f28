"""Which tables a release publishes: an indicator broken down by some of the shared dimensions.

Why the defaults look as they do: a steward usually wants "everything the agreement allows",
which is each shared count indicator by the largest sets of shared dimensions that cross no
forbidden combination (``never_cross``). Two smaller tables are safer than one that crosses
age band with country when the agreement says those must never appear together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from concord.errors import InputError
from concord.indicators.definitions import IndicatorDefinition, IndicatorRegistry
from concord.indicators.frame import canonical_dimension
from concord.share.agreement import Agreement

#: The calendar month of a record: a dimension every release can use, from ``received_date``.
MONTH = "month"


@dataclass(frozen=True)
class TableSpec:
    """One published table: an indicator and the dimensions it is broken down by."""

    indicator: str
    dimensions: tuple[str, ...]

    @property
    def name(self) -> str:
        """A Frictionless resource name: lower case letters, digits, ``-``, ``_`` and ``.``."""
        by = "-".join(self.dimensions) if self.dimensions else "total"
        return f"{self.indicator}.by-{by}"

    def label(self) -> str:
        return f"{self.indicator} by {', '.join(self.dimensions) or 'nothing (one total)'}"


def parse_table_spec(text: str) -> TableSpec:
    """``reports.abuse_type:country,month`` → the indicator and its dimensions."""
    indicator, _, dims = text.partition(":")
    if not indicator.strip():
        raise InputError(
            f"table {text!r}: write INDICATOR:DIM,DIM (for example "
            "reports.abuse_type:country,month)"
        )
    names = [canonical_dimension(d.strip()) for d in dims.split(",") if d.strip()]
    return TableSpec(indicator.strip(), tuple(dict.fromkeys(names)))


def crosses(dimensions: Iterable[str], never_cross: Sequence[Sequence[str]]) -> list[list[str]]:
    """The forbidden combinations ``dimensions`` contain in full."""
    present = {canonical_dimension(d) for d in dimensions}
    return [
        list(combo) for combo in never_cross if {canonical_dimension(d) for d in combo} <= present
    ]


def table_dimensions(definition: IndicatorDefinition, dims: Iterable[str]) -> tuple[str, ...]:
    """``dims`` with the indicator's own breakdown first (it is always part of its cells)."""
    own = [canonical_dimension(d) for d in definition.breakdown]
    rest = [canonical_dimension(d) for d in dims]
    return tuple(dict.fromkeys([*own, *rest]))


def default_tables(agreement: Agreement, registry: IndicatorRegistry) -> list[TableSpec]:
    """Each shared count indicator by every maximal set of shared dimensions it supports that
    crosses no forbidden combination."""
    specs: list[TableSpec] = []
    shared = [canonical_dimension(d) for d in agreement.shares.dimensions]
    for indicator in agreement.shares.indicators:
        if indicator not in {d.id for d in registry}:
            continue  # the policy decision reports unknown indicators
        definition = registry.get(indicator)
        supported = {*definition.dimensions(), MONTH}
        usable = [d for d in shared if d in supported]
        chosen: list[frozenset[str]] = []
        for size in range(len(usable), -1, -1):
            for combo in combinations(usable, size):
                dims = table_dimensions(definition, combo)
                if crosses(dims, agreement.disclosure.never_cross):
                    continue
                if any(set(dims) <= bigger for bigger in chosen):
                    continue
                chosen.append(frozenset(dims))
                specs.append(TableSpec(indicator, dims))
    return specs
