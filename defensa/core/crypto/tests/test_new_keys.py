"""Many data keys at once: each its own, saved, usable and shreddable alone."""

from __future__ import annotations

import pytest

from defensa.core import crypto
from defensa.core.crypto.models import DataKey

pytestmark = pytest.mark.django_db


def test_new_keys_are_saved_distinct_and_work() -> None:
    keys = crypto.new_keys("test.batch", 300)
    assert len({k.pk for k in keys}) == 300
    stored = {k.pk: k for k in DataKey.objects.filter(purpose="test.batch")}
    assert set(stored) == {k.pk for k in keys}
    for key in (keys[0], keys[150], keys[-1]):
        # The row in the database is the key in hand (ids came back in order).
        assert bytes(stored[key.pk].wrapped) == bytes(key.wrapped)
        blob = crypto.encrypt(key, "hola", aad="t#1")
        assert crypto.decrypt(stored[key.pk], blob, aad="t#1") == b"hola"
    crypto.shred(keys[1])
    with pytest.raises(crypto.KeyShredded):
        crypto.decrypt(DataKey.objects.get(pk=keys[1].pk), b"x", aad="t#1")
    assert DataKey.objects.get(pk=keys[2].pk).wrapped is not None
    assert crypto.new_keys("test.none", 0) == []
