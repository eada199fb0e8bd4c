"""The worklist pages by key on coalesce(oldest unpaid due date, 9999-12-31), id

The worklist sorted and compared its key as (oldest_unpaid_due_date IS NULL,
oldest_unpaid_due_date, id) (0031_staff_keyset_order). PostgreSQL estimates such a row
comparison by its first term alone; with next to no NULLs it thought no row followed a
cursor, so it planned a page after a key afresh on every request and never kept the prepared
statement's one plan. Keyed on coalesce(oldest_unpaid_due_date, '9999-12-31') (accounts with
nothing unpaid still last: portal.core.pagination.NullsBeyond), it estimates from the date's
own statistics and keeps one plan. This index serves that order and replaces
ix_account_oldest_unpaid_order; the accounts-to-assign list keeps ix_account_oldest_unpaid_id.
Alembic's batch mode on SQLite does not reflect expression indexes: a later batch_alter_table
on account must create it again.

Revision ID: 0036_worklist_key_coalesced
Revises: 0035_token_on_first_entry
Create Date: 2026-12-07 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0036_worklist_key_coalesced'
down_revision = '0035_token_on_first_entry'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_account_oldest_unpaid_last', 'account',
                    [sa.text("coalesce(oldest_unpaid_due_date, '9999-12-31')"), 'id'])
    op.drop_index('ix_account_oldest_unpaid_order', table_name='account')


def downgrade():
    op.create_index('ix_account_oldest_unpaid_order', 'account',
                    [sa.text('(oldest_unpaid_due_date IS NULL)'), 'oldest_unpaid_due_date', 'id'])
    op.drop_index('ix_account_oldest_unpaid_last', table_name='account')
