"""Issue or revoke a storefront API key in a deployed stack's table.

    make api-key TABLE=<TableName output> STOREFRONT=my-shop [SCOPES="orders reports"]
    make revoke-api-key TABLE=... KEY=sk_...

The key is printed once; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import argparse

from receivables.api_keys import register_api_key, revoke_api_key


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue")
    issue.add_argument("--table", required=True)
    issue.add_argument("--storefront", required=True)
    issue.add_argument("--scopes", default="orders")
    revoke = commands.add_parser("revoke")
    revoke.add_argument("--table", required=True)
    revoke.add_argument("--key", required=True)
    options = parser.parse_args()
    if options.command == "issue":
        print(register_api_key(options.table, options.storefront, frozenset(options.scopes.split())))
    else:
        revoke_api_key(options.table, options.key)
        print("revoked")


if __name__ == "__main__":
    main()
