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


def test_keys_read_as_values_open_at_once_as_one_by_one(settings) -> None:  # type: ignore[no-untyped-def]
    """`Opened.many` opens (id, master key id, wrapped) rows as `Opened(key)` does each key:
    what one seals the other opens; a shredded key, one under a master key that is not
    configured and one altered so that its master key does not unwrap it are left out."""
    keys = crypto.new_keys("test.many", 5)
    crypto.shred(keys[1])
    DataKey.objects.filter(pk=keys[2].pk).update(master_key_id="gone")
    broken = bytearray(bytes(keys[3].wrapped))
    broken[-1] ^= 1
    DataKey.objects.filter(pk=keys[3].pk).update(wrapped=bytes(broken))
    rows = DataKey.objects.filter(purpose="test.many").values_list("pk", "master_key_id", "wrapped")
    opened = crypto.Opened.many(rows)
    assert set(opened) == {keys[0].pk, keys[4].pk}
    for key in (keys[0], keys[4]):
        one = crypto.Opened(DataKey.objects.get(pk=key.pk))
        assert opened[key.pk].key_id == key.pk
        assert opened[key.pk].decrypt(one.encrypt("hola", aad="t#1"), aad="t#1") == b"hola"
        assert (
            one.decrypt(opened[key.pk].encrypt("adiós", aad="t#2"), aad="t#2") == "adiós".encode()
        )
        with pytest.raises(crypto.WrongKey):
            one.decrypt(opened[key.pk].encrypt("x", aad="t#3"), aad="t#4")
    for key in (keys[1], keys[2], keys[3]):
        with pytest.raises(crypto.CryptoError):
            crypto.Opened(DataKey.objects.get(pk=key.pk))
    assert crypto.Opened.many([]) == {}
