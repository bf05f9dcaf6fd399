"""Subscriptions: recurring billing (issue 14; docs/decisions/0026-subscriptions.md).

`calendar` (periods), `requests` (the HTTP bodies, reusing order intake's validation), `store` (the one
writer of subscription items) and `billing` (each due period's invoice, exactly once, through the order
path).
"""
