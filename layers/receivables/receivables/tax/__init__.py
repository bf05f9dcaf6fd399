"""Tax determination: the EN 16931 VAT category and rate of every line, decided from the parties and the
line, never copied from the storefront (docs/decisions/0027-tax-determination.md)."""
