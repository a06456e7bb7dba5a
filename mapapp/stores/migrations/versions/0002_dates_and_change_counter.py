"""Dates become SQL dates; a change counter tells readers when to re-read.

``published`` was ISO text (as in the GeoPackage); as ``date`` the database
checks every value and the date indexes order by day, not by string.  The
one-row ``store_changes`` table is bumped by every write transaction, so the
map server can tell cheaply whether its cached data is stale.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("articles", "mentions"):
        op.alter_column(table, "published", type_=sa.Date, postgresql_using="published::date")
    op.create_table(
        "store_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("changes", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="store_changes_one_row"),
    )
    op.execute("INSERT INTO store_changes (id, changes) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("store_changes")
    for table in ("articles", "mentions"):
        op.alter_column(
            table, "published", type_=sa.Text, postgresql_using="to_char(published, 'YYYY-MM-DD')"
        )
