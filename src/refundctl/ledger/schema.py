"""The names of the schema migrations this refundctl knows, without importing sqlite-utils.

Opening a ledger only needs to compare names to know whether it is current, older (upgrade) or
newer (refuse); the migrations themselves, and sqlite-utils with them, are imported only when
one has to run. A test checks that this list matches ``migrations.py``.
"""

MIGRATION_SET = "refundctl"
MIGRATION_NAMES = ("m001_create_tables", "m002_create_deadline_index")
