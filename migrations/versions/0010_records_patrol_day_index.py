"""records index for the daily patrol rule

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:15:00

An index on records (kind, occurred_on, elevator_id) so that the daily patrol
rule (D3.patrol) finds the patrols of one day by an index range, whatever the
length of the history: SQLite, without it, looked up each elevator's patrol
of the day through the single-column ``occurred_on`` index, reading every
record of that day for every elevator (quadratic in the elevators). Plain
CREATE INDEX, never a table rebuild: the append-only triggers on records must
stay.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_records_kind_occurred_elevator",
        "records",
        ["kind", "occurred_on", "elevator_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_records_kind_occurred_elevator", table_name="records")
