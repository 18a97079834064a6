"""A starting list of detention facilities in and around Los Angeles (public names).

Networks add their own from a case page; this list is only where they start."""

from django.db import migrations

FACILITIES = (
    ("B-18 (ICE holding, 300 N Los Angeles St)", "Los Angeles"),
    ("Metropolitan Detention Center", "Los Angeles"),
    ("Adelanto ICE Processing Center", "Adelanto"),
    ("Desert View Annex", "Adelanto"),
    ("Otay Mesa Detention Center", "San Diego"),
    ("Imperial Regional Detention Facility", "Calexico"),
    ("Golden State Annex", "McFarland"),
)


def seed(apps, schema_editor):
    Facility = apps.get_model("cases", "Facility")
    for name, city in FACILITIES:
        Facility.objects.get_or_create(name=name, defaults={"city": city})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
