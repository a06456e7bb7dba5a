"""Events: what happened, where and when, one row per (event, place) beside the mentions.

An event without a place keeps one row with a NULL point.  Rows belong to
their article (deleted with it); ``event_id`` is the article id and the
trigger's offsets, so reprocessing gives an event the same id again.

Revision ID: 0003_events
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003_events"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("row_id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column(
            "article_id",
            sa.Text,
            sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sentence_start", sa.BigInteger),
        sa.Column("sentence_end", sa.BigInteger),
        sa.Column("sentence", sa.Text),
        sa.Column("trigger", sa.Text),
        sa.Column("trigger_start", sa.BigInteger),
        sa.Column("trigger_end", sa.BigInteger),
        sa.Column("type", sa.Text),
        sa.Column("kind", sa.Text),
        sa.Column("date", sa.Date),
        sa.Column("date_start", sa.Date),
        sa.Column("date_end", sa.Date),
        sa.Column("date_text", sa.Text),
        sa.Column("date_assumed", sa.Boolean),
        sa.Column("killed", sa.BigInteger),
        sa.Column("injured", sa.BigInteger),
        sa.Column("displaced", sa.BigInteger),
        sa.Column("arrested", sa.BigInteger),
        sa.Column("subject", sa.Text),
        sa.Column("object", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("place_start", sa.BigInteger),
        sa.Column("place_end", sa.BigInteger),
        sa.Column("place_name", sa.Text),
        sa.Column("geonameid", sa.BigInteger),
        sa.Column("country_code", sa.Text),
        sa.Column("place_score", sa.Float),
        sa.Column("published", sa.Date),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False)),
    )
    op.create_index("events_article_id", "events", ["article_id"])
    op.create_index("events_event_id", "events", ["event_id"])
    op.create_index("events_date", "events", ["date"])
    op.create_index("events_published", "events", ["published"])
    op.create_index("events_geom", "events", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("events")
