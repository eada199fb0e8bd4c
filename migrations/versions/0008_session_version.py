"""session_version on cardholders and staff users

A session remembers the version it was opened with; signing out, a password reset or an
enrolment bumps the version, so copied or older session cookies stop working. Existing rows
start at 0; sessions opened before this upgrade carry no version and end once.

Revision ID: 0008_session_version
Revises: 0007_disputes_bounds
Create Date: 2026-11-29 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_session_version'
down_revision = '0007_disputes_bounds'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('cardholder', 'staff_user'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                          nullable=False))


def downgrade():
    for table in ('staff_user', 'cardholder'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('session_version')
