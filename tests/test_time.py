"""Time control: ``MockKms.advance`` and freezegun move the mock's clock, and what AWS does over
time (deleting keys at their DeletionDate, automatic rotation) happens when the clock passes it."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from helpers import error_of, run_python
from mockkms import mock_kms
from mockkms._backend import Backend

UTC = dt.timezone.utc
REGION = "us-east-1"


def _deleted(kms, key_id, arn):
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId=key_id)
    assert error_of(exc) == ("NotFoundException", f"Key '{arn}' does not exist")
    return True


def test_pending_deletion_key_is_deleted_after_its_date(kms_mock, kms, key_id):
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=key_id)
    out = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    arn = out["KeyId"]
    kms_mock.advance(days=6, hours=23, minutes=59)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms_mock.advance(minutes=1)
    assert _deleted(kms, key_id, arn)
    assert kms.list_keys()["Keys"] == []
    assert "alias/doomed" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.cancel_key_deletion(KeyId=key_id)
    assert error_of(exc) == ("NotFoundException", f"Key '{arn}' does not exist")


def test_cancelled_deletion_does_not_happen(kms_mock, kms, key_id):
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key_id)
    kms_mock.advance(days=31)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_rescheduled_deletion_uses_the_new_date(kms_mock, kms, key_id):
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key_id)
    kms_mock.advance(days=1)
    arn = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=30)["KeyId"]
    kms_mock.advance(days=7)  # the cancelled first date has passed: nothing happens
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms_mock.advance(dt.timedelta(days=23))
    assert _deleted(kms, key_id, arn)


def test_advance_arguments(kms_mock):
    before = kms_mock.backend.clock.now()
    kms_mock.advance(dt.timedelta(hours=2))
    kms_mock.advance(minutes=30, seconds=15)
    assert kms_mock.backend.clock.now() - before == pytest.approx(2 * 3600 + 30 * 60 + 15, abs=5)
    with pytest.raises(ValueError, match="only moves forward"):
        kms_mock.advance(days=-1)
    with pytest.raises(TypeError, match="not both"):
        kms_mock.advance(dt.timedelta(days=1), days=1)


def test_advance_stops_before_dates_no_client_can_parse(kms_mock, kms):
    """The clock may not pass the end of year 9989 (a date 2,560 days later must still parse):
    a larger step is refused with ValueError and changes nothing; the answers keep parsing."""
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    before = kms_mock.backend.clock._offset
    with pytest.raises(ValueError, match="too far ahead"):
        kms_mock.advance(days=3_000_000)
    with pytest.raises(ValueError, match="too far ahead"):
        kms_mock.advance(dt.timedelta.max)
    assert kms_mock.backend.clock._offset == before
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Enabled"]
    kms_mock.advance(days=(dt.date(9989, 1, 1) - dt.date.today()).days)
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=2560)
    assert kms.get_key_rotation_status(KeyId=key)["NextRotationDate"].year >= 9995


def test_nested_mock_shares_the_clock(kms):
    with mock_kms() as inner:
        inner.advance(days=400)
    created = kms.create_key()["KeyMetadata"]["CreationDate"]
    assert created > dt.datetime.now(UTC) + dt.timedelta(days=399)


def test_new_outermost_mock_resets_the_clock():
    with mock_kms() as m:
        m.advance(days=100)
    with mock_kms() as m:
        assert abs(m.backend.clock.now() - dt.datetime.now(UTC).timestamp()) < 60


def test_freezegun_moves_the_mock_clock():
    with freeze_time("2030-01-01 00:00:00") as frozen, mock_kms():
        import boto3
        kms = boto3.client("kms")
        md = kms.create_key()["KeyMetadata"]
        assert md["CreationDate"] == dt.datetime(2030, 1, 1, tzinfo=UTC)
        out = kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
        assert out["DeletionDate"] == dt.datetime(2030, 1, 8, tzinfo=UTC)
        frozen.tick(dt.timedelta(days=6))
        assert kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
        frozen.tick(dt.timedelta(days=1))
        assert _deleted(kms, md["KeyId"], md["Arn"])

        other = kms.create_key()["KeyMetadata"]
        assert other["CreationDate"] == dt.datetime(2030, 1, 8, tzinfo=UTC)
        kms.schedule_key_deletion(KeyId=other["KeyId"], PendingWindowInDays=30)
        frozen.move_to("2030-02-07 00:00:01")
        assert _deleted(kms, other["KeyId"], other["Arn"])


def test_freezegun_and_advance_add_up():
    with freeze_time("2031-06-01") as frozen, mock_kms() as m:
        import boto3
        kms = boto3.client("kms")
        m.advance(days=10)
        frozen.tick(dt.timedelta(days=1))
        md = kms.create_key()["KeyMetadata"]
        assert md["CreationDate"] == dt.datetime(2031, 6, 12, tzinfo=UTC)


def test_automatic_rotation_happens_as_time_passes(kms_mock, kms, key_id):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    first = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    kms_mock.advance(days=89)
    assert kms.list_key_rotations(KeyId=key_id)["Rotations"] == []
    kms_mock.advance(days=1 + 90)  # two periods have passed: two rotations
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC", "AUTOMATIC"]
    current = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert current != first
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"old"
    new_blob = kms.encrypt(KeyId=key_id, Plaintext=b"new")
    assert kms.decrypt(CiphertextBlob=new_blob["CiphertextBlob"])["KeyMaterialId"] == current


def test_imported_material_expires_with_freezegun():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    with freeze_time("2032-03-01") as frozen, mock_kms():
        import boto3
        kms = boto3.client("kms")
        key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
        wrapping = kms.get_parameters_for_import(KeyId=key["KeyId"], WrappingKeySpec="RSA_2048",
                                                 WrappingAlgorithm="RSAES_OAEP_SHA_256")
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                            label=None)
        wrapped = load_der_public_key(wrapping["PublicKey"]).encrypt(bytes(32), oaep)
        kms.import_key_material(KeyId=key["KeyId"], ImportToken=wrapping["ImportToken"],
                                EncryptedKeyMaterial=wrapped, ValidTo=dt.datetime(2032, 3, 2),
                                ExpirationModel="KEY_MATERIAL_EXPIRES")
        assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
        frozen.tick(dt.timedelta(hours=23, minutes=59))
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"still fine")
        frozen.tick(dt.timedelta(minutes=1))
        with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
        assert error_of(exc) == ("KMSInvalidStateException",
                                 f"{key['Arn']} is pending import.")


# --- scheduled events: loaded lazily, never dropped, no race on the first look --------------------

def test_tick_before_any_request_loads_the_event_handlers():
    # a fresh process: no KMS request has imported mockkms.operations yet
    result = run_python(
        "import datetime, sys\n"
        "from mockkms._backend import Backend\n"
        "assert 'mockkms.operations' not in sys.modules\n"
        "b = Backend()\n"
        "b.schedule(b.clock.now() + 60, 'delete_key', b.store('123456789012', 'us-east-1'),"
        " '0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b')\n"
        "b.clock.advance(datetime.timedelta(days=1))\n"
        "b.tick()\n"
        "print(len(b.events))\n")
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr


def test_an_unknown_event_kind_is_an_error_and_stays_queued():
    backend = Backend()
    backend.schedule(backend.clock.now() + 60, "no-such-kind",
                     backend.store("123456789012", REGION), "k")
    backend.clock.advance(dt.timedelta(days=1))
    with pytest.raises(RuntimeError) as exc:
        backend.tick()
    assert str(exc.value) == "mockkms: no handler for scheduled event kind 'no-such-kind'"
    assert [e[2] for e in backend.events] == ["no-such-kind"]


class _EmptiedByAnotherThread(list):
    """An event queue that another thread empties right after the first unlocked look at it
    (a concurrent request's tick or a reset, which take the backend lock)."""

    def __init__(self, items, lock):
        super().__init__(items)
        self.lock = lock

    def __bool__(self):
        result = len(self) > 0
        if not self.lock._is_owned():
            self.clear()
        return result


def test_tick_survives_the_queue_being_emptied_meanwhile():
    backend = Backend()
    backend.schedule(backend.clock.now() + 60, "delete_key",
                     backend.store("123456789012", REGION), "k")
    backend.events = _EmptiedByAnotherThread(backend.events, backend.lock)
    backend.clock.advance(dt.timedelta(days=1))
    backend.tick()                                   # was: IndexError (a 500 in the server)
    assert len(backend.events) == 0
