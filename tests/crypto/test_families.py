"""The key-family registry of ``mockkms._crypto``: every key spec of the installed model has a
family; each family's material round-trips through its stored form; what a family does not do
raises its own error; the state-file form of a key pair is unchanged; ``_crypto`` stays below the
service layer (it imports no mockkms module outside ``mockkms._crypto``, in any form)."""
from __future__ import annotations

import ast
import pathlib

import botocore.session
import pytest

import mockkms
from mockkms._crypto import asymmetric, errors
from mockkms._crypto.families import REGISTRY, family

MODEL_SPECS = botocore.session.get_session().get_service_model("kms").shape_for("KeySpec").enum
ASYMMETRIC = sorted(s for s in REGISTRY if family(s).asymmetric and s not in (
    "RSA_3072", "RSA_4096"))  # the smaller RSA key stands for its family: generation is slow


def test_every_key_spec_of_the_model_has_a_family():
    assert set(MODEL_SPECS) <= set(REGISTRY)
    assert {type(family(s)).__name__ for s in REGISTRY} == {
        "Symmetric", "Hmac", "Rsa", "Ecc", "Ed25519", "MlDsa", "Sm2", "MlKem"}
    assert family("RSA_2048") is family("RSA_2048")  # one instance per spec
    with pytest.raises(errors.UnsupportedAlgorithm):
        family("NOT_A_SPEC")


@pytest.mark.parametrize("spec", ASYMMETRIC)
def test_key_pair_material_round_trips(spec):
    fam = family(spec)
    private = fam.generate()
    stored = fam.dump(private)
    again = fam.load(stored)
    assert fam.dump(again) == stored and fam.public_der(again) == fam.public_der(private)
    with pytest.raises(errors.BadKeyMaterial):
        fam.load(b"not a key")
    other = "ECC_NIST_P384" if spec != "ECC_NIST_P384" else "ECC_NIST_P256"
    with pytest.raises(errors.BadKeyMaterial):  # a key of another spec
        fam.load(family(other).dump(family(other).generate()))


@pytest.mark.parametrize("spec,low,high", [("SYMMETRIC_DEFAULT", 32, 32), ("HMAC_224", 28, 64),
                                           ("HMAC_256", 32, 64), ("HMAC_384", 48, 128),
                                           ("HMAC_512", 64, 128)])
def test_secret_material_sizes(spec, low, high):
    fam = family(spec)
    assert not fam.asymmetric and fam.material_sizes == (low, high)
    assert len(fam.generate()) == low and fam.generate() != fam.generate()
    for size in (low, high):
        assert fam.load(bytes(size)) == bytes(size)
    for size in (low - 1, high + 1):
        with pytest.raises(errors.BadKeyMaterial):
            fam.load(bytes(size))


def test_what_a_family_does_not_do_is_its_own_error():
    hmac_key = family("HMAC_256")
    with pytest.raises(errors.UnsupportedAlgorithm):
        hmac_key.sign(b"k" * 32, "ECDSA_SHA_256", b"m", "RAW")
    with pytest.raises(errors.UnsupportedAlgorithm):
        hmac_key.mac(b"k" * 32, "HMAC_SHA_512", b"m")  # not this spec's algorithm
    ecc = family("ECC_NIST_P256")
    with pytest.raises(errors.UnsupportedAlgorithm):
        ecc.encrypt(ecc.generate(), "RSAES_OAEP_SHA_256", b"x")
    with pytest.raises(errors.UnsupportedAlgorithm):
        asymmetric.KeyPair("SYMMETRIC_DEFAULT")


def test_bad_input_errors_are_value_errors_and_translated_by_handlers():
    rsa = asymmetric.KeyPair("RSA_2048")
    with pytest.raises(errors.BadCiphertext):
        rsa.decrypt("RSAES_OAEP_SHA_256", bytes(256))
    ecc = asymmetric.KeyPair("ECC_NIST_P256")
    with pytest.raises(errors.BadPublicKey):
        ecc.derive_shared_secret(b"not DER")
    with pytest.raises(errors.BadPublicKey):  # a key on another curve
        ecc.derive_shared_secret(asymmetric.KeyPair("ECC_NIST_P384").public_der())
    for cls in (errors.BadCiphertext, errors.BadKeyMaterial, errors.BadPublicKey):
        assert issubclass(cls, errors.CryptoError) and issubclass(cls, ValueError)


def test_stored_form_of_a_key_pair(kms, kms_mock):
    """A state directory's database keeps a key pair as its key spec and PKCS #8 DER
    (``_schema``: columns ``key_pair_spec``, ``private_key``); read back, it is the same key."""
    from mockkms import _schema
    key_id = kms.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"]["KeyId"]
    key = kms_mock.backend.store("123456789012", "us-east-1").keys[key_id]
    columns = dict(zip(_schema.KEY_TABLE.columns, _schema.KEY_TABLE.encode(key)))
    assert (columns["key_pair_spec"], columns["private_key"]) == ("ECC_NIST_EDWARDS25519", None)
    public = kms.get_public_key(KeyId=key_id)["PublicKey"]   # generated on first use
    columns = dict(zip(_schema.KEY_TABLE.columns, _schema.KEY_TABLE.encode(key)))
    stored = asymmetric.KeyPair.stored(columns["key_pair_spec"], columns["private_key"])
    assert stored.public_der() == public


CRYPTO = "mockkms._crypto"


def _imports_outside_crypto(source: str, module: str, package: bool) -> list[str]:
    """The mockkms modules outside ``mockkms._crypto`` that ``source`` (the module ``module``;
    ``package``: an ``__init__``) imports: absolute or relative, at module level or inside
    functions, and ``importlib.import_module``/``__import__`` of a constant name."""
    here = module.split(".") if package else module.split(".")[:-1]
    targets = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 >= len(here):
                    targets.append("." * node.level + (node.module or ""))  # above mockkms
                    continue
                base = here[:len(here) - (node.level - 1)] + ([node.module] if node.module else [])
                targets.append(".".join(base))
            else:
                targets.append(node.module or "")
        elif isinstance(node, ast.Call) and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                targets.append(node.args[0].value)
    return [t for t in targets
            if (t == "mockkms" or t.startswith(("mockkms.", "."))) and
            not (t == CRYPTO or t.startswith(CRYPTO + "."))]


@pytest.mark.parametrize("source, module, package, outside", [
    ("import os\nfrom cryptography import x509", "mockkms._crypto.asymmetric", False, []),
    ("from . import errors", "mockkms._crypto", True, []),
    ("from .errors import BadKeyMaterial", "mockkms._crypto.asymmetric", False, []),
    ("from ..errors import X\nfrom ..pure import sm2", "mockkms._crypto.families.sm2", False,
     []),
    ("from .. import _errors", "mockkms._crypto.recipient", False, ["mockkms"]),
    ("from ..._errors import X", "mockkms._crypto.families.rsa", False, ["mockkms._errors"]),
    ("def f():\n    from ... import _keys", "mockkms._crypto.pure.sm2", False, ["mockkms"]),
    ("import mockkms._errors", "mockkms._crypto.recipient", False, ["mockkms._errors"]),
    ("from mockkms import _names", "mockkms._crypto", True, ["mockkms"]),
    ("from mockkms._crypto.pure import der", "mockkms._crypto.recipient", False, []),
    ("import importlib\nimportlib.import_module('mockkms._store')", "mockkms._crypto.x", False,
     ["mockkms._store"]),
    ("from .... import x", "mockkms._crypto.pure.sm2", False, ["...."]),  # above mockkms
])
def test_the_import_check_sees_every_form(source, module, package, outside):
    assert _imports_outside_crypto(source, module, package) == outside


def test_crypto_never_imports_the_service_layer():
    root = pathlib.Path(mockkms.__file__).parent / "_crypto"
    checked = 0
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent.parent).with_suffix("").parts
        package = path.name == "__init__.py"
        module = ".".join(parts[:-1] if package else parts)
        outside = _imports_outside_crypto(path.read_text(encoding="utf-8"), module, package)
        assert outside == [], f"{module} imports {outside}: _crypto imports nothing else of mockkms"
        checked += 1
    assert checked > 10
