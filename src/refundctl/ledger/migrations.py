"""The ledger's schema, one numbered migration at a time, through sqlite-utils' ``Migrations``.

A migration that has shipped is never edited; a change is a new ``mNNN_verb_noun``. Money
columns hold integer minor units, times ISO 8601 text in UTC (which sorts as time does).
Events are append-only, and triggers make SQLite itself refuse an edit or a delete.

``schema_problems`` holds a ledger's schema up against what these migrations make at the schema
its migrations table names, built afresh in memory: a ledger from elsewhere (a backup) that
carries a trigger or view of its own, or lacks a table's columns, is not refundctl's.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from refundctl.integrity import SchemaObject, foreign_schema
from refundctl.ledger import schema
from refundctl.ledger.schema import MIGRATION_SET

migrations = Migrations(MIGRATION_SET)

# States that hold the "one active dispute per order item" slot. Kept here, not imported from
# the domain, because a migration must keep meaning what it meant when it shipped.
_ACTIVE_STATES = (
    "'awaiting_seller', 'awaiting_buyer', 'escalated', "
    "'return_to_ship', 'return_in_transit', 'refund_pending'"
)


@migrations()
def m001_create_tables(db: Database) -> None:
    db.table("orders").create(
        {
            "id": int,
            "marketplace": str,
            "order_no": str,
            "seller": str,
            "title": str,
            "total": int,
            "currency": str,
            "ordered": str,
            "shipped": str,
            "expected_by": str,
            "received": str,
            "protection_ends": str,
            "payment": str,
            "created": str,
            "updated": str,
        },
        pk="id",
        not_null={"marketplace", "order_no", "total", "currency", "created", "updated"},
    )
    db.table("orders").create_index(["marketplace", "order_no"], unique=True)
    db.table("orders").create_index(["order_no"])

    db.table("order_items").create(
        {"id": int, "order_id": int, "position": int, "name": str, "quantity": int, "price": int},
        pk="id",
        foreign_keys=[("order_id", "orders", "id")],
        not_null={"order_id", "position", "name", "quantity"},
    )
    db.table("order_items").create_index(["order_id", "position"], unique=True)

    db.table("order_events").create(
        {"id": int, "order_id": int, "kind": str, "changes": str, "at": str, "recorded": str},
        pk="id",
        foreign_keys=[("order_id", "orders", "id")],
        not_null={"order_id", "kind", "at", "recorded"},
    )
    db.table("order_events").create_index(["order_id"])

    # The current state of each dispute is a cache of what its events say, kept in the same
    # transaction as the event that changed it, so listings need not replay every dispute.
    db.table("disputes").create(
        {
            "id": int,
            "order_id": int,
            "item": str,
            "reason": str,
            "case_ref": str,
            "description": str,
            "state": str,
            "requested": int,
            "offer": int,
            "agreed": int,
            "refunded": int,
            "opened_at": str,
            "updated": str,
        },
        pk="id",
        foreign_keys=[("order_id", "orders", "id")],
        not_null={"order_id", "reason", "state", "requested", "opened_at", "updated"},
    )
    db.table("disputes").create_index(["order_id"])
    db.table("disputes").create_index(["state"])
    db.execute(
        "CREATE UNIQUE INDEX disputes_one_active_per_item ON disputes "
        f"(order_id, coalesce(item, '')) WHERE state IN ({_ACTIVE_STATES})"
    )

    db.table("evidence").create(
        {
            "id": int,
            "dispute_id": int,
            "kind": str,
            "name": str,
            "sha256": str,
            "size": int,
            "media_type": str,
            "url": str,
            "note": str,
            "added": str,
            "recorded": str,
        },
        pk="id",
        foreign_keys=[("dispute_id", "disputes", "id")],
        not_null={"dispute_id", "kind", "name", "added", "recorded"},
    )
    db.table("evidence").create_index(["dispute_id"])
    db.table("evidence").create_index(["sha256"])

    db.table("events").create(
        {
            "id": int,
            "dispute_id": int,
            "kind": str,
            "actor": str,
            "amount": int,
            "offer_kind": str,
            "note": str,
            "tracking": str,
            "credit": int,
            "retracts": int,
            "evidence_id": int,
            "at": str,
            "recorded": str,
        },
        pk="id",
        foreign_keys=[
            ("dispute_id", "disputes", "id"),
            ("retracts", "events", "id"),
            ("evidence_id", "evidence", "id"),
        ],
        not_null={"dispute_id", "kind", "actor", "credit", "at", "recorded"},
        defaults={"credit": 0},
    )
    db.table("events").create_index(["dispute_id", "id"])
    for table in ("events", "order_events"):
        for action in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
            )


@migrations()
def m002_create_deadline_index(db: Database) -> None:
    # Every open deadline, stored so that `check` and `status` read a range instead of
    # replaying every dispute. The table is clustered by due time (WITHOUT ROWID, due_at
    # first in the key), so "everything due by Friday" is one run of consecutive pages, and it
    # carries the order's number and marketplace (neither ever changes) so that `check` needs
    # no other table. dispute_id is 0 for an order's own window. It is a cache (DESIGN.md):
    # `deadline_basis` records, per marketplace, a fingerprint of the policy values, zone and
    # holiday data the rows were computed with, and the ledger recomputes a marketplace whose
    # fingerprint differs from what is in effect. Existing marketplaces start with an empty
    # fingerprint, so the first command after this upgrade computes their rows.
    db.execute(
        """
        CREATE TABLE deadlines (
            due_at INTEGER NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            dispute_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            is_next INTEGER NOT NULL,
            name TEXT NOT NULL,
            buyer INTEGER NOT NULL,
            binds TEXT NOT NULL,
            action TEXT NOT NULL,
            rule TEXT NOT NULL,
            stake REAL NOT NULL,
            lapses INTEGER NOT NULL,
            order_no TEXT NOT NULL,
            marketplace TEXT NOT NULL,
            PRIMARY KEY (due_at, order_id, dispute_id, position)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX deadlines_dispute ON deadlines (dispute_id)")
    db.execute("CREATE INDEX deadlines_order ON deadlines (order_id)")
    # The most urgent overdue rows first, for `status`: its few rows without a sort.
    db.execute(
        "CREATE INDEX deadlines_next_disputes ON deadlines (buyer, stake DESC, due_at, "
        "dispute_id) WHERE is_next = 1 AND dispute_id > 0"
    )
    db.execute(
        "CREATE INDEX deadlines_next_orders ON deadlines (buyer, stake DESC, due_at, order_id) "
        "WHERE is_next = 1 AND dispute_id = 0"
    )
    db.execute("CREATE TABLE deadline_basis (marketplace TEXT PRIMARY KEY, basis TEXT NOT NULL)")
    db.execute("INSERT INTO deadline_basis SELECT DISTINCT marketplace, '' FROM orders")
    # How many disputes are in each state, kept by SQLite itself, so that `status` can say
    # "and 99,980 more" without counting a million rows.
    db.execute("CREATE TABLE dispute_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    db.execute("INSERT INTO dispute_counts SELECT state, count(*) FROM disputes GROUP BY state")
    up = (
        "INSERT INTO dispute_counts (state, n) VALUES ({0}.state, 1) "
        "ON CONFLICT (state) DO UPDATE SET n = n + 1"
    )
    down = "UPDATE dispute_counts SET n = n - 1 WHERE state = {0}.state"
    db.execute(
        f"CREATE TRIGGER disputes_count_insert AFTER INSERT ON disputes "
        f"BEGIN {up.format('NEW')}; END"
    )
    db.execute(
        "CREATE TRIGGER disputes_count_update AFTER UPDATE OF state ON disputes "
        f"WHEN OLD.state != NEW.state BEGIN {down.format('OLD')}; {up.format('NEW')}; END"
    )
    db.execute(
        f"CREATE TRIGGER disputes_count_delete AFTER DELETE ON disputes "
        f"BEGIN {down.format('OLD')}; END"
    )


@migrations()
def m003_entered_deadlines_and_closed_orders(db: Database) -> None:
    # `refundctl due DISPUTE NAME WHEN` records the marketplace's own date for one deadline
    # as an event of kind 'due': the deadline's name, and the date (NULL: back to the rule).
    db.execute("ALTER TABLE events ADD COLUMN deadline TEXT")
    db.execute("ALTER TABLE events ADD COLUMN due TEXT")
    # `order close` and `order remove`: why an order's windows no longer concern the buyer
    # (arrived, gave-up, mistake, removed) and since when; NULL while it is open.
    db.execute("ALTER TABLE orders ADD COLUMN closed TEXT")
    db.execute("ALTER TABLE orders ADD COLUMN closed_at TEXT")
    # The deadline index again, as a cache of the deadline model of this version: each row
    # says what happens when it passes (if_missed) and, for a dispute, when its first deadline
    # that loses the buyer the case falls due (lapse_at, on every row of the dispute; NULL when
    # it has none), with first_lapse on that row: once it has passed, that row alone is shown.
    # Which deadline of a dispute is the most urgent depends on "now", so no row is marked as
    # its next any more: the queries rank every row. Its rows are computed again by the first
    # command that opens the ledger (an empty basis, as m002 left it).
    db.execute("DROP TABLE deadlines")
    db.execute(
        """
        CREATE TABLE deadlines (
            due_at INTEGER NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            dispute_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            buyer INTEGER NOT NULL,
            binds TEXT NOT NULL,
            action TEXT NOT NULL,
            rule TEXT NOT NULL,
            stake REAL NOT NULL,
            lapses INTEGER NOT NULL,
            order_no TEXT NOT NULL,
            marketplace TEXT NOT NULL,
            if_missed TEXT NOT NULL,
            lapse_at INTEGER,
            first_lapse INTEGER NOT NULL,
            PRIMARY KEY (due_at, order_id, dispute_id, position)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX deadlines_dispute ON deadlines (dispute_id)")
    db.execute("CREATE INDEX deadlines_order ON deadlines (order_id)")
    # The most urgent overdue rows first, for `status`: its few rows without a sort.
    db.execute(
        "CREATE INDEX deadlines_urgent_disputes ON deadlines (buyer, stake DESC, due_at, "
        "dispute_id) WHERE dispute_id > 0"
    )
    db.execute(
        "CREATE INDEX deadlines_urgent_orders ON deadlines (buyer, stake DESC, due_at, order_id) "
        "WHERE dispute_id = 0"
    )
    db.execute("UPDATE deadline_basis SET basis = ''")


@migrations()
def m004_store_dispute_folds(db: Database) -> None:
    # Each dispute's current state as JSON (ledger/rows.py spells it), written with each
    # event: a listing reads it instead of replaying the events. NULL until the upgrade (or
    # the first command after a quick one) stores it; a read replays a dispute without one.
    # The partial index finds those in one step, so that asking costs nothing per write.
    db.execute("ALTER TABLE disputes ADD COLUMN folded TEXT")
    db.execute("CREATE INDEX disputes_unfolded ON disputes (id) WHERE folded IS NULL")


@migrations()
def m005_store_escalation_times(db: Database) -> None:
    # When each active dispute may first be escalated, and the rule that says so, as the
    # deadline code computed it with the policies of deadline_basis: a cache beside the
    # deadlines, so that `status --json` reads it instead of computing it for every dispute.
    # Filled by the first command that opens the ledger (an empty basis, as m002 left it).
    db.execute(
        "CREATE TABLE escalation (dispute_id INTEGER PRIMARY KEY REFERENCES disputes(id), "
        "marketplace TEXT NOT NULL, at INTEGER NOT NULL, rule TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX escalation_marketplace ON escalation (marketplace)")
    db.execute("UPDATE deadline_basis SET basis = ''")


@migrations()
def m006_dispute_remedies(db: Database) -> None:
    # A dispute filed through a payment rail rather than with the marketplace (`open --via`:
    # a card network's chargeback, a PayPal claim) names the rail; NULL for the marketplace's.
    db.execute("ALTER TABLE disputes ADD COLUMN via TEXT")
    # One active dispute per order item with the marketplace, and beside it one through a
    # rail: a chargeback may be filed while the marketplace case still runs.
    db.execute("DROP INDEX disputes_one_active_per_item")
    db.execute(
        "CREATE UNIQUE INDEX disputes_one_active_per_item ON disputes "
        f"(order_id, coalesce(item, ''), via IS NULL) WHERE state IN ({_ACTIVE_STATES})"
    )
    # Every deadline again: a lost case now shows the remedy beyond the marketplace.
    db.execute("UPDATE deadline_basis SET basis = ''")


@migrations()
def m007_store_check_text(db: Database) -> None:
    # Each deadline's item of `check --json` as text, but for whether it is overdue (which
    # depends on "now") and the rule (stored already): check_head up to that value, check_tail
    # from it to the rule. `check --json` joins them to the rule instead of building the text
    # of every item on every run. The ledger writes them with each row (render/jsonshape.py's
    # check_parts); here, for the rows already stored, SQLite writes the same text from the
    # row's columns, every string through json_quote (tests/test_upgrades.py holds the two
    # equal), so that the upgrade computes no deadline.
    db.execute("ALTER TABLE deadlines ADD COLUMN check_head TEXT")
    db.execute("ALTER TABLE deadlines ADD COLUMN check_tail TEXT")
    db.execute(
        """
        UPDATE deadlines SET
            check_head = CASE WHEN dispute_id THEN '{"kind": "dispute", "id": ' || dispute_id
                ELSE '{"kind": "order", "id": null' END
                || ', "order": ' || json_quote(order_no)
                || ', "marketplace": ' || json_quote(marketplace)
                || ', "deadline": {"name": ' || json_quote(name)
                || ', "due": "' || strftime('%Y-%m-%dT%H:%M:%S+00:00', due_at, 'unixepoch')
                || '", "binds": ' || json_quote(binds)
                || ', "action": ' || json_quote(action) || ', "overdue": ',
            check_tail = ', "if_missed": ' || json_quote(if_missed) || ', "rule": '
        """
    )


@migrations()
def m008_index_live_order_windows(db: Database) -> None:
    # The order windows that do not lapse, by urgency: what `status` walks first for the
    # overdue ones. The index of every order window (deadlines_urgent_orders) also holds the
    # remedy windows that lapse (a card's chargeback window, issue 18): one per paid order, so
    # at 1M orders the walk read 30,000 of them to find none (0.54 s of `status`'s 1.7 s).
    db.execute(
        "CREATE INDEX deadlines_live_orders ON deadlines (buyer, stake DESC, due_at, order_id) "
        "WHERE dispute_id = 0 AND lapses = 0"
    )


@migrations()
def m009_store_dispute_lines(db: Database) -> None:
    # `status --json`'s line of each dispute but for what depends on the time, the config or
    # the stored deadlines (render/jsonshape.dispute_head): a cache beside the dispute,
    # written with it, with its order and with the order's other disputes, so that a listing
    # of every dispute joins stored text instead of computing it for each one (issue 16).
    # The marketplace and the rail name the policy in effect, which is looked up as it is read.
    # Filled by the first command that opens the ledger (an empty basis, as m002 left it).
    db.execute(
        "CREATE TABLE dispute_lines (dispute_id INTEGER PRIMARY KEY REFERENCES disputes(id), "
        "marketplace TEXT NOT NULL, via TEXT, head TEXT NOT NULL)"
    )
    db.execute("UPDATE deadline_basis SET basis = ''")


@migrations()
def m010_cover_dispute_deadlines(db: Database) -> None:
    # Each dispute's deadlines by dispute, with what choosing its next one reads (its urgency,
    # whether it is on show, its name): the ranking of every dispute (`status --json`,
    # `status --all`) and each dispute's next deadline in an export read the index alone,
    # instead of one look-up per row into a table kept in due-time order (issue 16: 2.6 s ->
    # 1.0 s and 2.2 s -> 0.6 s at 100,000 disputes).
    db.execute("DROP INDEX deadlines_dispute")
    db.execute(
        "CREATE INDEX deadlines_dispute ON deadlines (dispute_id, due_at, buyer, position, "
        "lapses, lapse_at, first_lapse, stake, name)"
    )


# -- the schema they make --------------------------------------------------------------------


def schema_problems(conn: sqlite3.Connection) -> tuple[str, ...]:
    """How the schema of the ledger ``conn`` differs from the one these migrations make at the
    schema its migrations table names (nothing, for a ledger refundctl made)."""
    applied = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            (MIGRATION_SET,),
        )
    ]
    known = list(schema.MIGRATION_NAMES)  # through the module: a test may add a migration
    if not applied or applied != known[: len(applied)]:
        listed = ", ".join(applied) or "none"
        return (f"its migrations table lists {listed}, not refundctl's migrations in order",)
    return foreign_schema(schema_objects(conn), expected_schema(len(applied)))


def expected_schema(count: int) -> list[SchemaObject]:
    """The schema objects of a new ledger with the first ``count`` migrations applied, built in
    memory (some 20 ms)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        later = list(schema.MIGRATION_NAMES[count:])
        migrations.apply(Database(conn, execute_plugins=False), stop_before=later)
        return schema_objects(conn)
    finally:
        conn.close()


def schema_objects(conn: sqlite3.Connection) -> list[SchemaObject]:
    return [
        (str(kind), str(name), str(table), None if sql is None else str(sql))
        for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
        )
    ]
