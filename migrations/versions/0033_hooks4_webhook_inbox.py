"""webhook_event: an inbox of events accepted by the request and posted by a worker

With the inbox on (a job engine with beat's poll, or WEBHOOK_INBOX=1), the webhook request
verifies the signature and records the event with its verified body (`payload`) as
`pending`; a worker posts pending events in batches (portal/payments/inbox.py) and marks each
`done` in the same transaction as its effects. An event that failed keeps its `error`, its
`attempts` and the time of its next try (`retry_at`), and after WEBHOOK_MAX_ATTEMPTS is
`failed`: visible to an operator (`flask payments webhooks`), retried on request.

Rows recorded before (and by the synchronous path, which posts in the request) are `done`:
the server default. The partial index holds only the pending rows, so it stays small.

Revision ID: 0033_hooks4_webhook_inbox
Revises: 0032_import_ledger_bulk
Create Date: 2026-12-07 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033_hooks4_webhook_inbox'
down_revision = '0032_import_ledger_bulk'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_event") as batch:
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False,
                                   server_default="done"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            "state_known", "state IN ('pending', 'done', 'failed')")
    op.create_index("ix_webhook_event_pending", "webhook_event", ["id"],
                    postgresql_where=sa.text("state = 'pending'"),
                    sqlite_where=sa.text("state = 'pending'"))


def downgrade():
    op.drop_index("ix_webhook_event_pending", table_name="webhook_event")
    with op.batch_alter_table("webhook_event") as batch:
        batch.drop_constraint("state_known", type_="check")
        for name in ("processed_at", "retry_at", "error", "attempts", "state", "payload"):
            batch.drop_column(name)
