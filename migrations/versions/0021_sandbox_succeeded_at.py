"""sandbox_intent.succeeded_at: when the sandbox's charge succeeded

A success found later than its webhook (reconciliation after a lost webhook, a refund event
before the success event) is dated the day the provider took the money, as Stripe's
`latest_charge.created` tells it; the sandbox keeps that moment here.

Revision ID: 0021_sandbox_succeeded_at
Revises: 0020_staff_setup
Create Date: 2026-12-06 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_sandbox_succeeded_at'
down_revision = '0020_staff_setup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sandbox_intent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('sandbox_intent', schema=None) as batch_op:
        batch_op.drop_column('succeeded_at')
