"""care_record: breathing spaces and vulnerability flags (issue 16)

Sensitive personal data on a cardholder: what freezes is the profile's `care` section
(portal/care/rules.py); reads of the details are audited (portal/care/services.py).

Revision ID: 0025_care_record
Revises: 0024_cost_plan_terms_text
Create Date: 2026-12-06 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_care_record'
down_revision = '0024_cost_plan_terms_text'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'care_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cardholder_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('breathing_space', 'vulnerability')",
                           name=op.f('ck_care_record_kind_known')),
        sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on',
                           name=op.f('ck_care_record_ends_after_start')),
        sa.CheckConstraint('ended_on IS NULL OR ended_on >= starts_on',
                           name=op.f('ck_care_record_ended_after_start')),
        sa.ForeignKeyConstraint(['cardholder_id'], ['cardholder.id'],
                                name=op.f('fk_care_record_cardholder_id_cardholder')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'],
                                name=op.f('fk_care_record_recorded_by_id_staff_user')),
        sa.ForeignKeyConstraint(['ended_by_id'], ['staff_user.id'],
                                name=op.f('fk_care_record_ended_by_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_record')),
    )
    with op.batch_alter_table('care_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_record_cardholder_id'), ['cardholder_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('care_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_record_cardholder_id'))
    op.drop_table('care_record')
