"""plan.repriced: why a plan's terms were priced again on the day it would start

A plan approved after review (or a counter-offer accepted later) is priced from that day's
balance; when the terms change, the plan waits for the cardholder's consent again with the new
terms, and this column keeps the balance before and now and the movements between, so the
cardholder's page can say why.

Revision ID: 0017_plan_repriced
Revises: 0016_append_only_triggers
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_plan_repriced'
down_revision = '0016_append_only_triggers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repriced', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('repriced')
