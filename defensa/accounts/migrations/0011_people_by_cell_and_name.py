"""On PostgreSQL, people by home area cell and name in code point order (COLLATE "C", the
order Python sorts names in): the dispatch console's "on duty nearby" reads a crowded cell's
first names from it without checking all its people (dispatch.matching._first_by_name).
SQLite has no "C" collation and no need: a committee's install reads its cells whole. Not in
the model's Meta for that reason; about 56 MB at a million members."""

from django.db import migrations

CREATE = (
    'CREATE INDEX IF NOT EXISTS user_cell_name_c ON accounts_user '
    '(area_cell, display_name COLLATE "C", id)'
)
DROP = "DROP INDEX IF EXISTS user_cell_name_c"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_indexes_for_a_million_members"),
    ]

    operations = [migrations.RunPython(create, drop)]
