"""Re-key stored SMS sender digests from SECRET_KEY to a digest key under the master key.

They live a day; re-keyed as keyed_digest(key, "legacy:" + old digest) they match no new
text (a follow-up sent across the upgrade opens a report of its own) and a copy of the
database no longer lets anyone test numbers against them.
"""

from django.db import migrations


def rekey(apps, schema_editor):
    from defensa.core.crypto.digests import LEGACY, digest_key, keyed_digest

    SmsText = apps.get_model("reports", "SmsText")
    rows = list(SmsText.objects.all())
    if not rows:
        return  # the key is made by the first use
    key = digest_key(
        "reports.sms_sender",
        models=(apps.get_model("crypto", "DigestKey"), apps.get_model("crypto", "DataKey")),
    )
    for row in rows:
        row.sender = keyed_digest(key, LEGACY + row.sender)
    SmsText.objects.bulk_update(rows, ["sender"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("crypto", "0002_digest_keys"),
        ("reports", "0004_reporter_contact"),
    ]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
