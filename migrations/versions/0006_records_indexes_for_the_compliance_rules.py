"""records indexes for the compliance rules

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 08:08:45.653576

Two covering indexes on records so that the compliance rules' grouped scans
(the last confirmed visit of each level, the last patrol of each elevator, the
reviews of a visit) read an index alone. Plain CREATE INDEX, never a table
rebuild: the append-only triggers on records must stay.
"""

from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_records_kind_level_elevator",
        "records",
        ["kind", "level", "elevator_id", "occurred_on", "id"],
        unique=False,
    )
    op.create_index("ix_records_kind_subject", "records", ["kind", "subject_id"], unique=False)


def downgrade():
    op.drop_index("ix_records_kind_subject", table_name="records")
    op.drop_index("ix_records_kind_level_elevator", table_name="records")
