"""webhook_event: partial indexes for the inbox's health check and its bodies' retention

`/health/jobs` counts the inbox's failed events on every call, and the operator's listing
reads them: `ix_webhook_event_failed` holds only those few rows waiting for a person. The
daily `payments prune-webhooks` drops the bodies of events posted more than
WEBHOOK_BODY_DAYS ago: `ix_webhook_event_body_kept` holds only the posted events that still
have one (the last few weeks'), so neither reads every event ever received.

Revision ID: 0034_inbox_monitoring
Revises: 0033_hooks4_webhook_inbox
Create Date: 2026-12-07 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034_inbox_monitoring'
down_revision = '0033_hooks4_webhook_inbox'
branch_labels = None
depends_on = None

KEPT = "state = 'done' AND payload IS NOT NULL"


def upgrade():
    op.create_index("ix_webhook_event_failed", "webhook_event", ["id"],
                    postgresql_where=sa.text("state = 'failed'"),
                    sqlite_where=sa.text("state = 'failed'"))
    op.create_index("ix_webhook_event_body_kept", "webhook_event", ["processed_at"],
                    postgresql_where=sa.text(KEPT), sqlite_where=sa.text(KEPT))


def downgrade():
    op.drop_index("ix_webhook_event_body_kept", table_name="webhook_event")
    op.drop_index("ix_webhook_event_failed", table_name="webhook_event")
