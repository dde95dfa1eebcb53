"""The schema comes from Alembic, and the migrations match the models."""

from nurture.platform import migrate
from nurture.platform.db import make_engine


def test_migrated_database_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        migrate.check(engine)  # raises when autogenerate would find a difference
    finally:
        engine.dispose()
