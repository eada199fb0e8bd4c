"""ledger_entry: the snapshot trigger once per statement on PostgreSQL; one redundant index less

A feed import COPYs hundreds of thousands of ledger entries in one statement; the closing
snapshot trigger of migration 0024 ran once per row (a PL/pgSQL call and an UPDATE each). On
PostgreSQL it now runs once per INSERT statement over the inserted rows (a transition table):
it first locks, in account order, the snapshots the new entries fall inside (dated on or
before `closed_through`), then adds each account's sums of those entries to its snapshot. For
a single-row insert this is what the row trigger did: the foreign-key check (a row trigger)
still runs first and waits while the nightly run holds the account's row lock, and the
trigger's statements take their snapshot after it, so they see the snapshot just written.
SQLite has no statement triggers and keeps the row trigger.

`ix_ledger_entry_account_id` goes: `account_id` leads `ix_ledger_entry_account_day` and
`uq_ledger_entry_source`, which serve every lookup by account (and the foreign key's checks
on account deletes) as well; it cost an index insert per entry.

Revision ID: 0032_import_ledger_bulk
Revises: 0031_staff_keyset_order
Create Date: 2026-12-06 18:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0032_import_ledger_bulk'
down_revision = '0031_staff_keyset_order'
branch_labels = None
depends_on = None

# The 0024 row trigger's function, for the downgrade.
ROW_ADD = """
    principal = principal + CASE WHEN NEW.component = 'principal' THEN NEW.amount ELSE 0 END,
    interest = interest + CASE WHEN NEW.component = 'interest' THEN NEW.amount ELSE 0 END,
    fees = fees + CASE WHEN NEW.component = 'fee' THEN NEW.amount ELSE 0 END
WHERE account_id = NEW.account_id AND closed_through >= NEW.effective_date"""

STATEMENT_FOLLOW = """
CREATE FUNCTION portal_ledger_snapshot_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Lock first (account order, so two inserts never deadlock): the next statement then
    -- sums against snapshots no one can rewrite before this transaction ends.
    PERFORM 1 FROM ledger_snapshot s
    WHERE EXISTS (SELECT 1 FROM added n
                  WHERE n.account_id = s.account_id AND n.effective_date <= s.closed_through)
    ORDER BY s.account_id
    FOR UPDATE;
    UPDATE ledger_snapshot s
    SET principal = s.principal + d.principal, interest = s.interest + d.interest,
        fees = s.fees + d.fees
    FROM (SELECT n.account_id,
                 sum(CASE WHEN n.component = 'principal' THEN n.amount ELSE 0 END) AS principal,
                 sum(CASE WHEN n.component = 'interest' THEN n.amount ELSE 0 END) AS interest,
                 sum(CASE WHEN n.component = 'fee' THEN n.amount ELSE 0 END) AS fees
          FROM added n JOIN ledger_snapshot t ON t.account_id = n.account_id
          WHERE n.effective_date <= t.closed_through
          GROUP BY n.account_id) AS d
    WHERE s.account_id = d.account_id;
    RETURN NULL;
END $$"""


def upgrade():
    op.drop_index('ix_ledger_entry_account_id', table_name='ledger_entry')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER ledger_snapshot_follow ON ledger_entry")
        op.execute("DROP FUNCTION portal_ledger_snapshot_follow()")
        op.execute(STATEMENT_FOLLOW)
        op.execute("CREATE TRIGGER ledger_snapshot_follow AFTER INSERT ON ledger_entry "
                   "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
                   "EXECUTE FUNCTION portal_ledger_snapshot_follow()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER ledger_snapshot_follow ON ledger_entry")
        op.execute("DROP FUNCTION portal_ledger_snapshot_follow()")
        op.execute(f"""
            CREATE FUNCTION portal_ledger_snapshot_follow() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE ledger_snapshot SET {ROW_ADD};
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER ledger_snapshot_follow AFTER INSERT ON ledger_entry "
                   "FOR EACH ROW EXECUTE FUNCTION portal_ledger_snapshot_follow()")
    op.create_index('ix_ledger_entry_account_id', 'ledger_entry', ['account_id'], unique=False)
