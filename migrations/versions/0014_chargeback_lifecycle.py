"""payment.dispute_status and payment_reversal.reinstated_at: chargebacks follow the provider's
dispute lifecycle (contested, funds withdrawn, won and reinstated)

Revision ID: 0014_chargeback_lifecycle
Revises: 0013_interest_carry
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_chargeback_lifecycle'
down_revision = '0013_interest_carry'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment') as batch:
        batch.add_column(sa.Column('dispute_status', sa.String(length=32), nullable=True))
    with op.batch_alter_table('payment_reversal') as batch:
        batch.add_column(sa.Column('reinstated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('payment_reversal') as batch:
        batch.drop_column('reinstated_at')
    with op.batch_alter_table('payment') as batch:
        batch.drop_column('dispute_status')
