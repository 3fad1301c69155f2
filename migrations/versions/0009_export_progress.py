"""export progress

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:10:00

Bulk exports record when their worker last made progress, so that the
exports job can mark failed an export whose worker died.
"""

import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_column("progress_at")
