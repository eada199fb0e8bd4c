"""plan_instalment.credited_amount: what an upheld dispute's credit took off an instalment

Part of paid_amount that the cardholder did not pay: the plan page shows what was paid and
what credits took off separately, and an instalment only a credit covered is not "paid early".

Revision ID: 0029_instalment_credited
Revises: 0027_perfpages_agreed_index
Create Date: 2026-12-06 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_instalment_credited'
down_revision = '0027_perfpages_agreed_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_instalment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_amount', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.create_check_constraint(
            'credited_within_paid', 'credited_amount >= 0 AND credited_amount <= paid_amount')


def downgrade():
    with op.batch_alter_table('plan_instalment', schema=None) as batch_op:
        batch_op.drop_constraint('credited_within_paid', type_='check')
        batch_op.drop_column('credited_amount')
