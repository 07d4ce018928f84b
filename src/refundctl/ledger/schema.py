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
)


# The columns that hold an order's number in the rows an import writes: ``id`` of an order,
# ``order_id`` of its items, events and deadlines (whose own ids SQLite gives).
ORDER_NUMBERS = frozenset({"id", "order_id"})


@functools.lru_cache(maxsize=16)
def insert_sql(table: str, columns: tuple[str, ...], shift: int = 0) -> str:
    """An INSERT of rows given in ``columns``' order, with each order's number
    (``ORDER_NUMBERS``) shifted by ``shift``: an import builds rows numbered from 1 before it
    knows the ledger's numbers. The shift is an int written into the SQL, so that the rows need
    no rebuilding."""
    values = ", ".join(
        f"? + {int(shift)}" if shift and name in ORDER_NUMBERS else "?" for name in columns
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
