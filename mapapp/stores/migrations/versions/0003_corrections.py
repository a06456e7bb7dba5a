"""Editors' corrections, and the candidates the resolver weighed for each mention.

``corrections`` is the log of every decision an editor made about a mention
(a new place, not a place, accepted as is), keyed by article id and
code-point offsets so it survives reprocessing and copies; rows are never
deleted (an undo is a flag).  ``mentions.candidates`` keeps, as JSON, the
few places the resolver weighed, for the reviewer to pick from.

Revision ID: 0003_corrections
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_corrections"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mentions", sa.Column("candidates", sa.Text))
    op.create_table(
        "corrections",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("mention_id", sa.Text),
        sa.Column("article_id", sa.Text),
        sa.Column("start", sa.BigInteger),
        sa.Column("end", sa.BigInteger),
        sa.Column("name", sa.Text),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("geonameid", sa.BigInteger),
        sa.Column("place_name", sa.Text),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("country_code", sa.Text),
        sa.Column("admin1_name", sa.Text),
        sa.Column("feature_class", sa.Text),
        sa.Column("feature_code", sa.Text),
        sa.Column("population", sa.BigInteger),
        sa.Column("editor", sa.Text),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("undone_at", sa.Text),
        sa.CheckConstraint(
            "action IN ('place', 'not_a_place', 'accept')", name="corrections_action"
        ),
        sa.CheckConstraint("scope IN ('mention', 'story', 'everywhere')", name="corrections_scope"),
    )
    op.create_index("corrections_article_id", "corrections", ["article_id"])
    op.create_index("corrections_name_key", "corrections", ["name_key"])


def downgrade() -> None:
    op.drop_table("corrections")
    op.drop_column("mentions", "candidates")
