"""Re-key stored opt-out digests from SECRET_KEY to a digest key under the master key.

The numbers are not stored, so an old digest cannot be recomputed under the new key; it is
re-keyed as keyed_digest(key, "legacy:" + old digest). A copy of the database no longer
lets anyone test numbers against it, and notify.actions.address_digests still finds these
rows (while SECRET_KEY is unchanged) until the address sends STOP or START again.
"""

from django.db import migrations


def rekey(apps, schema_editor):
    from defensa.core.crypto.digests import LEGACY, digest_key, keyed_digest

    OptOut = apps.get_model("notify", "OptOut")
    rows = list(OptOut.objects.all())
    if not rows:
        return  # the key is made by the first use
    key = digest_key(
        "notify.optout",
        models=(apps.get_model("crypto", "DigestKey"), apps.get_model("crypto", "DataKey")),
    )
    for row in rows:
        row.address_digest = keyed_digest(key, LEGACY + row.address_digest)
    OptOut.objects.bulk_update(rows, ["address_digest"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("crypto", "0002_digest_keys"),
        ("notify", "0003_sealed_addresses"),
    ]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
