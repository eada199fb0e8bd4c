"""refund_seq on payments

A staff refund's idempotency key at the provider includes the number of refunds made through
the portal so far, so a retry after an unknown result reuses the key (the provider answers with
the same refund) until the refund is known to be made. Existing rows start at 0.

Revision ID: 0011_refund_seq
Revises: 0010_legal
Create Date: 2026-11-29 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_refund_seq'
down_revision = '0010_legal'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_seq', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('refund_seq')
