"""plan_revision: changes to an agreed plan's schedule and the agreements re-issued (issue 16)

Revision ID: 0027_servicing_plan_revision
Revises: 0028_payment_toward_minimum
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_servicing_plan_revision'
down_revision = '0028_payment_toward_minimum'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plan_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('instalment_id', sa.Integer(), nullable=True),
        sa.Column('instalment_seq', sa.Integer(), nullable=True),
        sa.Column('new_date', sa.Date(), nullable=True),
        sa.Column('schedule_before', sa.JSON(), nullable=False),
        sa.Column('schedule_after', sa.JSON(), nullable=False),
        sa.Column('previous_terms_hash', sa.String(length=64), nullable=True),
        sa.Column('previous_terms_text', sa.Text(), nullable=True),
        sa.Column('terms_hash', sa.String(length=64), nullable=False),
        sa.Column('terms_locale', sa.String(length=16), nullable=False),
        sa.Column('terms_text', sa.Text(), nullable=False),
        sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('consent_ip', sa.String(length=64), nullable=True),
        sa.Column('consent_user_agent', sa.String(length=500), nullable=True),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('date_change', 'delay', 'skip')",
                           name=op.f('ck_plan_revision_kind_known')),
        sa.CheckConstraint('number >= 1', name=op.f('ck_plan_revision_number_positive')),
        sa.ForeignKeyConstraint(['instalment_id'], ['plan_instalment.id'],
                                name=op.f('fk_plan_revision_instalment_id_plan_instalment')),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'],
                                name=op.f('fk_plan_revision_plan_id_plan')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_revision')),
        sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_revision_plan_number')),
    )
    op.create_index(op.f('ix_plan_revision_plan_id'), 'plan_revision', ['plan_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_plan_revision_plan_id'), table_name='plan_revision')
    op.drop_table('plan_revision')
