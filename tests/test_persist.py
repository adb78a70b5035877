"""The state file of server mode (``mockkms._persist``): the generic encoding of the backend, the
atomic writes, when writes happen, and how a bad file is refused. In process and fast; the
server itself is exercised in test_server.py."""
from __future__ import annotations

import json
import os
import stat
import threading
import time

import boto3
import pytest

from helpers import run_python
from mockkms import _persist, _statefile, mock_kms
from mockkms._backend import Backend
from mockkms._persist import PersistError, StateDir, StateError

REGION = "us-east-1"


def _without_time(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("saved_at")
    return doc


def _roundtrip(backend) -> Backend:
    """A fresh backend loaded from ``backend``'s state written to JSON text and read back."""
    text = _persist.dumps(_persist.encode_state(backend))
    fresh = Backend()
    _persist.decode_state(json.loads(text), fresh)
    return fresh


def _rich_state(kms):
    """Keys of every kind the mock has, in several states, with the records around them."""
    made = {}
    sym = made["sym"] = kms.create_key(Description="sym")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/sym", TargetKeyId=sym)
    kms.tag_resource(KeyId=sym, Tags=[{"TagKey": "team", "TagValue": "a"}])
    kms.create_grant(KeyId=sym, GranteePrincipal="arn:aws:iam::123456789012:role/r",
                     Operations=["Encrypt", "Decrypt"])
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
    kms.get_parameters_for_import(KeyId=made["external"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                  WrappingKeySpec="RSA_2048")
    made["mrk"] = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=made["mrk"], ReplicaRegion="eu-west-1")
    made["managed"] = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]
    made["mldsa"] = kms.create_key(KeySpec="ML_DSA_44",
                                   KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    made["mldsa_signature"] = kms.sign(KeyId=made["mldsa"], Message=b"m", MessageType="RAW",
                                       SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    hsm = kms.create_custom_key_store(
        CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234567abcde",
        TrustAnchorCertificate="cert", KeyStorePassword="kmsuser-pass")["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=hsm)
    made["in_hsm"] = kms.create_key(CustomKeyStoreId=hsm,
                                    Origin="AWS_CLOUDHSM")["KeyMetadata"]["KeyId"]
    made["hsm_blob"] = kms.encrypt(KeyId=made["in_hsm"], Plaintext=b"hsm")["CiphertextBlob"]
    return made


def test_roundtrip_keeps_every_field_and_decryptability(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    made = _rich_state(kms)
    kms_mock.advance(days=2)
    doc = _persist.encode_state(kms_mock.backend)
    fresh = _roundtrip(kms_mock.backend)
    # nothing lost: the reloaded backend encodes to the same document
    assert _without_time(_persist.encode_state(fresh)) == _without_time(doc)
    assert fresh.clock._offset == kms_mock.backend.clock._offset == 2 * 86400
    assert fresh.events == kms_mock.backend.events and fresh.events

    # and it behaves the same: old ciphertexts decrypt, old signatures verify
    describe = {k: kms.describe_key(KeyId=made[k])["KeyMetadata"]
                for k in ("sym", "disabled", "pending", "mrk", "managed", "in_hsm", "external")}
    kms_mock.reset()
    _persist.decode_state(json.loads(_persist.dumps(doc)), kms_mock.backend)
    for name, md in describe.items():
        assert kms.describe_key(KeyId=made[name])["KeyMetadata"] == md
    assert kms.decrypt(CiphertextBlob=made["blob_before_rotation"])["Plaintext"] == b"one"
    assert kms.decrypt(CiphertextBlob=made["blob"],
                       EncryptionContext={"k": "v"})["Plaintext"] == b"two"
    assert kms.verify_mac(KeyId=made["hmac"], Message=b"m", MacAlgorithm="HMAC_SHA_256",
                          Mac=made["mac"])["MacValid"]
    assert kms.get_public_key(KeyId=made["ecc"])["PublicKey"] == made["public"]
    assert kms.verify(KeyId=made["ecc"], Message=b"m", MessageType="RAW",
                      SigningAlgorithm="ECDSA_SHA_256",
                      Signature=made["signature"])["SignatureValid"]
    assert kms.verify(KeyId=made["mldsa"], Message=b"m", MessageType="RAW",
                      SigningAlgorithm="ML_DSA_SHAKE_256",
                      Signature=made["mldsa_signature"])["SignatureValid"]
    assert kms.decrypt(CiphertextBlob=made["hsm_blob"])["Plaintext"] == b"hsm"
    assert kms.describe_custom_key_stores()["CustomKeyStores"][0]["ConnectionState"] == \
        "CONNECTED"
    assert kms.list_aliases(KeyId=made["sym"])["Aliases"][0]["AliasName"] == "alias/sym"
    assert len(kms.list_grants(KeyId=made["sym"])["Grants"]) == 1
    assert kms.get_key_rotation_status(KeyId=made["sym"])["KeyRotationEnabled"] is True
    replica = boto3.client("kms", region_name="eu-west-1")
    assert replica.describe_key(KeyId=made["mrk"])["KeyMetadata"]["KeyState"] == "Enabled"
    # the scheduled deletion still happens when its day comes
    kms_mock.advance(days=6)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=made["pending"])


def test_shared_objects_stay_shared_and_cycles_load(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    key = kms_mock.backend.store("123456789012", REGION).keys[key_id]
    key.rotations = [key.materials[0]]        # the same Material object twice
    key.import_state = {"self": [key]}         # a cycle back to the key
    fresh = _roundtrip(kms_mock.backend)
    loaded = fresh.store("123456789012", REGION).keys[key_id]
    assert loaded.rotations[0] is loaded.materials[0]
    assert loaded.import_state["self"][0] is loaded
    assert fresh.store("123456789012", REGION).clock is fresh.clock


def test_plain_values_of_every_kind_roundtrip():
    backend = Backend()
    store = backend.store("123456789012", REGION)
    value = {"bytes": b"\x00\xff", "tuple": (1, "a", None), "set": {"b", "a"},
             "frozen": frozenset({3}), "intkeys": {1: "one", (2, 3): "pair"},
             "dollar": {"$bytes": "not a tag"}, "floats": [1.5, float("inf"), -float("inf")],
             "nested": [[{"x": True}]], "lock": threading.Lock(), "rlock": threading.RLock()}
    store.custom_key_stores["cks-1"] = value
    loaded = _roundtrip(backend).store("123456789012", REGION).custom_key_stores["cks-1"]
    assert {k: v for k, v in loaded.items() if "lock" not in k} == \
        {k: v for k, v in value.items() if "lock" not in k}
    assert loaded["lock"].acquire(blocking=False) and loaded["rlock"].acquire(blocking=False)
    nan = _statefile._Decoder(backend.clock).value(
        _statefile._Encoder(backend.clock).value(float("nan"), "x"), "x")
    assert nan != nan


def test_cryptography_key_objects_roundtrip():
    from cryptography.hazmat.primitives.asymmetric import ec

    backend = Backend()
    private = ec.generate_private_key(ec.SECP256R1())
    backend.store("123456789012", REGION).grants["g"] = {"private": private,
                                                         "public": private.public_key()}
    loaded = _roundtrip(backend).store("123456789012", REGION).grants["g"]
    assert loaded["private"].private_numbers() == private.private_numbers()
    assert loaded["public"].public_numbers() == private.public_key().public_numbers()


def test_to_dict_holders_use_their_own_codec(monkeypatch):
    class Holder:
        def __init__(self, secret):
            self.secret = secret

        def to_dict(self):
            return {"s": self.secret}

        @classmethod
        def from_dict(cls, data):
            return cls(data["s"] + b"!")  # proves from_dict ran

    Holder.__module__, Holder.__qualname__ = "mockkms._persist", "Holder"
    monkeypatch.setattr(_persist, "Holder", Holder, raising=False)
    backend = Backend()
    backend.store("123456789012", REGION).grants["g"] = Holder(b"x")
    doc = _persist.encode_state(backend)
    assert doc["stores"][0]["fields"]["grants"]["g"]["state"] == {"s": {"$bytes": "eA=="}}
    assert _roundtrip(backend).store("123456789012", REGION).grants["g"].secret == b"x!"


class _Foreign:
    """Defined outside mockkms: the state file must refuse to hold it."""


@pytest.mark.parametrize("value, kind", [
    (_Foreign(), "test_persist._Foreign"), (lambda: 1, "function"),
    (threading.Event(), "threading.Event"), (object(), "builtins.object"),
])
def test_unknown_types_fail_loudly_naming_where_they_are(kms_mock, value, kind):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    key = kms_mock.backend.store("123456789012", REGION).keys[key_id]
    key.import_state = {"token": value}
    with pytest.raises(PersistError) as exc:
        _persist.encode_state(kms_mock.backend)
    assert kind in str(exc.value)
    assert f"stores[0].keys.{key_id}.import_state.token" in str(exc.value)


def test_new_fields_default_when_loading_an_older_file(kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    doc = _persist.encode_state(kms_mock.backend)
    fields = doc["stores"][0]["fields"]
    del fields["keys"][key_id]["fields"]["rotation_enabled"]   # as if written before it existed
    del fields["keys"][key_id]["fields"]["materials"][0]["fields"]["state"]
    del fields["grants"]
    fields["keys"][key_id]["fields"]["retired_field"] = 1       # a field since removed
    fresh = Backend()
    _persist.decode_state(json.loads(_persist.dumps(doc)), fresh)
    store = fresh.store("123456789012", REGION)
    key = store.keys[key_id]
    assert key.rotation_enabled is False        # Key's constructor default
    assert key.materials[0].state is None       # other slot classes: None
    assert store.grants == {}                   # Store's constructor default
    assert not hasattr(key, "retired_field")


# --- the state directory ---------------------------------------------------------------------

def _state_file(path) -> str:
    return os.path.join(path, _persist.STATE_FILE)


def _opened(path, backend=None, **kw) -> StateDir:
    state = StateDir(str(path), backend or Backend(), **kw)
    state.open()
    return state


def test_state_dir_writes_atomically_with_private_permissions(tmp_path):
    target = tmp_path / "new" / "dir"
    backend = Backend()
    state = StateDir(str(target), backend)
    assert state.open() is False                     # nothing to load yet; directory created
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    backend.store("123456789012", REGION).grants["g"] = {"n": 1}
    state.changed()
    assert stat.S_IMODE(os.stat(_state_file(target)).st_mode) == 0o600
    assert not os.path.exists(os.path.join(target, _persist.TMP_FILE))
    doc = json.loads(open(_state_file(target)).read())
    assert (doc["format"], doc["format_version"]) == ("mockkms-state", 1)
    state.close()
    again = Backend()
    assert StateDir(str(target), again).open() is True
    assert again.store("123456789012", REGION).grants["g"] == {"n": 1}


def test_state_dir_removes_a_temporary_file_left_by_a_crash(tmp_path):
    state = _opened(tmp_path)
    state.changed()
    state.close()
    good = open(_state_file(tmp_path), "rb").read()
    with open(os.path.join(tmp_path, _persist.TMP_FILE), "wb") as fh:
        fh.write(b'{"format": "mockkms-st')            # a write cut short
    backend = Backend()
    assert StateDir(str(tmp_path), backend).open() is True
    assert not os.path.exists(os.path.join(tmp_path, _persist.TMP_FILE))
    assert open(_state_file(tmp_path), "rb").read() == good


def test_state_dir_is_locked_against_a_second_server(tmp_path):
    first = _opened(tmp_path)
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), Backend()).open()
    assert "in use by another mockkms server" in str(exc.value)
    first.close()
    _opened(tmp_path).close()                            # free again once closed


def test_state_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(StateError) as exc:
        StateDir(str(path), Backend()).open()
    assert str(exc.value) == f"state directory {path} is not a directory"


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
def test_a_bad_state_file_is_refused_and_left_alone(tmp_path, content, problem):
    path = _state_file(tmp_path)
    with open(path, "wb") as fh:
        fh.write(content)
    backend = Backend()
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), backend).open()
    assert path in str(exc.value) and problem in str(exc.value)
    assert open(path, "rb").read() == content        # never overwritten
    assert backend.stores == {}                        # nothing half-loaded
    again = StateDir(str(tmp_path), Backend())
    again._take_lock()                                 # the failed open released its lock
    again._release_lock()


def test_after_request_writes_changes_at_once_and_reads_later(tmp_path, kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    backend = kms_mock.backend
    state = _opened(tmp_path, backend, debounce=3600)  # the background flush never fires here

    def saved_keys():
        doc = json.loads(open(_state_file(tmp_path)).read())
        return {k for s in doc["stores"] for k in s["fields"]["keys"]}

    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    state.after_request("CreateKey", True)
    assert saved_keys() == {key_id}
    before = os.stat(_state_file(tmp_path)).st_mtime_ns
    kms.encrypt(KeyId=key_id, Plaintext=b"x")           # changes only the last-use time
    state.after_request("Encrypt", True)
    state.after_request("CreateKey", False)             # a failed request changed nothing
    assert os.stat(_state_file(tmp_path)).st_mtime_ns == before and state._dirty
    managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]
    state.after_request("DescribeKey", True)            # a read that created a key: at once
    assert saved_keys() == {key_id, managed}
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    state.after_request("Encrypt", True)
    state.close()                                       # the pending read change is flushed
    doc = json.loads(open(_state_file(tmp_path)).read())
    key = doc["stores"][0]["fields"]["keys"][key_id]["fields"]
    assert key["last_used"]["$tuple"][0] == "Encrypt"


def test_background_flush_writes_incidental_changes(tmp_path, kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    state = _opened(tmp_path, kms_mock.backend, debounce=0.01)
    state.changed()
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    written = threading.Event()
    original = state._write

    def spy(data):
        original(data)
        written.set()
    state._write = spy
    state.after_request("Encrypt", True)
    assert written.wait(5)
    doc = json.loads(open(_state_file(tmp_path)).read())
    assert doc["stores"][0]["fields"]["keys"][key_id]["fields"]["last_used"] is not None
    state.close()


def test_concurrent_saves_are_coalesced_and_ordered(tmp_path):
    backend = Backend()
    state = _opened(tmp_path, backend)
    writes = []
    original = state._write

    def counting(data):
        writes.append(data)
        original(data)
    state._write = counting
    store = backend.store("123456789012", REGION)

    def worker(n):
        for i in range(20):
            with backend.lock:
                store.grants[f"{n}-{i}"] = i
            state.changed()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state.close()
    final = json.loads(open(_state_file(tmp_path)).read())
    assert len(final["stores"][0]["fields"]["grants"]) == 160
    assert json.loads(writes[-1]) == final
    assert len(writes) <= 160


def test_save_failure_reports_the_problem(tmp_path, kms_mock):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    state = _opened(tmp_path, kms_mock.backend)
    kms_mock.backend.store("123456789012", REGION).keys[key_id].import_state = _Foreign()
    with pytest.raises(PersistError):
        state.after_request("CreateKey", True)
    assert not os.path.exists(_state_file(tmp_path))   # nothing half-written
    kms_mock.backend.store("123456789012", REGION).keys[key_id].import_state = None
    state.close()
    assert os.path.exists(_state_file(tmp_path))


# --- state files of earlier versions -------------------------------------------------------------
# Written by mockkms 0.1.0 before its records moved (aliases, grants, custom key stores and
# imported-material records now live in mockkms._records / mockkms._keys, event handlers in
# mockkms._lifecycle); its class names and event kinds must keep loading.
OLD_STATE = os.path.join(os.path.dirname(__file__), "data", "state-0.1.0", "mockkms-state.json")
OLD = {"sym": "2ad183ed-9f03-4154-8413-a69d036ad0a6",
       "doomed": "c7390b32-519a-4150-b0d4-a39bf43933fe",
       "ext": "5067096c-2e33-4244-89cb-046acb6a8488", "store": "cks-d326f271e336e8f75",
       "hsm": "c8588b48-c2cd-4fab-89b6-fe2d9ddd48a7", "mrk": "mrk-cd680449ae8d4a47868d106537196d6b",
       "grant": "75c212ac0bfe920f4447856a779a501eac75d9edb7a5e25301724ebb6c707a67",
       "blob": "AQAq0YPtnwNBVIQTpp0DatCmrgbPSPlRB+B+De4Sma0xUV+vbzoitOQDEW3YhfCLGZhwp0Fgx8I9HBVnIn"
               "0I2GZn5EOcKxPTwlj1NzBTmWN+VQ=="}


def test_a_state_file_of_mockkms_0_1_0_loads(tmp_path, kms_mock):
    import base64
    import shutil
    shutil.copy(OLD_STATE, tmp_path)
    state = StateDir(str(tmp_path), kms_mock.backend)
    assert state.open()
    kms = boto3.client("kms", region_name=REGION)
    blob = base64.b64decode(OLD["blob"])
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"kept"
    assert [a["TargetKeyId"] for a in kms.list_aliases(KeyId=OLD["sym"])["Aliases"]] == [OLD["sym"]]
    grants = kms.list_grants(KeyId=OLD["sym"])["Grants"]
    assert [(g["GrantId"], g["Name"], g["Operations"]) for g in grants] == [
        (OLD["grant"], "g", ["Decrypt"])]
    assert kms.list_resource_tags(KeyId=OLD["sym"])["Tags"] == [{"TagKey": "team", "TagValue": "a"}]
    (cks,) = kms.describe_custom_key_stores()["CustomKeyStores"]
    assert (cks["CustomKeyStoreId"], cks["ConnectionState"]) == (OLD["store"], "DISCONNECTED")
    assert kms.describe_key(KeyId=OLD["hsm"])["KeyMetadata"]["KeyState"] == "Unavailable"
    kms.connect_custom_key_store(CustomKeyStoreId=OLD["store"])
    assert kms.describe_key(KeyId=OLD["hsm"])["KeyMetadata"]["KeyState"] == "Enabled"
    mr = kms.describe_key(KeyId=OLD["mrk"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert [r["Region"] for r in mr["ReplicaKeys"]] == ["us-west-2"]
    # every scheduled event kind of that file still has its handler: a year on, all have fired
    kms_mock.advance(days=400)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=OLD["doomed"])
    assert kms.describe_key(KeyId=OLD["ext"])["KeyMetadata"]["KeyState"] == "PendingImport"
    rotations = kms.list_key_rotations(KeyId=OLD["sym"])["Rotations"]
    assert "AUTOMATIC" in [r["RotationType"] for r in rotations]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"kept"
    state.close()


# --- scheduled events in the state directory ------------------------------------------------------

def test_server_advance_as_first_request_applies_a_loaded_deletion(tmp_path):
    with mock_kms() as m:
        kms = boto3.client("kms", region_name=REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        state = StateDir(str(tmp_path), m.backend)
        state.open()
        state.changed()
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


def test_a_state_file_with_an_unknown_event_kind_is_refused(tmp_path):
    path = os.path.join(tmp_path, "mockkms-state.json")
    doc = {"format": "mockkms-state", "format_version": 1, "clock_offset": 0.0, "event_seq": 1,
           "events": [[1.0, 1, "no-such-kind", "123456789012", REGION, "k"]], "stores": []}
    with open(path, "w") as fh:
        json.dump(doc, fh)
    backend = Backend()
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), backend).open()
    assert f"cannot load state file {path}: it is corrupt: unknown event kind 'no-such-kind' " \
           "at events[0] (this mockkms knows delete_key, " in str(exc.value)
    assert backend.events == []


# --- the background flush debounces ---------------------------------------------------------------

def test_incidental_changes_are_written_at_most_once_per_debounce(tmp_path):
    backend = Backend()
    state = StateDir(str(tmp_path), backend, debounce=0.2)
    state.open()
    writes = []
    original = state._write

    def counting(data):
        writes.append(time.monotonic())
        original(data)
    state._write = counting
    start = time.monotonic()
    while time.monotonic() - start < 0.5:           # a stream of reads (last-use changes)
        state.after_request("Encrypt", True)
        time.sleep(0.002)
    state.close()                                    # flushes what is still pending
    # 0.5 s of changes: one flush per 0.2 s at most, plus the one at close
    assert 1 <= len(writes) <= 4, len(writes)
    gaps = [b - a for a, b in zip(writes, writes[1:-1])]
    assert all(gap >= 0.19 for gap in gaps), gaps
