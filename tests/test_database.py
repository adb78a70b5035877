"""A state directory's database (``mockkms._persist``, ``_database``, ``_schema``), in process
and fast: what a restart keeps, that each request writes only what it changed, the explicit
schema, the migration of mockkms 0.1's JSON state files, how bad files are refused, the secrets
that outlive a process, and several processes sharing one directory (two backends with their
own databases on one directory stand for two worker processes).

Every state directory here checks itself after each request (``verify=True``): the database
must hold exactly what the memory holds, so a change the journal did not hear of fails."""
from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import threading
import time

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from helpers import error_of, run_python
from material import wrap
from mockkms import _dispatch, _lifecycle, _schema, mock_kms
from mockkms._keys import ImportedMaterial, Key, Material
from mockkms._persist import BACKUP_FILE, DB_FILE, JSON_FILE, StateDir, StateError
from mockkms._records import Alias, CustomKeyStore, Grant, Principal
from mockkms._store import new_key_id
from mockkms.server import make_app
from serving import call, kms_call, wsgi_client

REGION = "us-east-1"
ACCOUNT = "123456789012"
JSON = {"Content-Type": "application/json"}


def opened(path, **options):
    """A server application whose state lives in the state directory ``path``."""
    app = make_app()
    options.setdefault("verify", True)
    app.state = StateDir(str(path), app.backend, **options)
    app.state.open()
    return app


def rows(path, sql, *args):
    with sqlite3.connect(os.path.join(path, DB_FILE)) as conn:
        return conn.execute(sql, args).fetchall()


def _rich_state(kms) -> dict:
    """Keys of every kind the mock has, in several states, with the records around them."""
    made = {}
    sym = made["sym"] = kms.create_key(Description="sym")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/sym", TargetKeyId=sym)
    kms.tag_resource(KeyId=sym, Tags=[{"TagKey": "team", "TagValue": "a"},
                                      {"TagKey": "app", "TagValue": "b"}])
    kms.create_grant(KeyId=sym, GranteePrincipal="arn:aws:iam::123456789012:role/r",
                     Operations=["Encrypt", "Decrypt"], Name="g",
                     Constraints={"EncryptionContextSubset": {"k": "v"}})
    kms.enable_key_rotation(KeyId=sym)
    made["blob_before_rotation"] = kms.encrypt(KeyId=sym, Plaintext=b"one")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=sym)
    made["blob"] = kms.encrypt(KeyId=sym, Plaintext=b"two",
                               EncryptionContext={"k": "v"})["CiphertextBlob"]
    made["hmac"] = kms.create_key(KeySpec="HMAC_256",
                                  KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    made["mac"] = kms.generate_mac(KeyId=made["hmac"], Message=b"m",
                                   MacAlgorithm="HMAC_SHA_256")["Mac"]
    made["ecc"] = kms.create_key(KeySpec="ECC_NIST_P256",
                                 KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    made["signature"] = kms.sign(KeyId=made["ecc"], Message=b"m", MessageType="RAW",
                                 SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    made["public"] = kms.get_public_key(KeyId=made["ecc"])["PublicKey"]
    made["rsa_unused"] = kms.create_key(KeySpec="RSA_2048",
                                        KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    made["disabled"] = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=made["disabled"])
    made["pending"] = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=made["pending"], PendingWindowInDays=7)
    made["external"] = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(KeyId=made["external"],
                                           WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    kms.import_key_material(KeyId=made["external"], ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrap(params["PublicKey"], b"k" * 32,
                                                      "RSAES_OAEP_SHA_256"),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
                            KeyMaterialDescription="imported")
    made["external_blob"] = kms.encrypt(KeyId=made["external"], Plaintext=b"ext")[
        "CiphertextBlob"]
    made["mrk"] = kms.create_key(MultiRegion=True, KeySpec="ECC_NIST_P256",
                                 KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=made["mrk"], ReplicaRegion="eu-west-1")
    made["managed"] = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]
    hsm = made["hsm"] = kms.create_custom_key_store(
        CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234567abcde",
        TrustAnchorCertificate="cert", KeyStorePassword="kmsuser-pass")["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=hsm)
    made["in_hsm"] = kms.create_key(CustomKeyStoreId=hsm,
                                    Origin="AWS_CLOUDHSM")["KeyMetadata"]["KeyId"]
    made["hsm_blob"] = kms.encrypt(KeyId=made["in_hsm"], Plaintext=b"hsm")["CiphertextBlob"]
    kms.disconnect_custom_key_store(CustomKeyStoreId=hsm)
    return made


def test_a_restart_keeps_everything(tmp_path):
    app = opened(tmp_path)
    kms = wsgi_client(app)
    made = _rich_state(kms)
    assert call(app, path="/_mockkms/advance", body=b'{"days": 2}', headers=JSON)[0] == 200
    names = ("sym", "disabled", "pending", "mrk", "managed", "in_hsm", "external", "ecc",
             "rsa_unused", "hmac")
    described = {k: kms.describe_key(KeyId=made[k])["KeyMetadata"] for k in names}
    listings = (kms.list_keys()["Keys"], kms.list_aliases()["Aliases"],
                kms.list_grants(KeyId=made["sym"])["Grants"],
                kms.list_key_rotations(KeyId=made["sym"])["Rotations"],
                kms.list_key_rotations(KeyId=made["external"],
                                       IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"],
                kms.describe_custom_key_stores()["CustomKeyStores"])
    summary = call(app, "GET", "/_mockkms/state")[2]
    del summary["now"]
    app.state.close()

    again = opened(tmp_path)
    kms = wsgi_client(again)
    assert {k: v for k, v in call(again, "GET", "/_mockkms/state")[2].items()
            if k != "now"} == summary
    for name in names:
        assert kms.describe_key(KeyId=made[name])["KeyMetadata"] == described[name], name
    assert (kms.list_keys()["Keys"], kms.list_aliases()["Aliases"],
            kms.list_grants(KeyId=made["sym"])["Grants"],
            kms.list_key_rotations(KeyId=made["sym"])["Rotations"],
            kms.list_key_rotations(KeyId=made["external"],
                                   IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"],
            kms.describe_custom_key_stores()["CustomKeyStores"]) == listings
    assert kms.decrypt(CiphertextBlob=made["blob_before_rotation"])["Plaintext"] == b"one"
    assert kms.decrypt(CiphertextBlob=made["blob"],
                       EncryptionContext={"k": "v"})["Plaintext"] == b"two"
    assert kms.decrypt(CiphertextBlob=made["external_blob"])["Plaintext"] == b"ext"
    assert kms.verify_mac(KeyId=made["hmac"], Message=b"m", MacAlgorithm="HMAC_SHA_256",
                          Mac=made["mac"])["MacValid"]
    assert kms.get_public_key(KeyId=made["ecc"])["PublicKey"] == made["public"]
    assert kms.verify(KeyId=made["ecc"], Message=b"m", MessageType="RAW",
                      SigningAlgorithm="ECDSA_SHA_256", Signature=made["signature"])[
        "SignatureValid"]
    assert kms.list_resource_tags(KeyId=made["sym"])["Tags"] == [
        {"TagKey": "team", "TagValue": "a"}, {"TagKey": "app", "TagValue": "b"}]
    # the replica shares its primary's key pair (generated after the restart, once for both)
    eu = wsgi_client(again, region="eu-west-1")
    assert eu.get_public_key(KeyId=made["mrk"])["PublicKey"] == \
        kms.get_public_key(KeyId=made["mrk"])["PublicKey"]
    # the custom key store's keys come back with it
    kms.connect_custom_key_store(CustomKeyStoreId=made["hsm"])
    assert kms.decrypt(CiphertextBlob=made["hsm_blob"])["Plaintext"] == b"hsm"
    # what was scheduled still happens when its day comes (the clock offset was kept)
    assert call(again, path="/_mockkms/advance", body=b'{"days": 5}', headers=JSON)[0] == 200
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=made["pending"])
    assert again.state.database.verify() == []
    again.state.close()


def _fill(app, count: int) -> None:
    """``count`` more keys, written in one transaction (faster than as many requests)."""
    backend = app.backend
    store = backend.store(ACCOUNT, REGION)
    with backend.lock:
        for _ in range(count):
            _lifecycle.create_key(store, key_id=new_key_id(), created=backend.clock.now(),
                                  policy="{}")
    app.state.save_all()


def _wal_bytes_of(app, tmp_path, fn) -> int:
    """Bytes ``fn()`` adds to the write-ahead log (emptied first)."""
    wal = tmp_path / (DB_FILE + "-wal")
    app.state.database._wconn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert wal.stat().st_size == 0
    fn()
    return wal.stat().st_size


def test_a_request_writes_what_it_changed_not_the_whole_state(tmp_path):
    """The JSON state file was encoded and written whole on every change (590 ms per CreateKey
    at 5,000 keys); the database gets the new key's rows only."""
    app = opened(tmp_path, verify=False)
    _fill(app, 10)
    small = _wal_bytes_of(app, tmp_path, lambda: kms_call(app, "CreateKey", {}))
    _fill(app, 3000)
    large = _wal_bytes_of(app, tmp_path, lambda: kms_call(app, "CreateKey", {}))
    assert large <= 2 * small, (small, large)   # a few pages either way
    seq = rows(tmp_path, "SELECT value FROM meta WHERE name = 'change_seq'")[0][0]
    assert rows(tmp_path, "SELECT tbl FROM changes WHERE seq = ?", seq) == [("keys",)]
    # a read writes nothing at all
    key_id = app.backend.store(ACCOUNT, REGION).key_order.items()[0][0]
    assert _wal_bytes_of(app, tmp_path, lambda: kms_call(app, "DescribeKey",
                                                         {"KeyId": key_id})) == 0
    app.state.close()


def test_records_are_stored_by_column_not_by_class_name(tmp_path):
    app = opened(tmp_path)
    made = _rich_state(wsgi_client(app))
    app.state.close()
    raw = (tmp_path / DB_FILE).read_bytes()
    for name in (b"mockkms.", b"KeyPair", b"Material", b"$obj"):
        assert name not in raw
    # renaming and moving every record class changes nothing on disk
    from mockkms._crypto import asymmetric
    classes = (Key, Material, ImportedMaterial, Alias, Grant, CustomKeyStore, asymmetric.KeyPair)
    names = [(cls.__name__, cls.__qualname__, cls.__module__) for cls in classes]
    try:
        for cls in classes:
            cls.__name__ = cls.__qualname__ = "Renamed" + cls.__name__
            cls.__module__ = "mockkms.moved_elsewhere"
        again = opened(tmp_path)
        kms = wsgi_client(again)
        assert kms.decrypt(CiphertextBlob=made["blob"], EncryptionContext={"k": "v"})[
            "Plaintext"] == b"two"
        assert kms.get_public_key(KeyId=made["ecc"])["PublicKey"] == made["public"]
        again.state.close()
    finally:
        for cls, (name, qualname, module) in zip(classes, names):
            cls.__name__, cls.__qualname__, cls.__module__ = name, qualname, module


def test_every_field_of_every_record_has_a_column():
    """A field added to a record must get a column (``_schema``) or be listed as derived."""
    tables = _schema.TABLES
    columns = {
        Key: {"key_id", "account", "region", *tables["keys"].columns},
        Material: set(_schema._MATERIAL_COLUMNS),
        ImportedMaterial: set(_schema._IMPORT_COLUMNS),
        Alias: {"name", *tables["aliases"].columns},
        Grant: {"grant_id", *tables["grants"].columns},
        CustomKeyStore: set(tables["custom_key_stores"].columns),
        Principal: set(tables["principals"].columns),
    }
    for cls, stored in columns.items():
        slots = {s for s in cls.__slots__ if s != "__weakref__"}
        missing = slots - stored - set(_schema.DERIVED[cls])
        assert not missing, f"{cls.__name__} fields without a column: {sorted(missing)}"


# --- migration of mockkms 0.1's JSON state file ---------------------------------------------------
OLD_STATE = os.path.join(os.path.dirname(__file__), "data", "state-0.1.0", "mockkms-state.json")
OLD = {"sym": "2ad183ed-9f03-4154-8413-a69d036ad0a6",
       "doomed": "c7390b32-519a-4150-b0d4-a39bf43933fe",
       "ext": "5067096c-2e33-4244-89cb-046acb6a8488", "store": "cks-d326f271e336e8f75",
       "hsm": "c8588b48-c2cd-4fab-89b6-fe2d9ddd48a7",
       "mrk": "mrk-cd680449ae8d4a47868d106537196d6b",
       "grant": "75c212ac0bfe920f4447856a779a501eac75d9edb7a5e25301724ebb6c707a67",
       "blob": "AQAq0YPtnwNBVIQTpp0DatCmrgbPSPlRB+B+De4Sma0xUV+vbzoitOQDEW3YhfCLGZhwp0Fgx8I9HBVn"
               "In0I2GZn5EOcKxPTwlj1NzBTmWN+VQ=="}


def _check_old_state(app) -> None:
    kms = wsgi_client(app)
    blob = base64.b64decode(OLD["blob"])
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"kept"
    assert [a["TargetKeyId"] for a in kms.list_aliases(KeyId=OLD["sym"])["Aliases"]] == \
        [OLD["sym"]]
    grants = kms.list_grants(KeyId=OLD["sym"])["Grants"]
    assert [(g["GrantId"], g["Name"], g["Operations"]) for g in grants] == [
        (OLD["grant"], "g", ["Decrypt"])]
    assert kms.list_resource_tags(KeyId=OLD["sym"])["Tags"] == [
        {"TagKey": "team", "TagValue": "a"}]
    (cks,) = kms.describe_custom_key_stores()["CustomKeyStores"]
    assert (cks["CustomKeyStoreId"], cks["ConnectionState"]) == (OLD["store"], "DISCONNECTED")
    assert kms.describe_key(KeyId=OLD["hsm"])["KeyMetadata"]["KeyState"] == "Unavailable"
    mr = kms.describe_key(KeyId=OLD["mrk"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert [r["Region"] for r in mr["ReplicaKeys"]] == ["us-west-2"]


def test_a_json_state_directory_is_migrated_on_its_first_start(tmp_path):
    shutil.copy(OLD_STATE, tmp_path)
    original = (tmp_path / JSON_FILE).read_bytes()
    app = opened(tmp_path)
    assert app.state.migrated == str(tmp_path / BACKUP_FILE)
    assert not (tmp_path / JSON_FILE).exists()
    assert (tmp_path / BACKUP_FILE).read_bytes() == original   # kept, as it was
    _check_old_state(app)
    kms = wsgi_client(app)
    kms.connect_custom_key_store(CustomKeyStoreId=OLD["store"])
    app.state.close()
    # the next start loads the database; the backup is left alone
    again = opened(tmp_path)
    assert again.state.migrated is None
    kms = wsgi_client(again)
    assert kms.describe_key(KeyId=OLD["hsm"])["KeyMetadata"]["KeyState"] == "Enabled"
    # every scheduled event kind of that file still has its handler: a year on, all have fired
    assert call(again, path="/_mockkms/advance", body=b'{"days": 400}', headers=JSON)[0] == 200
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=OLD["doomed"])
    assert kms.describe_key(KeyId=OLD["ext"])["KeyMetadata"]["KeyState"] == "PendingImport"
    rotations = kms.list_key_rotations(KeyId=OLD["sym"])["Rotations"]
    assert "AUTOMATIC" in [r["RotationType"] for r in rotations]
    again.state.close()


def test_an_interrupted_migration_is_finished_and_a_foreign_json_file_refused(tmp_path):
    shutil.copy(OLD_STATE, tmp_path)
    opened(tmp_path).state.close()
    # as if the first start had stopped between its commit and the rename
    shutil.copy(tmp_path / BACKUP_FILE, tmp_path / JSON_FILE)
    app = opened(tmp_path)
    assert not (tmp_path / JSON_FILE).exists() and app.state.migrated
    _check_old_state(app)
    app.state.close()
    # a state file that the database did not come from: refused, both left alone
    (tmp_path / JSON_FILE).write_text(json.dumps(GOOD))
    before = (tmp_path / DB_FILE).read_bytes()
    with pytest.raises(StateError) as exc:
        opened(tmp_path)
    assert str(exc.value) == (f"{tmp_path} holds both {DB_FILE} and {JSON_FILE}, which did not "
                              f"come from each other; move {JSON_FILE} away to start")
    assert (tmp_path / JSON_FILE).exists() and (tmp_path / DB_FILE).read_bytes() == before


GOOD = {"format": "mockkms-state", "format_version": 1, "clock_offset": 0.0, "event_seq": 0,
        "events": [], "stores": []}


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"),
    (b"{\"format\": \"mockkms-st", "is not valid JSON (Unterminated string"),
    (b"\xff\xfe", "is not valid JSON"),
    (b"[1, 2]", 'not a mockkms state file (expected a JSON object with "format": '
                '"mockkms-state")'),
    (json.dumps({"format": "terraform-state", "version": 4}).encode(), "not a mockkms state file"),
    (json.dumps(dict(GOOD, format_version=99)).encode(),
     "it was written by a newer mockkms (format_version 99; this mockkms"),
    (json.dumps(dict(GOOD, format_version="1")).encode(), "it has no integer format_version"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "stores"}).encode(),
     "it is corrupt: missing 'stores'"),
    (json.dumps(dict(GOOD, events=[[1, 2, 3]])).encode(), "bad event at events[0]"),
    (json.dumps(dict(GOOD, stores=[{"$obj": "os:system", "$id": 0, "fields": {}}])).encode(),
     "refusing to load class os:system (not part of mockkms) at stores[0]"),
    (json.dumps(dict(GOOD, stores=[{"$obj": "mockkms._store:Nope", "$id": 0,
                                    "fields": {}}])).encode(),
     "unknown class mockkms._store:Nope at stores[0]"),
    (json.dumps(dict(GOOD, stores=[{"$ref": 7}])).encode(),
     "reference to unknown object 7 at stores[0]"),
    (json.dumps(dict(GOOD, stores=[{"$bytes": "!!"}])).encode(), "bad $bytes value at stores[0]"),
    (json.dumps(dict(GOOD, stores=[{"$what": 1}])).encode(), "unknown tag '$what' at stores[0]"),
    (json.dumps(dict(GOOD, stores=[[]])).encode(), "stores[0] is not a Store"),
    (json.dumps(dict(GOOD, stores=[{"$obj": "mockkms._store:Store", "$id": 0,
                                    "fields": {"account": "1"}}])).encode(),
     "lacks its 'region' field"),
])
def test_a_json_state_file_that_cannot_be_read_is_refused_and_left_alone(tmp_path, content,
                                                                          problem):
    path = tmp_path / JSON_FILE
    path.write_bytes(content)
    app = make_app()
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), app.backend).open()
    assert str(path) in str(exc.value) and problem in str(exc.value)
    assert path.read_bytes() == content                  # never overwritten
    assert app.backend.stores == {}                       # nothing half-loaded
    assert sorted(os.listdir(tmp_path)) == [JSON_FILE]    # no database left behind


def test_a_database_that_cannot_be_used_is_refused_and_left_alone(tmp_path):
    path = tmp_path / DB_FILE
    path.write_bytes(b"not a database at all, just some bytes" * 200)
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), make_app().backend).open()
    assert str(exc.value).startswith(f"state database {path} cannot be used (")
    assert path.read_bytes() == b"not a database at all, just some bytes" * 200
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE other (x)")
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), make_app().backend).open()
    assert str(exc.value) == (f"{path} is not a mockkms state database; move it away or delete "
                              "it to start with no state")
    path.unlink()
    opened(tmp_path).state.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), make_app().backend).open()
    assert str(exc.value).startswith(f"state database {path} was written by a newer mockkms "
                                     "(schema version 99; this mockkms ")


def test_tables_are_readable_with_sqlite3_and_documented(tmp_path):
    app = opened(tmp_path)
    key_id = wsgi_client(app).create_key(Description="d")["KeyMetadata"]["KeyId"]
    app.state.close()
    assert rows(tmp_path, "PRAGMA user_version") == [(_schema.SCHEMA_VERSION,)]
    assert rows(tmp_path, "SELECT description, state FROM keys WHERE key_id = ?", key_id) == \
        [("d", "Enabled")]
    docs = open(os.path.join(os.path.dirname(__file__), "..", "docs", "server.md")).read()
    for (table,) in rows(tmp_path, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        assert f"`{table}`" in docs, f"docs/server.md does not describe the table {table}"


# --- when things are written ----------------------------------------------------------------------
def test_a_last_use_is_written_within_the_debounce_and_at_close(tmp_path):
    app = opened(tmp_path, verify=False, debounce=0.05)
    kms = wsgi_client(app)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    deadline = time.monotonic() + 5
    while rows(tmp_path, "SELECT last_used_operation FROM keys") != [("Encrypt",)]:
        assert time.monotonic() < deadline, "the last use was not written"
        time.sleep(0.01)
    app.state.database.uses.debounce = 3600
    kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    app.state.close()
    assert rows(tmp_path, "SELECT last_used_operation FROM keys") == [("GenerateDataKey",)]


def test_what_a_read_creates_is_written_before_its_answer(tmp_path):
    app = opened(tmp_path)
    kms = wsgi_client(app)
    managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]
    assert rows(tmp_path, "SELECT key_id, manager FROM keys") == [(managed, "AWS")]
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert rows(tmp_path, "SELECT private_key FROM keys WHERE key_id = ?", key_id) == [(None,)]
    public = kms.get_public_key(KeyId=key_id)["PublicKey"]   # the key pair's first use
    (der,), = rows(tmp_path, "SELECT private_key FROM keys WHERE key_id = ?", key_id)
    private = serialization.load_der_private_key(der, password=None)
    assert private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public
    app.state.close()


def test_a_change_the_journal_did_not_hear_of_fails_the_check(tmp_path):
    app = opened(tmp_path)
    kms = wsgi_client(app)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    app.backend.store(ACCOUNT, REGION).keys[key_id].description = "behind the journal's back"
    problems = app.state.database.verify()
    assert problems == [f"keys {key_id}: description: database '' != memory "
                        "\"behind the journal's back\""]
    status, _, out = kms_call(app, "ListKeys", {})
    assert (status, out["__type"]) == (500, "KMSInternalException")
    assert out["message"].startswith("mockkms state check failed: keys ")
    app.state.close()


# --- secrets and several processes ----------------------------------------------------------------
def _marker_and_token(kms):
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(KeyId=external, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    for _ in range(3):
        kms.create_key()
    listed = kms.list_keys()["Keys"]
    marker = kms.list_keys(Limit=1)["NextMarker"]
    return (marker, listed[1:]), external, params


def _use_marker_and_token(kms, marker, external, params):
    marker, rest = marker
    assert kms.list_keys(Marker=marker)["Keys"] == rest
    kms.import_key_material(KeyId=external, ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrap(params["PublicKey"], os.urandom(32),
                                                      "RSAES_OAEP_SHA_256"),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.describe_key(KeyId=external)["KeyMetadata"]["KeyState"] == "Enabled"


def test_a_marker_and_an_import_token_outlive_a_restart(tmp_path):
    """Both were sealed with per-process secrets: refused after a restart."""
    app = opened(tmp_path)
    saved = _marker_and_token(wsgi_client(app))
    app.state.close()
    again = opened(tmp_path)
    _use_marker_and_token(wsgi_client(again), *saved)
    again.state.close()


def test_two_processes_share_one_state_directory(tmp_path):
    a, b = opened(tmp_path), opened(tmp_path)
    ka, kb = wsgi_client(a), wsgi_client(b)
    key_id = ka.create_key(Description="made by a")["KeyMetadata"]["KeyId"]
    assert kb.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "made by a"
    kb.tag_resource(KeyId=key_id, Tags=[{"TagKey": "by", "TagValue": "b"}])
    kb.create_alias(AliasName="alias/shared", TargetKeyId=key_id)
    assert ka.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "by", "TagValue": "b"}]
    blob = ka.encrypt(KeyId="alias/shared", Plaintext=b"x")["CiphertextBlob"]
    kb.rotate_key_on_demand(KeyId=key_id)
    assert ka.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert kb.decrypt(CiphertextBlob=ka.encrypt(KeyId=key_id, Plaintext=b"y")[
        "CiphertextBlob"])["Plaintext"] == b"y"
    # a marker and an import token made by one are accepted by the other
    _use_marker_and_token(kb, *_marker_and_token(ka))
    # a principal registered on one is who signs with its credentials on the other at once
    body = json.dumps({"Arn": "arn:aws:iam::123456789012:user/alice"}).encode()
    creds = call(a, path="/_mockkms/principals", body=body, headers=JSON)[2]["Credentials"]
    alice = wsgi_client(b, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"])
    with pytest.raises(alice.exceptions.ClientError) as exc:
        alice.list_keys()  # no identity policy: denied (the root would be allowed)
    assert error_of(exc)[0] == "AccessDeniedException"
    assert "user/alice" in error_of(exc)[1]
    # admin endpoints act on the shared state
    assert call(a, path="/_mockkms/advance", body=b'{"days": 3}', headers=JSON)[0] == 200
    assert call(b, "GET", "/_mockkms/state")[2]["clock_offset"] == 3 * 86400
    kb.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert call(b, path="/_mockkms/advance", body=b'{"days": 8}', headers=JSON)[0] == 200
    with pytest.raises(ka.exceptions.NotFoundException):
        ka.describe_key(KeyId=key_id)
    # deleted for good (seen by a): AccessDenied, not a corrupt ciphertext
    assert error_of_decrypt(ka, blob) == "AccessDeniedException"
    assert call(a, path="/_mockkms/reset", headers=JSON)[0] == 200
    assert call(b, "GET", "/_mockkms/state")[2]["keys"] == 0
    assert a.state.database.verify() == [] and b.state.database.verify() == []
    a.state.close()
    b.state.close()


def error_of_decrypt(kms, blob) -> str:
    with pytest.raises(kms.exceptions.ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    return error_of(exc)[0]


def test_racing_first_uses_in_two_processes_end_with_one_key_pair(tmp_path, monkeypatch):
    a, b = opened(tmp_path), opened(tmp_path)
    key_id = wsgi_client(a).create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"]["KeyId"]
    wsgi_client(b).describe_key(KeyId=key_id)            # b holds the key, not generated yet
    family = type(a.backend.store(ACCOUNT, REGION).keys[key_id].asym.family)
    original = family.generate
    both = threading.Barrier(2, timeout=30)

    def generate(self):
        private = original(self)
        both.wait()                                     # each generated its own
        return private
    monkeypatch.setattr(family, "generate", generate)
    signatures = {}

    def sign(name, app):
        signatures[name] = wsgi_client(app).sign(
            KeyId=key_id, Message=name.encode(), MessageType="RAW",
            SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    threads = [threading.Thread(target=sign, args=args) for args in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    publics = {wsgi_client(app).get_public_key(KeyId=key_id)["PublicKey"] for app in (a, b)}
    assert len(publics) == 1 and set(signatures) == {"a", "b"}
    public = serialization.load_der_public_key(publics.pop())
    for name, signature in signatures.items():
        public.verify(signature, name.encode(),
                      padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH),
                      hashes.SHA256())
    a.state.close()
    b.state.close()


def test_a_process_that_fell_behind_reloads_everything(tmp_path, monkeypatch):
    from mockkms import _rows
    monkeypatch.setattr(_rows, "KEEP_CHANGES", 5)
    monkeypatch.setattr(_rows, "PRUNE_EVERY", 2)
    a, b = opened(tmp_path, verify=False), opened(tmp_path, verify=False)
    ka = wsgi_client(a)
    made = [ka.create_key()["KeyMetadata"]["KeyId"] for _ in range(12)]
    assert rows(tmp_path, "SELECT min(seq) FROM changes")[0][0] > 1   # pruned
    assert {k["KeyId"] for k in wsgi_client(b).list_keys()["Keys"]} == set(made)
    assert b.state.database.verify() == []
    a.state.close()
    b.state.close()


def test_dispatch_handle_with_a_database(tmp_path):
    """``_dispatch.handle`` (what every transport calls) goes through the database."""
    app = opened(tmp_path)
    status, body = _dispatch.handle(app.backend, ACCOUNT, REGION, "TrentService.CreateKey", b"{}")
    assert status == 200
    key_id = json.loads(body)["KeyMetadata"]["KeyId"]
    assert rows(tmp_path, "SELECT key_id FROM keys") == [(key_id,)]
    app.state.close()


def test_make_app_with_a_state_directory(tmp_path):
    """What a WSGI server hosting ``make_app(state_dir=...)`` runs in each worker process."""
    first, second = make_app(state_dir=str(tmp_path)), make_app(state_dir=str(tmp_path))
    key_id = wsgi_client(first).create_key()["KeyMetadata"]["KeyId"]
    assert wsgi_client(second).describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    first.state.close()
    second.state.close()


# --- scheduled events and the last-use flush (moved from the JSON state file's tests) -------------
def test_server_advance_as_first_request_applies_a_loaded_deletion(tmp_path):
    with mock_kms() as m:
        kms = boto3.client("kms", region_name=REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        state = StateDir(str(tmp_path), m.backend)
        state.open()
        state.save_all()
        state.close()
    result = run_python(
        "import io, json, sys\n"
        "from mockkms._backend import Backend\n"
        "from mockkms._persist import StateDir\n"
        "from mockkms.server import make_app\n"
        "b = Backend()\n"
        f"state = StateDir({str(tmp_path)!r}, b)\n"
        "state.open()\n"
        "app = make_app(b, state=state)\n"
        "body = json.dumps({'days': 8}).encode()\n"
        "env = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/_mockkms/advance', 'SCRIPT_NAME': '',"
        " 'QUERY_STRING': '', 'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '4599',"
        " 'wsgi.input': io.BytesIO(body), 'wsgi.url_scheme': 'http',"
        " 'CONTENT_LENGTH': str(len(body)), 'CONTENT_TYPE': 'application/json'}\n"
        "seen = []\n"
        "b''.join(app(env, lambda status, headers, exc=None: seen.append(status)))\n"
        "state.close()\n"
        "print(seen[0], len(b.events), sum(len(s.keys) for s in b.stores.values()))\n")
    assert result.stdout.strip() == "200 OK 0 0", result.stderr
    assert rows(tmp_path, "SELECT count(*) FROM keys") == [(0,)]
    assert rows(tmp_path, "SELECT count(*) FROM events") == [(0,)]


def test_a_state_file_with_an_unknown_event_kind_is_refused(tmp_path):
    path = os.path.join(tmp_path, JSON_FILE)
    doc = {"format": "mockkms-state", "format_version": 1, "clock_offset": 0.0, "event_seq": 1,
           "events": [[1.0, 1, "no-such-kind", "123456789012", REGION, "k"]], "stores": []}
    with open(path, "w") as fh:
        json.dump(doc, fh)
    backend = make_app().backend
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), backend).open()
    assert f"cannot load state file {path}: it is corrupt: unknown event kind 'no-such-kind' " \
           "at events[0] (this mockkms knows delete_key, " in str(exc.value)
    assert backend.events == []


def test_last_uses_are_written_at_most_once_per_debounce(tmp_path):
    app = opened(tmp_path, verify=False, debounce=0.2)
    _, body = _dispatch.handle(app.backend, ACCOUNT, REGION, "TrentService.CreateKey", b"{}")
    key_id = json.loads(body)["KeyMetadata"]["KeyId"]
    writes = []
    uses = app.state.database.uses
    original = uses._write

    def counting(pending):
        writes.append(time.monotonic())
        original(pending)
    uses._write = counting
    request = json.dumps({"KeyId": key_id, "Plaintext": "aGk="}).encode()
    start = time.monotonic()
    while time.monotonic() - start < 0.5:           # a stream of reads (last-use changes)
        _dispatch.handle(app.backend, ACCOUNT, REGION, "TrentService.Encrypt", request)
        time.sleep(0.002)
    app.state.close()                                # flushes what is still pending
    # 0.5 s of changes: one flush per 0.2 s at most, plus the one at close
    assert 1 <= len(writes) <= 4, len(writes)
    gaps = [b - a for a, b in zip(writes, writes[1:-1])]
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_a_reader_does_not_answer_with_a_change_a_failed_write_undid(tmp_path, monkeypatch):
    """A ListKeys that runs while a CreateKey's change is in memory but failing to commit
    (a full disk) must not answer with that key: the writer's change is undone, and the reader
    is answered the same KMSInternalException."""
    import threading
    import time

    from mockkms import _rows
    from mockkms._persist import StateDir
    from mockkms.server import make_app

    app = make_app()
    app.state = StateDir(str(tmp_path), app.backend)
    app.state.open()
    writing = threading.Event()

    def slow_failure(conn, writer, changes):
        writing.set()
        time.sleep(0.5)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_rows, "write", slow_failure)
    answers = {}
    writer = threading.Thread(target=lambda: answers.update(w=kms_call(app, "CreateKey", {})))
    writer.start()
    assert writing.wait(5)
    reader = kms_call(app, "ListKeys", {})
    writer.join()
    assert answers["w"][0] == 500
    status, _, out = reader
    assert (status, out["__type"]) == (500, "KMSInternalException"), out
    assert "was not saved" in out["message"]
    monkeypatch.undo()
    assert kms_call(app, "ListKeys", {})[2]["Keys"] == []  # the memory kept nothing either
    app.state.close()


def test_a_wsgi_hosted_state_dir_flushes_last_uses_at_exit(tmp_path):
    """``make_app(state_dir=...)`` under a WSGI host (nothing calls close): the keys' last
    uses, written in batches, are on disk after the interpreter exits."""
    import sqlite3

    from helpers import run_python

    code = f"""
import io, json
from mockkms.server import make_app
app = make_app(state_dir={str(tmp_path)!r})
def call(target, params):
    body = json.dumps(params).encode()
    environ = {{"REQUEST_METHOD": "POST", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4599", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/x-amz-json-1.1",
               "HTTP_X_AMZ_TARGET": "TrentService." + target}}
    return json.loads(b"".join(app(environ, lambda status, headers, exc=None: None)))
key = call("CreateKey", {{}})["KeyMetadata"]["KeyId"]
call("Encrypt", {{"KeyId": key, "Plaintext": "eA=="}})
"""
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(str(tmp_path / "mockkms-state.db"))
    try:
        assert db.execute("SELECT last_used_operation FROM keys").fetchall() == [("Encrypt",)]
    finally:
        db.close()
