"""The invoice as the domain sees it: its ledger typed, the rest of the item carried along unchanged.

The ledger (what was invoiced, paid, refunded, credited, charged as fees) is typed and checked; the
printed data (customer as issued, lines, totals) and the workflow attributes (dunning index, escalation,
documents) travel in `attributes`, which transitions replace as a whole, never edit in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

INVOICE_ENTITY = "invoice"
OPEN_STATUSES = ("open", "partially_paid")

# The item attributes the typed fields own; everything else is an attribute.
_LEDGER_FIELDS = (
    "id",
    "number",
    "currency",
    "customer_id",
    "status",
    "total",
    "amount_paid",
    "amount_refunded",
    "amount_credited",
    "amount_due",
    "late_fees",
    "late_interest",
    "fees_paid",
    "interest_paid",
    "disputed",
    "in_collections",
    "version",
)
# The sparse dunning index's attributes (receivables/dunning_index.py) and the date they mirror.
_DUNNING_SCHEDULE = ("gsi2pk", "gsi2sk", "next_reminder_at")


def invoice_key(invoice_id: str) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": "INVOICE"}


def is_invoice_key(key: Mapping[str, Any]) -> bool:
    """True for the key of an invoice item (not its payments, fees or send records under the same pk)."""
    return str(key.get("pk", "")).startswith("INVOICE#") and key.get("sk") == "INVOICE"


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    currency: str
    customer_id: str
    status: str
    total: Decimal
    amount_paid: Decimal = Decimal(0)  # payments applied
    amount_refunded: Decimal = Decimal(0)  # refunds (and lost chargebacks) applied
    amount_credited: Decimal = Decimal(0)  # credit notes
    amount_due: Decimal = Decimal(0)  # total − paid + refunded − credited, never below zero
    late_fees: Decimal = Decimal(0)  # reminder fees and default interest charged (their own documents)
    late_interest: Decimal = Decimal(0)  # of late_fees, default interest (the rest are costs)
    fees_paid: Decimal = Decimal(0)  # of late_fees, settled by payments
    interest_paid: Decimal = Decimal(0)  # of fees_paid, interest
    disputed: bool = False
    in_collections: bool = False
    version: int = 1
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Invoice:
        """From a deserialized item (records.read / items.from_item)."""
        return cls(
            id=str(item["id"]),
            number=str(item["number"]),
            currency=str(item["currency"]),
            customer_id=str(item["customer_id"]),
            status=str(item["status"]),
            total=Decimal(item["total"]),
            amount_paid=Decimal(item.get("amount_paid", 0)),
            amount_refunded=Decimal(item.get("amount_refunded", 0)),
            amount_credited=Decimal(item.get("amount_credited", 0)),
            amount_due=Decimal(item.get("amount_due", 0)),
            late_fees=Decimal(item.get("late_fees", 0)),
            late_interest=Decimal(item.get("late_interest", 0)),
            fees_paid=Decimal(item.get("fees_paid", 0)),
            interest_paid=Decimal(item.get("interest_paid", 0)),
            disputed=bool(item.get("disputed", False)),
            in_collections=bool(item.get("in_collections", False)),
            version=int(item.get("version", 1)),
            attributes=MappingProxyType(
                {k: v for k, v in item.items() if k not in _LEDGER_FIELDS and k not in ("pk", "sk")}
            ),
        )

    def to_item(self) -> dict[str, Any]:
        """The item as stored (python values; items.to_item serializes them)."""
        ledger = {name: getattr(self, name) for name in _LEDGER_FIELDS}
        attributes = dict(self.attributes)
        if self.status in ("paid", "void") and self.account_amount_due == 0:
            # Nothing to collect, nothing to dun: the invoice leaves the dunning schedule in the same write
            # that settles it, instead of lingering there (and in `next_reminder_at`) until the next run.
            for name in _DUNNING_SCHEDULE:
                attributes.pop(name, None)
        return invoice_key(self.id) | attributes | ledger | self._status_listing_keys()

    def _status_listing_keys(self) -> dict[str, str]:
        """The per-status listing index (gsi4): it moves with every status change the store writes."""
        storefront, created = self.attributes.get("storefront_id"), self.attributes.get("created_at")
        if not storefront or not created:
            return {}
        return {"gsi4pk": f"INVOICES#{storefront}#{self.status}", "gsi4sk": f"{created}#{self.id}"}

    # -------------------------------------------------------------------------------- the ledger
    @property
    def net_paid(self) -> Decimal:
        return self.amount_paid - self.amount_refunded

    @property
    def balance(self) -> Decimal:
        """What the invoice itself still asks for (may go negative only transiently, in a rule)."""
        return self.total - self.amount_credited - self.amount_paid + self.amount_refunded

    @property
    def fees_due(self) -> Decimal:
        return self.late_fees - self.fees_paid

    @property
    def interest_due(self) -> Decimal:
        return max(self.late_interest - self.interest_paid, Decimal(0))

    @property
    def costs_due(self) -> Decimal:
        return max(self.fees_due - self.interest_due, Decimal(0))

    @property
    def account_amount_due(self) -> Decimal:
        """What the customer owes on this invoice including fees and interest."""
        return self.amount_due + self.fees_due

    def get(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    # ------------------------------------------------------------------------------ new versions
    def with_attributes(self, **values: Any) -> Invoice:
        """A copy with these values set: ledger fields typed, other attributes as given (None removes)."""
        ledger = {k: v for k, v in values.items() if k in _LEDGER_FIELDS}
        merged = dict(self.attributes) | {k: v for k, v in values.items() if k not in _LEDGER_FIELDS}
        attributes = MappingProxyType({k: v for k, v in merged.items() if v is not None})
        return replace(self, attributes=attributes, **ledger)

    def without(self, *names: str) -> Invoice:
        return replace(
            self, attributes=MappingProxyType({k: v for k, v in self.attributes.items() if k not in names})
        )
