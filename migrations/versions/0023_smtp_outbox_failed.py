"""outbox_message.failed_at: a message whose delivery gave up for good

A permanent refusal (SMTP 5xx, SMS provider 4xx) or OUTBOX_MAX_ATTEMPTS failed attempts set it;
the outbox never retries such a message and admin sees it at /staff/jobs.

Revision ID: 0023_smtp_outbox_failed
Revises: 0022_sent_reminders
Create Date: 2026-12-06 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_smtp_outbox_failed'
down_revision = '0022_sent_reminders'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_failed_at'), ['failed_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_failed_at'))
        batch_op.drop_column('failed_at')
