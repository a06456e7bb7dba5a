"""Articles and their mentions, laid out as the GeoPackage store lays them out.

The first PostGIS schema (mapapp 0.1): ``articles`` keyed by the content hash
(so two ingests can never store one story twice), ``mentions`` as points in
EPSG:4326 with a GiST index, dates kept as ISO text like the GeoPackage.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "articles",
        sa.Column("article_id", sa.Text, primary_key=True),
        sa.Column("headline", sa.Text),
        sa.Column("deck", sa.Text),
        sa.Column("dateline", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("ingested_at", sa.Text),
    )
    op.create_table(
        "mentions",
        sa.Column("mention_id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column(
            "article_id",
            sa.Text,
            sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.Text),
        sa.Column("start", sa.BigInteger),
        sa.Column("end", sa.BigInteger),
        sa.Column("role", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("sentence", sa.Text),
        sa.Column("geonameid", sa.BigInteger),
        sa.Column("resolved_name", sa.Text),
        sa.Column("country_code", sa.Text),
        sa.Column("admin1_name", sa.Text),
        sa.Column("feature_class", sa.Text),
        sa.Column("feature_code", sa.Text),
        sa.Column("population", sa.BigInteger),
        sa.Column("score", sa.Float),
        sa.Column("reason", sa.Text),
        sa.Column("provider", sa.Text),
        sa.Column("provider_id", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False)),
    )
    op.create_index("mentions_article_id", "mentions", ["article_id"])
    op.create_index("mentions_geom", "mentions", ["geom"], postgresql_using="gist")
    op.create_index("mentions_published", "mentions", ["published"])
    op.create_index("articles_published", "articles", ["published"])


def downgrade() -> None:
    op.drop_table("mentions")
    op.drop_table("articles")
