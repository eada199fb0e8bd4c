"""Proposals and the worklist page by key: indexes on (key IS NULL, key, id)

The proposals list (oldest accepted first) and the worklist (oldest unpaid due date first)
have sort keys that may be NULL; they page by key with their NULLs last
(portal.core.pagination.NullsLast), sorting on (key IS NULL, key, id), which these indexes
serve. The proposals' index replaces ix_plan_status_accepted_at_id; the accounts-to-assign
list keeps ix_account_oldest_unpaid_id. Alembic's batch mode on SQLite does not reflect
expression indexes: a later batch_alter_table on plan or account must create them again.

Revision ID: 0031_staff_keyset_order
Revises: 0030_page_version
Create Date: 2026-12-06 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_staff_keyset_order'
down_revision = '0030_page_version'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_plan_status_accepted_order', 'plan',
                    ['status', sa.text('(accepted_at IS NULL)'), 'accepted_at', 'id'])
    op.drop_index('ix_plan_status_accepted_at_id', table_name='plan')
    op.create_index('ix_account_oldest_unpaid_order', 'account',
                    [sa.text('(oldest_unpaid_due_date IS NULL)'), 'oldest_unpaid_due_date', 'id'])


def downgrade():
    op.drop_index('ix_account_oldest_unpaid_order', table_name='account')
    op.create_index('ix_plan_status_accepted_at_id', 'plan', ['status', 'accepted_at', 'id'])
    op.drop_index('ix_plan_status_accepted_order', table_name='plan')
