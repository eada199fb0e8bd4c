"""Staff lists: indexes that serve each list's order, and the dispute queue's work order

dispute.sla_paused and dispute.sla_due_at cache the order of the open-dispute queue (clock
paused last, then the deadline that runs now; NULL once closed), rewritten by the model on
every insert and update; with the index on (sla_paused, sla_due_at, id) a page of the queue
is an index scan. Payments newest first (all or by status), plans by status, accounts by
the oldest unpaid due date (the worklist's pages and the accounts to assign).

Revision ID: 0024_stafflists_list_indexes
Revises: 0024_snapshots_ledger
Create Date: 2026-12-06 08:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_stafflists_list_indexes'
down_revision = '0024_snapshots_ledger'
branch_labels = None
depends_on = None

ACTIVE = ('open', 'acknowledged', 'awaiting_customer', 'escalated', 'pending_approval')


def upgrade():
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_paused', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
    active = ", ".join(f"'{s}'" for s in ACTIVE)
    op.execute(
        "UPDATE dispute SET sla_paused = (status = 'awaiting_customer'), "
        "sla_due_at = CASE WHEN acknowledged_at IS NULL THEN acknowledge_by "
        f"ELSE resolve_by END WHERE status IN ({active})")
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index('ix_dispute_work_order', ['sla_paused', 'sla_due_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_dispute_closed_order', ['closed_at', 'id'], unique=False)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_payment_status_created_at_id', ['status', 'created_at', 'id'],
                              unique=False)
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_oldest_unpaid_id', ['oldest_unpaid_due_date', 'id'],
                              unique=False)
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index('ix_plan_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_plan_status_accepted_at_id', ['status', 'accepted_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_status_accepted_at_id')
        batch_op.drop_index('ix_plan_status_id')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_oldest_unpaid_id')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_status_created_at_id')
        batch_op.drop_index('ix_payment_created_at_id')
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index('ix_dispute_closed_order')
        batch_op.drop_index('ix_dispute_work_order')
        batch_op.drop_column('sla_due_at')
        batch_op.drop_column('sla_paused')
