"""staff set-up links and each staff member's email language

Administrators create staff members in the portal: the new member gets a one-time, expiring
link (only its hash is stored) to set a password and enrol an authenticator; resetting an
authenticator issues another such link. `staff_user.locale` is the language of those emails.

Revision ID: 0020_staff_setup
Revises: 0019_jobs_runs
Create Date: 2026-12-06 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_staff_setup'
down_revision = '0019_jobs_runs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=False,
                                      server_default='en'))
    op.create_table('staff_setup_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.Enum('new', 'authenticator', name='staff_setup_purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_staff_setup_link_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_staff_setup_link_staff_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_setup_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_setup_link_token_hash'))
    )
    with op.batch_alter_table('staff_setup_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_setup_link_staff_id'), ['staff_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_setup_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_setup_link_staff_id'))
    op.drop_table('staff_setup_link')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('locale')
