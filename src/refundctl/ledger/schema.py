"""The names of the schema migrations this refundctl knows, without importing sqlite-utils,
and the ledger layer's one way of writing an INSERT.

Opening a ledger only needs to compare names to know whether it is current, older (upgrade) or
newer (refuse); the migrations themselves, and sqlite-utils with them, are imported only when
one has to run. A test checks that this list matches ``migrations.py``.
"""

import functools

MIGRATION_SET = "refundctl"
MIGRATION_NAMES = ("m001_create_tables", "m002_create_deadline_index")


@functools.lru_cache(maxsize=16)
def insert_sql(table: str, columns: tuple[str, ...], shift: int = 0) -> str:
    """An INSERT of rows given in ``columns``' order, with each order's number (``id`` of an
    order, ``order_id`` elsewhere) shifted by ``shift``: rows built before the ledger was
    opened are numbered from 1. The shift is an int written into the SQL, so that the rows need
    no rebuilding."""
    values = ", ".join(
        f"? + {int(shift)}" if shift and name in ("id", "order_id") else "?" for name in columns
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
