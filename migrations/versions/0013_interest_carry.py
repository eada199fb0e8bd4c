"""account_nightly_state.interest_carry: penalty interest accrued but not yet posted

Each night's exact interest is added to this remainder (billionths of a minor unit); whole
minor units are posted, the rest carried, so postings never exceed the disclosed rate.
Existing accounts start from no remainder.

Revision ID: 0013_interest_carry
Revises: 0012_audit_head
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_interest_carry'
down_revision = '0012_audit_head'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_nightly_state') as batch:
        batch.add_column(sa.Column('interest_carry', sa.BigInteger(), nullable=False,
                                   server_default='0'))


def downgrade():
    with op.batch_alter_table('account_nightly_state') as batch:
        batch.drop_column('interest_carry')
