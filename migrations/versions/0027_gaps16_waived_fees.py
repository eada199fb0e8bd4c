"""consequence_event.waived: a late fee not charged because its day fell in a breathing space
whose profile freezes fees (issue 16); such a fee is waived, never charged after the period.

Revision ID: 0027_gaps16_waived_fees
Revises: 0026_onetap_links
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_gaps16_waived_fees'
down_revision = '0026_onetap_links'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consequence_event') as batch_op:
        batch_op.add_column(sa.Column('waived', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('consequence_event') as batch_op:
        batch_op.drop_column('waived')
