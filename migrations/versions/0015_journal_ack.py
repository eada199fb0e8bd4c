"""journal_ack: the portal movements the issuer has applied; ledger entries by posting time

The issuer's feed says which portal movements (payments, reversals, dispute credits, waivers...)
it has applied (`applied_portal_ids`, or the date rule for old feeds); each is recorded once
here. Until then the feed import leaves the movement on top of the issuer's figure. Exports of
the journal select ledger entries by posting time, hence the index.

Existing portal movements dated on or before their account's last feed are marked applied
(source old_feed): before this revision each feed import folded exactly those into the issuer's
figures, so the balances shown do not change. Movements dated after it stay on top of the
issuer's figure until a feed acknowledges them (docs/money.md).

Revision ID: 0015_journal_ack
Revises: 0014_chargeback_lifecycle
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_journal_ack'
down_revision = '0014_chargeback_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journal_ack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('feed_as_of', sa.Date(), nullable=False),
    sa.Column('source', sa.Enum('feed', 'old_feed', name='ack_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_journal_ack_account_id_account')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_journal_ack_ledger_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_ack')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_journal_ack_ledger_entry_id'))
    )
    with op.batch_alter_table('journal_ack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_ack_account_id'), ['account_id'], unique=False)
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_posted_at'), ['posted_at'], unique=False)
    # portal.journal.models.is_movement, as it stands at this revision.
    op.execute("""
        INSERT INTO journal_ack (ledger_entry_id, account_id, feed_as_of, source, recorded_at)
        SELECT e.id, e.account_id, a.feed_as_of, 'old_feed', CURRENT_TIMESTAMP
        FROM ledger_entry e JOIN account a ON a.id = e.account_id
        WHERE a.feed_as_of IS NOT NULL AND e.effective_date <= a.feed_as_of
          AND e.kind <> 'statement_balance'
          AND e.source_ref NOT LIKE 'feed:%' AND e.source_ref NOT LIKE 'nightly:%'
        ORDER BY e.id
    """)


def downgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_posted_at'))
    with op.batch_alter_table('journal_ack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_ack_account_id'))
    op.drop_table('journal_ack')
