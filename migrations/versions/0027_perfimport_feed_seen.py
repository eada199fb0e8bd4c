"""journal_feed_seen: a digest of the last feed row applied to each account and the account's
state after it, so an unchanged replay of a feed skips its rows (issue 15)

Revision ID: 0027_perfimport_feed_seen
Revises: 0027_servicing_plan_revision
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_perfimport_feed_seen'
down_revision = '0027_servicing_plan_revision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'journal_feed_seen',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_journal_feed_seen_account_id_account')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_journal_feed_seen')),
    )


def downgrade():
    op.drop_table('journal_feed_seen')
