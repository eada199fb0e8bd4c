"""plan.terms_start and plan.terms_text: the cost of a plan and the agreement as accepted

terms_start is the day the plan took the balance over (its annualised rate counts from it);
terms_text is the agreement's text word for word as the cardholder accepted it (its sha256 is
terms_hash), so the PDF never changes with later wording. Both are empty for older plans.

Revision ID: 0024_cost_plan_terms_text
Revises: 0023_smtp_outbox_failed
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_cost_plan_terms_text'
down_revision = '0023_smtp_outbox_failed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('terms_text', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('terms_text')
        batch_op.drop_column('terms_start')
