"""handover level plan

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:16:03.689574
"""

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Existing handovers (none before this revision stored a plan elsewhere) get the full plan.
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "new_level_plan",
                sa.String(length=100),
                nullable=False,
                server_default="half_monthly,quarterly,semi_annual,annual",
            )
        )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.alter_column("new_level_plan", server_default=None)


def downgrade():
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_column("new_level_plan")
