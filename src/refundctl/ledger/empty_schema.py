# ruff: noqa: E501  (generated: one statement per line, as SQLite stores it)
"""The schema of a ledger with every migration applied, as SQL: what a new ledger is made of.

A new ledger is created from these statements in one transaction (``connection._create``), and
a read-only command on a new machine answers from an empty in-memory ledger built from them:
neither loads sqlite-utils nor runs the migrations one by one, which only an upgrade needs.
Generated from the migrations; ``tests/test_deadline_index.py`` checks that it still matches
them (and prints the new text when a migration is added).
"""

STATEMENTS = (
    'CREATE TABLE "_sqlite_migrations" (\n   "id" INTEGER PRIMARY KEY,\n   "migration_set" TEXT,\n   "name" TEXT,\n   "applied_at" TEXT\n)',
    'CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"\n    ON "_sqlite_migrations" ("migration_set", "name")',
    'CREATE TABLE "orders" (\n   "id" INTEGER PRIMARY KEY,\n   "marketplace" TEXT NOT NULL,\n   "order_no" TEXT NOT NULL,\n   "seller" TEXT,\n   "title" TEXT,\n   "total" INTEGER NOT NULL,\n   "currency" TEXT NOT NULL,\n   "ordered" TEXT,\n   "shipped" TEXT,\n   "expected_by" TEXT,\n   "received" TEXT,\n   "protection_ends" TEXT,\n   "payment" TEXT,\n   "created" TEXT NOT NULL,\n   "updated" TEXT NOT NULL\n, closed TEXT, closed_at TEXT)',
    'CREATE UNIQUE INDEX "idx_orders_marketplace_order_no"\n    ON "orders" ("marketplace", "order_no")',
    'CREATE INDEX "idx_orders_order_no"\n    ON "orders" ("order_no")',
    'CREATE TABLE "order_items" (\n   "id" INTEGER PRIMARY KEY,\n   "order_id" INTEGER NOT NULL REFERENCES "orders"("id"),\n   "position" INTEGER NOT NULL,\n   "name" TEXT NOT NULL,\n   "quantity" INTEGER NOT NULL,\n   "price" INTEGER\n)',
    'CREATE UNIQUE INDEX "idx_order_items_order_id_position"\n    ON "order_items" ("order_id", "position")',
    'CREATE TABLE "order_events" (\n   "id" INTEGER PRIMARY KEY,\n   "order_id" INTEGER NOT NULL REFERENCES "orders"("id"),\n   "kind" TEXT NOT NULL,\n   "changes" TEXT,\n   "at" TEXT NOT NULL,\n   "recorded" TEXT NOT NULL\n)',
    'CREATE INDEX "idx_order_events_order_id"\n    ON "order_events" ("order_id")',
    'CREATE TABLE "disputes" (\n   "id" INTEGER PRIMARY KEY,\n   "order_id" INTEGER NOT NULL REFERENCES "orders"("id"),\n   "item" TEXT,\n   "reason" TEXT NOT NULL,\n   "case_ref" TEXT,\n   "description" TEXT,\n   "state" TEXT NOT NULL,\n   "requested" INTEGER NOT NULL,\n   "offer" INTEGER,\n   "agreed" INTEGER,\n   "refunded" INTEGER,\n   "opened_at" TEXT NOT NULL,\n   "updated" TEXT NOT NULL\n, folded TEXT, via TEXT)',
    'CREATE INDEX "idx_disputes_order_id"\n    ON "disputes" ("order_id")',
    'CREATE INDEX "idx_disputes_state"\n    ON "disputes" ("state")',
    'CREATE TABLE "evidence" (\n   "id" INTEGER PRIMARY KEY,\n   "dispute_id" INTEGER NOT NULL REFERENCES "disputes"("id"),\n   "kind" TEXT NOT NULL,\n   "name" TEXT NOT NULL,\n   "sha256" TEXT,\n   "size" INTEGER,\n   "media_type" TEXT,\n   "url" TEXT,\n   "note" TEXT,\n   "added" TEXT NOT NULL,\n   "recorded" TEXT NOT NULL\n)',
    'CREATE INDEX "idx_evidence_dispute_id"\n    ON "evidence" ("dispute_id")',
    'CREATE INDEX "idx_evidence_sha256"\n    ON "evidence" ("sha256")',
    'CREATE TABLE "events" (\n   "id" INTEGER PRIMARY KEY,\n   "dispute_id" INTEGER NOT NULL REFERENCES "disputes"("id"),\n   "kind" TEXT NOT NULL,\n   "actor" TEXT NOT NULL,\n   "amount" INTEGER,\n   "offer_kind" TEXT,\n   "note" TEXT,\n   "tracking" TEXT,\n   "credit" INTEGER NOT NULL DEFAULT 0,\n   "retracts" INTEGER REFERENCES "events"("id"),\n   "evidence_id" INTEGER REFERENCES "evidence"("id"),\n   "at" TEXT NOT NULL,\n   "recorded" TEXT NOT NULL\n, deadline TEXT, due TEXT)',
    'CREATE INDEX "idx_events_dispute_id_id"\n    ON "events" ("dispute_id", "id")',
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events BEGIN SELECT RAISE(ABORT, 'order_events are append-only'); END",
    "CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events BEGIN SELECT RAISE(ABORT, 'order_events are append-only'); END",
    "CREATE TABLE deadline_basis (marketplace TEXT PRIMARY KEY, basis TEXT NOT NULL)",
    "CREATE TABLE dispute_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    "CREATE TRIGGER disputes_count_insert AFTER INSERT ON disputes BEGIN INSERT INTO dispute_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER disputes_count_update AFTER UPDATE OF state ON disputes WHEN OLD.state != NEW.state BEGIN UPDATE dispute_counts SET n = n - 1 WHERE state = OLD.state; INSERT INTO dispute_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER disputes_count_delete AFTER DELETE ON disputes BEGIN UPDATE dispute_counts SET n = n - 1 WHERE state = OLD.state; END",
    "CREATE TABLE deadlines (\n            due_at INTEGER NOT NULL,\n            order_id INTEGER NOT NULL REFERENCES orders(id),\n            dispute_id INTEGER NOT NULL,\n            position INTEGER NOT NULL,\n            name TEXT NOT NULL,\n            buyer INTEGER NOT NULL,\n            binds TEXT NOT NULL,\n            action TEXT NOT NULL,\n            rule TEXT NOT NULL,\n            stake REAL NOT NULL,\n            lapses INTEGER NOT NULL,\n            order_no TEXT NOT NULL,\n            marketplace TEXT NOT NULL,\n            if_missed TEXT NOT NULL,\n            lapse_at INTEGER,\n            first_lapse INTEGER NOT NULL, check_head TEXT, check_tail TEXT,\n            PRIMARY KEY (due_at, order_id, dispute_id, position)\n        ) WITHOUT ROWID\n        ",
    "CREATE INDEX deadlines_order ON deadlines (order_id)",
    "CREATE INDEX deadlines_urgent_disputes ON deadlines (buyer, stake DESC, due_at, dispute_id) WHERE dispute_id > 0",
    "CREATE INDEX deadlines_urgent_orders ON deadlines (buyer, stake DESC, due_at, order_id) WHERE dispute_id = 0",
    "CREATE INDEX disputes_unfolded ON disputes (id) WHERE folded IS NULL",
    "CREATE TABLE escalation (dispute_id INTEGER PRIMARY KEY REFERENCES disputes(id), marketplace TEXT NOT NULL, at INTEGER NOT NULL, rule TEXT NOT NULL)",
    "CREATE INDEX escalation_marketplace ON escalation (marketplace)",
    "CREATE UNIQUE INDEX disputes_one_active_per_item ON disputes (order_id, coalesce(item, ''), via IS NULL) WHERE state IN ('awaiting_seller', 'awaiting_buyer', 'escalated', 'return_to_ship', 'return_in_transit', 'refund_pending')",
    "CREATE INDEX deadlines_live_orders ON deadlines (buyer, stake DESC, due_at, order_id) WHERE dispute_id = 0 AND lapses = 0",
    "CREATE TABLE dispute_lines (dispute_id INTEGER PRIMARY KEY REFERENCES disputes(id), marketplace TEXT NOT NULL, via TEXT, head TEXT NOT NULL)",
    "CREATE INDEX deadlines_dispute ON deadlines (dispute_id, due_at, buyer, position, lapses, lapse_at, first_lapse, stake, name)",
)
