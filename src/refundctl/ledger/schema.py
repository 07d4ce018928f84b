"""The names of the schema migrations this refundctl knows, without importing sqlite-utils,
and the ledger layer's one way of writing an INSERT.

Opening a ledger only needs to compare names to know whether it is current, older (upgrade) or
newer (refuse); the migrations themselves, and sqlite-utils with them, are imported only when
one has to run. A test checks that this list matches ``migrations.py``.
"""

import functools

MIGRATION_SET = "refundctl"
MIGRATION_NAMES = (
    "m001_create_tables",
    "m002_create_deadline_index",
    "m003_entered_deadlines_and_closed_orders",
    "m004_store_dispute_folds",
    "m005_store_escalation_times",
    "m006_dispute_remedies",
    "m007_store_check_text",
    "m008_index_live_order_windows",
    "m009_store_dispute_lines",
    "m010_cover_dispute_deadlines",
)


@functools.lru_cache(maxsize=16)
def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """An INSERT of rows given in ``columns``' order."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
