"""The agreed-plans staff list reads a partial index (issue 15): its predicate, the model's
and the migration's say the same, and name exactly the agreed statuses."""
import importlib.util
import os

from portal.plans.models import AGREED_LISTED_SQL, AGREED_STATUSES, Plan

MIGRATION = os.path.join(os.path.dirname(__file__), "..", "..", "migrations", "versions",
                         "0027_perfpages_agreed_index.py")


def test_the_predicate_names_the_agreed_statuses_and_matches_the_migration():
    listed = ", ".join(f"'{s.value}'" for s in AGREED_STATUSES)
    assert AGREED_LISTED_SQL == f"status IN ({listed}) AND started_on IS NOT NULL"
    spec = importlib.util.spec_from_file_location("agreed_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.AGREED == AGREED_LISTED_SQL
    index = next(i for i in Plan.__table__.indexes if i.name == "ix_plan_agreed_id")
    assert str(index.dialect_options["postgresql"]["where"]) == AGREED_LISTED_SQL
