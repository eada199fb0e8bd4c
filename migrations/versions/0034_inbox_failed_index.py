"""webhook_event: a partial index on the events that failed for good

`/health/jobs` counts the inbox's failed events on every call, and the operator's listing
reads them: without an index that is a scan of every event ever received. Like the pending
index beside it, it holds only the few rows waiting for a person.

Revision ID: 0034_inbox_failed_index
Revises: 0033_hooks4_webhook_inbox
Create Date: 2026-12-07 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034_inbox_failed_index'
down_revision = '0033_hooks4_webhook_inbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_webhook_event_failed", "webhook_event", ["id"],
                    postgresql_where=sa.text("state = 'failed'"),
                    sqlite_where=sa.text("state = 'failed'"))


def downgrade():
    op.drop_index("ix_webhook_event_failed", table_name="webhook_event")
