"""Editors: who may correct the map from beyond the server's machine (a salted hash each).

Revision ID: 0005_editors
Revises: 0004_corrections
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_editors"
down_revision = "0004_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editors",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("editors")
