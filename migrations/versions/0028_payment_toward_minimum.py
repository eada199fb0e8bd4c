"""payment.toward_minimum: what of a payment went to the statement's minimum when it was posted

A refund or chargeback takes back the part beyond the minimum first; only what it takes of
the minimum makes the amount owed again (docs/money.md).

Revision ID: 0028_payment_toward_minimum
Revises: 0027_gaps16_waived_fees
Create Date: 2026-12-06 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_payment_toward_minimum'
down_revision = '0027_gaps16_waived_fees'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment') as batch_op:
        batch_op.add_column(sa.Column('toward_minimum', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('payment') as batch_op:
        batch_op.drop_column('toward_minimum')
