"""sent_reminder: each reminder (plan payment due soon or missed, promise due) queued once

The reminders job (portal/collections/reminders.py) claims a (kind, instalment or promise)
key before it queues the message, so running it again, or on several workers, never sends
the same reminder twice.

Revision ID: 0022_sent_reminders
Revises: 0021_sandbox_succeeded_at
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_sent_reminders'
down_revision = '0021_sandbox_succeeded_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sent_reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('instalment_due_soon', 'instalment_missed', 'promise_due')",
                           name=op.f('ck_sent_reminder_kind_known')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_sent_reminder_account_id_account')),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'],
                                name=op.f('fk_sent_reminder_message_id_outbox_message')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reminder')),
        sa.UniqueConstraint('kind', 'subject_id', name='uq_sent_reminder_kind_subject'),
    )
    with op.batch_alter_table('sent_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_reminder_account_id'), ['account_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('sent_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_reminder_account_id'))
    op.drop_table('sent_reminder')
