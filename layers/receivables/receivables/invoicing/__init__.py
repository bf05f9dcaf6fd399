"""The invoice's one owner: the typed invoice (`model`), its pure `transitions` and the one `store`.

Every feature that changes an invoice reads it, asks a transition for the new invoice and its events,
and hands both to the store, which alone writes invoice items (docs/decisions/0023-invoice-ledger.md).
"""
