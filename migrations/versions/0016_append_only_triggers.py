"""PostgreSQL refuses UPDATE and DELETE on the ledger and the audit log, by trigger

The ORM hooks refuse edits made through the application; these refuse them from any client
(raw SQL, a console, another service). Corrections are new rows (reversal entries, correction
entries, audit events that say what changed). Nothing on SQLite, the development database.
Test suites that empty these tables between tests do so with session_replication_role =
replica, which only a superuser may set; the portal's own database user must not be one.

Revision ID: 0016_append_only_triggers
Revises: 0015_journal_ack
Create Date: 2026-12-06 04:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_append_only_triggers'
down_revision = '0015_journal_ack'
branch_labels = None
depends_on = None

TABLES = ('ledger_entry', 'audit_event')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE FUNCTION portal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS portal_refuse_change()")
