"""Customer records: the finance team corrects contact details and sets how the customer is reminded.

Contact fields are validated exactly as at order intake: the patch is applied to the stored record and
the result goes through intake's `CustomerIn` (so an address and its VAT id are always checked together).
The update is conditioned on the record's `version` (optionally the caller's `If-Match`), and writes a
history entry and the `customer.updated` outbox event in the same transaction. Issued invoices copied
the address they were issued with and never change. See docs/decisions/0013-voids-credit-notes-history.md.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from receivables import aws, clock, money
from receivables.dunning import default_policy, merge_policy
from receivables.errors import DomainError, FieldError, InvalidRequest, NotFound, field_errors_from_pydantic
from receivables.intake import CustomerIn
from receivables.items import from_item, to_item, to_value
from receivables.outbox import new_event, outbox_put
from receivables.payment_records import customer_credits
from receivables.records import read
from receivables.sms import is_valid_phone

CONTACT_FIELDS = ("email", "name", "locale", "address", "vat_id")
CUSTOMER_ENTITY = "customer"
REMINDER_FIELDS = ("reminder_channel", "phone")
# How the customer receives invoices as e-invoices (receivables.einvoice, decisions/0036).
EINVOICE_FIELDS = ("einvoice_format", "buyer_reference")
PATCHABLE_FIELDS = (*CONTACT_FIELDS, *REMINDER_FIELDS, *EINVOICE_FIELDS, "dunning_overrides")
_MAX_ATTEMPTS = 10
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


def _e164(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        number = _PHONE_SEPARATORS.sub("", value)
        # the form alone lets "+1234567" through; SMS needs a number some country actually assigns
        if _E164.fullmatch(number) and is_valid_phone(number):
            return number
    raise ValueError('Input should be a valid phone number in E.164 form, e.g. "+4915112345678"')


class ReminderPreferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reminder_channel: Literal["email", "email_and_sms"] = "email"
    phone: Annotated[str | None, BeforeValidator(_e164)] = None


class EInvoicePreferences(BaseModel):
    """Every PDF carries the Factur-X XML; "xrechnung" also emails an XRechnung 3.0 beside it, which needs
    the buyer reference (BT-10): for German public buyers their Leitweg-ID (BR-DE-15)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    einvoice_format: Literal["zugferd", "xrechnung"] = "zugferd"
    buyer_reference: Annotated[str | None, Field(min_length=1, max_length=200)] = None


def einvoice_preferences(customer: dict[str, Any] | None) -> EInvoicePreferences:
    """The stored preferences; a customer without them (or unknown) gets the Factur-X PDF only."""
    stored = {name: (customer or {}).get(name) for name in EINVOICE_FIELDS}
    return EInvoicePreferences.model_validate({k: v for k, v in stored.items() if v is not None})


def patched_values(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The new value of each field the patch names (None: remove it), validated; InvalidRequest otherwise.

    `address` is merged into the stored address (a null member removes it, as in JSON Merge Patch);
    every other field, `dunning_overrides` included, is replaced whole.
    """
    errors = [
        FieldError(name, f"Unknown or read-only field; you can change {', '.join(PATCHABLE_FIELDS)}")
        for name in sorted(set(patch) - set(PATCHABLE_FIELDS))
    ]
    values: dict[str, Any] = {}
    if any(name in patch for name in CONTACT_FIELDS):
        contact = {name: current.get(name) for name in CONTACT_FIELDS}
        for name in CONTACT_FIELDS:
            if name in patch:
                contact[name] = patch[name]
        stored_address, address = current.get("address"), patch.get("address")
        if isinstance(address, dict) and isinstance(stored_address, dict):
            merged = stored_address | address
            contact["address"] = {key: value for key, value in merged.items() if value is not None}
        try:
            customer = CustomerIn.model_validate(contact)
        except ValidationError as exc:
            errors += field_errors_from_pydantic(exc)
        else:
            validated = {
                "email": customer.email,
                "name": customer.name,
                "locale": customer.locale,
                "address": customer.address.model_dump(exclude_none=True),
                "vat_id": customer.vat_id,
            }
            values |= {name: validated[name] for name in CONTACT_FIELDS if name in patch}
    if any(name in patch for name in REMINDER_FIELDS):
        channel = patch.get("reminder_channel", current.get("reminder_channel"))
        preferences = {
            "reminder_channel": "email" if channel is None else channel,
            "phone": patch.get("phone", current.get("phone")),
        }
        try:
            chosen = ReminderPreferences.model_validate(preferences)
        except ValidationError as exc:
            errors += field_errors_from_pydantic(exc)
        else:
            if chosen.reminder_channel == "email_and_sms" and chosen.phone is None:
                errors.append(FieldError("phone", "SMS reminders need a phone number"))
            values |= {name: getattr(chosen, name) for name in REMINDER_FIELDS if name in patch}
    if any(name in patch for name in EINVOICE_FIELDS):
        merged = {name: patch.get(name, current.get(name)) for name in EINVOICE_FIELDS}
        try:
            chosen_format = EInvoicePreferences.model_validate(
                {name: value for name, value in merged.items() if value is not None}
            )
        except ValidationError as exc:
            errors += field_errors_from_pydantic(exc)
        else:
            if chosen_format.einvoice_format == "xrechnung" and chosen_format.buyer_reference is None:
                errors.append(
                    FieldError("buyer_reference", "XRechnung needs the buyer reference, e.g. a Leitweg-ID")
                )
            values |= {
                name: None if merged[name] is None else getattr(chosen_format, name)
                for name in EINVOICE_FIELDS
                if name in patch
            }
    if "dunning_overrides" in patch:
        errors += _override_errors(patch["dunning_overrides"])
        values["dunning_overrides"] = patch["dunning_overrides"]
    if errors:
        raise InvalidRequest(errors)
    return values


def _override_errors(overrides: object) -> list[FieldError]:
    """Overrides must give a valid policy when merged into the default one (dunning.merge_policy)."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return [FieldError("dunning_overrides", "Input should be an object (or null to remove it)")]
    try:
        merge_policy(default_policy(), overrides)
    except ValidationError as exc:
        return [
            FieldError(
                "dunning_overrides" if error.field == "body" else f"dunning_overrides.{error.field}",
                error.message,
            )
            for error in field_errors_from_pydantic(exc)
        ]
    return []


def update_customer(
    table_name: str, customer_id: str, patch: dict[str, Any], expected_version: int | None, actor: str
) -> dict[str, Any]:
    """Applies the patch (a no-op patch writes nothing) and returns the customer as GET shows it.

    `expected_version` (If-Match) that is not the stored version is a PreconditionFailed, also when a
    concurrent change wins the race; without it, a lost race is read again and retried.
    """
    client = aws.client("dynamodb")
    for _ in range(_MAX_ATTEMPTS):
        current = _profile(table_name, customer_id)
        version = int(current.get("version", 0))
        if expected_version is not None and expected_version != version:
            raise PreconditionFailed(f"The customer is at version {version}, not {expected_version}.")
        values = patched_values(current, patch)
        changed = [name for name in PATCHABLE_FIELDS if name in values and values[name] != current.get(name)]
        if not changed:
            return get_customer(table_name, customer_id)
        try:
            client.transact_write_items(
                TransactItems=_update_items(table_name, current, version, values, changed, actor)
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            if expected_version is not None:
                raise PreconditionFailed(
                    "The customer changed meanwhile; reload and try again."
                ) from cancelled
            continue
        return get_customer(table_name, customer_id)
    raise PreconditionFailed("The customer kept changing; reload and try again.")


def _update_items(
    table_name: str,
    current: dict[str, Any],
    version: int,
    values: dict[str, Any],
    changed: list[str],
    actor: str,
) -> list[dict[str, Any]]:
    customer_id = current["id"]
    now = clock.iso(clock.now())
    sets = {name: values[name] for name in changed if values[name] is not None}
    sets |= {"updated_at": now, "updated_by": actor}
    removed = [name for name in changed if values[name] is None]
    names = {f"#s{i}": name for i, name in enumerate(sets)} | {
        f"#r{i}": name for i, name in enumerate(removed)
    }
    expression_values = {f":s{i}": value for i, value in enumerate(sets.values())} | {":next": version + 1}
    expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets))) + ", version = :next"
    if removed:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed)))
    if "version" in current:
        condition = "attribute_exists(pk) AND version = :version"
        expression_values[":version"] = version
    else:
        condition = "attribute_exists(pk) AND attribute_not_exists(version)"
    history = {
        "pk": f"CUSTOMER#{customer_id}",
        "sk": f"HISTORY#{now}#{version + 1:010d}",
        "entity": "customer_history",
        "customer_id": customer_id,
        "at": now,
        "actor": actor,
        "cause": "customer record updated",
        "version": version + 1,
        "changed_fields": changed,
        "changes": {name: {"old": current.get(name), "new": values[name]} for name in changed},
    }
    event = new_event(
        "customer.updated",
        {"customer_id": customer_id, "changed_fields": changed, "changed_by": actor, "version": version + 1},
    )
    return [
        {
            "Update": {
                "TableName": table_name,
                "Key": to_item(customer_key(customer_id)),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    key: to_value(value) for key, value in expression_values.items()
                },
            }
        },
        {
            "Put": {
                "TableName": table_name,
                "Item": to_item(history),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        outbox_put(table_name, event),
    ]


def _profile(table_name: str, customer_id: str) -> dict[str, Any]:
    response = aws.client("dynamodb").get_item(
        TableName=table_name, Key=to_item(customer_key(customer_id)), ConsistentRead=True
    )
    item = from_item(response["Item"]) if "Item" in response else None
    if item is None or item.get("entity") != "customer":
        raise NotFound(f"No customer {customer_id}.")
    return item


def json_safe(value: Any) -> Any:
    """A stored value as JSON without floats: whole numbers as numbers, fractions as decimal strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def customer_key(customer_id: str) -> dict[str, str]:
    return {"pk": f"CUSTOMER#{customer_id}", "sk": "PROFILE"}


def read_customer(table_name: str, customer_id: str) -> dict[str, Any] | None:
    """The customer's current record (contact data, reminder preferences), or None."""
    item = read(table_name, customer_key(customer_id))
    return item if item is not None and item.get("entity") == CUSTOMER_ENTITY else None


def current_email(table_name: str, customer_id: str, as_issued: str) -> str:
    """Where reminders, notices and confirmations go: the customer's current address, not the one an
    invoice printed (finance may have changed it since)."""
    customer = read_customer(table_name, customer_id)
    return str(customer["email"]) if customer and customer.get("email") else as_issued


def get_customer(table_name: str, customer_id: str) -> dict[str, Any]:
    """The customer's current details, reminder preferences and credit balances (per currency)."""
    response = aws.client("dynamodb").get_item(
        TableName=table_name, Key=to_item(customer_key(customer_id)), ConsistentRead=True
    )
    if "Item" not in response:
        raise NotFound(f"No customer {customer_id}.")
    item = from_item(response["Item"])
    credits = customer_credits(table_name, customer_id)
    return {
        "id": item["id"],
        "email": item["email"],
        "name": item["name"],
        "locale": item["locale"],
        "vat_id": item.get("vat_id"),
        "address": item["address"],
        "reminder_channel": item.get("reminder_channel", "email"),
        "phone": item.get("phone"),
        "einvoice_format": item.get("einvoice_format", "zugferd"),
        "buyer_reference": item.get("buyer_reference"),
        "dunning_overrides": json_safe(item.get("dunning_overrides")),
        "version": int(item.get("version", 0)),
        "credit_balance": {cur: money.format_amount(amount, cur) for cur, amount in sorted(credits.items())},
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def storefront_upsert(table_name: str, customer_id: str, sent: dict[str, Any], now: str) -> dict[str, Any]:
    """The customer write that goes with an order (a TransactWriteItems `Update`, version-checked).

    A field takes the storefront's value only when that value differs from what the storefront sent the
    last time (`storefront_sent`): storefront changes propagate, finance's edits stick until then.
    """
    current = read(table_name, customer_key(customer_id))
    last_sent = dict((current or {}).get("storefront_sent") or {})
    values = {
        name: sent.get(name)
        for name in CONTACT_FIELDS
        if current is None or sent.get(name) != last_sent.get(name, _NEVER_SENT)
    }
    sets = {name: value for name, value in values.items() if value is not None}
    removes = [name for name, value in values.items() if value is None]
    sets |= {
        "entity": CUSTOMER_ENTITY,
        "id": customer_id,
        "storefront_sent": dict(sent),  # None kept: "sent no VAT id" is a value too
        "updated_at": now,
        "version": int((current or {}).get("version", 0)) + 1,
    }
    if current is None:
        sets["created_at"] = now
    names = {f"#s{i}": name for i, name in enumerate(sets)} | {
        f"#r{i}": name for i, name in enumerate(removes)
    }
    expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    if removes:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    values_out = {f":s{i}": to_value(value) for i, value in enumerate(sets.values())}
    if current is None:
        condition = "attribute_not_exists(pk)"
    elif "version" not in current:
        condition = "attribute_not_exists(version)"
    else:
        condition = "version = :expected"
        values_out[":expected"] = to_value(current["version"])
    return {
        "Update": {
            "TableName": table_name,
            "Key": to_item(customer_key(customer_id)),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values_out,
        }
    }


_NEVER_SENT = object()  # a record from before `storefront_sent`: every field counts as changed
