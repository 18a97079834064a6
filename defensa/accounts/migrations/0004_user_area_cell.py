# The home area as one indexed cell, so dispatch asks the database ring by ring.

from django.db import migrations, models

import defensa.accounts.models


def fill_area_cells(apps, schema_editor):
    from defensa.core import geo

    User = apps.get_model("accounts", "User")
    people = User.objects.exclude(home_cell="", home_zip="").only("pk", "home_cell", "home_zip")
    for user in people.iterator(chunk_size=2000):
        cell = geo.home_area_cell(user.home_cell, user.home_zip)
        if cell:
            User.objects.filter(pk=user.pk).update(area_cell=cell)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_skill_hotline"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="area_cell",
            field=defensa.accounts.models.AreaCellField(
                blank=True, editable=False, max_length=16
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["area_cell", "id"], name="user_area_cell_id"),
        ),
        migrations.RunPython(fill_area_cells, migrations.RunPython.noop),
    ]
