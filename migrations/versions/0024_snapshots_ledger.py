"""ledger_snapshot: closing snapshots of each account's component sums, kept exact by trigger

Balances and the nightly run read an account's snapshot plus the entries dated after it
(docs/money.md, "Closing snapshots"). A ledger entry inserted with an effective date on or
before a snapshot's `closed_through` (a late payment, a correction, a feed adjustment dated in
the past) adds its amount to that snapshot in the same transaction: one AFTER INSERT trigger,
on PostgreSQL and on SQLite. On PostgreSQL the trigger fires after the foreign-key check, which
waits while the nightly run holds the account's row lock: an insert racing the run that writes
the snapshot therefore sees the snapshot it wrote.

Also: an index on ledger_entry (account_id, effective_date) for "entries since the snapshot",
and a partial one on the sparse kinds (fees, payments, reversals) for the parts of a balance
that depend on the issuer's feed date and on its acknowledgements.

Revision ID: 0024_snapshots_ledger
Revises: 0025_care_record
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_snapshots_ledger'
down_revision = '0025_care_record'
branch_labels = None
depends_on = None

SPARSE = "kind IN ('fee', 'payment', 'reversal')"
ADD = """
    principal = principal + CASE WHEN NEW.component = 'principal' THEN NEW.amount ELSE 0 END,
    interest = interest + CASE WHEN NEW.component = 'interest' THEN NEW.amount ELSE 0 END,
    fees = fees + CASE WHEN NEW.component = 'fee' THEN NEW.amount ELSE 0 END
WHERE account_id = NEW.account_id AND closed_through >= NEW.effective_date"""


def upgrade():
    op.create_table(
        'ledger_snapshot',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('closed_through', sa.Date(), nullable=False),
        sa.Column('principal', sa.BigInteger(), nullable=False),
        sa.Column('interest', sa.BigInteger(), nullable=False),
        sa.Column('fees', sa.BigInteger(), nullable=False),
        sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_ledger_snapshot_account_id_account')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_ledger_snapshot')),
    )
    op.create_index('ix_ledger_entry_account_day', 'ledger_entry',
                    ['account_id', 'effective_date'], unique=False)
    op.create_index('ix_ledger_entry_account_sparse', 'ledger_entry',
                    ['account_id', 'effective_date'], unique=False,
                    postgresql_where=sa.text(SPARSE), sqlite_where=sa.text(SPARSE))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION portal_ledger_snapshot_follow() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE ledger_snapshot SET {ADD};
                RETURN NULL;
            END $$""")
        # Lower-case name: fires after the RI_ConstraintTrigger (foreign key) of the insert.
        op.execute("CREATE TRIGGER ledger_snapshot_follow AFTER INSERT ON ledger_entry "
                   "FOR EACH ROW EXECUTE FUNCTION portal_ledger_snapshot_follow()")
    else:
        op.execute(f"""
            CREATE TRIGGER ledger_snapshot_follow AFTER INSERT ON ledger_entry
            BEGIN
                UPDATE ledger_snapshot SET {ADD};
            END""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS ledger_snapshot_follow ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS portal_ledger_snapshot_follow()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_snapshot_follow")
    op.drop_index('ix_ledger_entry_account_sparse', table_name='ledger_entry')
    op.drop_index('ix_ledger_entry_account_day', table_name='ledger_entry')
    op.drop_table('ledger_snapshot')
