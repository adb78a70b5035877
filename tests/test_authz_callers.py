"""Who is calling: the account's root by default, registered IAM users and roles
(``MockKms.principal``), role sessions (``assume``), the ``kms_principal`` fixture, and the
``authorization`` switch."""
from __future__ import annotations

import unittest

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import denied, document, error_of, statement
from mockkms import mock_kms

ACCOUNT, OTHER = "123456789012", "111122223333"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALL_KMS = document(statement(action="kms:*"))
REGION = "us-east-1"


def nobody_policy(principal=f"arn:aws:iam::{ACCOUNT}:role/nobody"):
    """A key policy that names only ``principal`` (created with the lockout check bypassed)."""
    return document(statement(principal=principal))


def test_default_caller_is_the_accounts_root(kms):
    key = kms.create_key(Policy=nobody_policy(), BypassPolicyLockoutSafetyCheck=True)
    arn = key["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=arn)
    assert error_of(exc) == denied(ROOT, "kms:DescribeKey", arn, "resource")
    other = boto3.client("kms", region_name=REGION, aws_access_key_id=OTHER,
                         aws_secret_access_key="x")  # 12 digits: that account's root
    key = other.create_key(Policy=nobody_policy(f"arn:aws:iam::{OTHER}:user/u"),
                           BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        other.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(exc) == denied(f"arn:aws:iam::{OTHER}:root", "kms:Encrypt", key["Arn"],
                                   "resource")


def test_a_user_calls_with_its_credentials(kms_mock, kms):
    alice = kms_mock.principal(f"arn:aws:iam::{ACCOUNT}:user/alice", policies=[ALL_KMS])
    assert alice.arn == f"arn:aws:iam::{ACCOUNT}:user/alice" and alice.account == ACCOUNT
    assert set(alice.credentials) == {"aws_access_key_id", "aws_secret_access_key"}
    assert alice.credentials["aws_access_key_id"].startswith("AKIA")
    key = alice.client().create_key()["KeyMetadata"]
    assert key["AWSAccountId"] == ACCOUNT and key["Arn"].startswith("arn:aws:kms:us-east-1:")
    same = boto3.client("kms", region_name=REGION, **alice.credentials)
    assert same.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    assert kms.describe_key(KeyId=key["KeyId"])  # the root may too (default key policy)
    assert alice.client(region_name="eu-west-1").list_keys()["Keys"] == []  # another Region


def test_a_principal_without_identity_policies_may_do_nothing_alone(kms_mock, kms, key_id):
    bob = kms_mock.principal(f"arn:aws:iam::{ACCOUNT}:user/bob").client()
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    caller = f"arn:aws:iam::{ACCOUNT}:user/bob"
    with pytest.raises(ClientError) as exc:
        bob.list_keys()
    assert error_of(exc) == denied(caller, "kms:ListKeys", "*", "identity")
    with pytest.raises(ClientError) as exc:  # the default key policy delegates to IAM
        bob.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc) == denied(caller, "kms:Encrypt", arn, "identity")
    assert kms_mock.calls[-1].operation == "Encrypt"
    assert kms_mock.calls[-1].error == "AccessDeniedException"  # denials are logged


def test_roles_call_through_sessions(kms_mock, kms):
    role = kms_mock.principal("role/app", policies=[ALL_KMS])
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/app"
    assert role.session_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/mockkms"
    assert set(role.credentials) == {"aws_access_key_id", "aws_secret_access_key",
                                     "aws_session_token"}
    first, second = role.assume("first"), role.assume("second")
    assert first.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/first"
    # the key policy names the role: every session of it; or one session exactly
    by_role = kms.create_key(Policy=document(
        statement(principal=ROOT), statement(principal=role.arn, action="kms:Encrypt")))
    by_session = kms.create_key(Policy=document(
        statement(principal=ROOT), statement(principal=first.arn, action="kms:Encrypt")))
    for key in (by_role, by_session):
        first_client = first.client()
        first_client.encrypt(KeyId=key["KeyMetadata"]["KeyId"], Plaintext=b"x")
    second.client().encrypt(KeyId=by_role["KeyMetadata"]["KeyId"], Plaintext=b"x")
    role.client().encrypt(KeyId=by_role["KeyMetadata"]["KeyId"], Plaintext=b"x")
    # the session is not named and the role has no identity policy for this key: denied,
    # with the session's ARN in the message
    kms_mock.principal("role/app", policies=[])
    with pytest.raises(ClientError) as exc:
        second.client().encrypt(KeyId=by_session["KeyMetadata"]["KeyId"], Plaintext=b"x")
    assert error_of(exc) == denied(second.arn, "kms:Encrypt", by_session["KeyMetadata"]["Arn"],
                                   "identity")
    with pytest.raises(TypeError):
        first.assume("again")


def test_a_role_path_is_dropped_from_its_session_arn(kms_mock):
    role = kms_mock.principal("role/service-role/team/app")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/team/app"
    assert role.assume("s1").arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"


def test_a_principal_of_another_account_calls_in_its_account(kms_mock, kms):
    carol = kms_mock.principal(f"arn:aws:iam::{OTHER}:user/carol", policies=[ALL_KMS])
    key = carol.client().create_key()["KeyMetadata"]
    assert key["AWSAccountId"] == OTHER
    assert kms.list_keys()["Keys"] == []
    root = kms_mock.principal(f"arn:aws:iam::{OTHER}:root")  # that account's root, by keys
    assert root.client().list_keys()["Keys"] == [{"KeyId": key["KeyId"], "KeyArn": key["Arn"]}]


def test_registering_again_replaces_policies_and_keeps_credentials(kms_mock):
    user = kms_mock.principal("user/dave", policies=[ALL_KMS], tags={"team": "a"})
    before = user.credentials
    client = user.client()
    client.list_keys()
    again = kms_mock.principal("user/dave")
    assert again.credentials == before
    with pytest.raises(ClientError) as exc:
        client.list_keys()
    assert error_of(exc)[0] == "AccessDeniedException"


@pytest.mark.parametrize("arn,policies,tags,problem", [
    ("arn:aws:iam::123456789012:group/admins", None, None, "not an IAM user, role or root"),
    ("arn:aws:sts::123456789012:assumed-role/app/s", None, None, "role.assume"),
    ("alice", None, None, "not an IAM user, role or root"),
    ("arn:aws:iam::12345:user/alice", None, None, "not an IAM user, role or root"),
    ("user/alice", ["{not json"], None, "not JSON"),
    ("user/alice", [{"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}], None,
     "Resource or NotResource"),
    ("user/alice", [{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                    "Principal": "*"}]}], None, "no Principal"),
    ("user/alice", [{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                    "Condition": {"StringSorta": {"a": "b"}}}]}], None,
     "unknown condition operator"),
    ("user/alice", [42], None, "JSON text or a dict"),
    ("user/alice", None, {"k": 1}, "tags must be a dict of strings"),
    ("user/\u00e9lise", None, None, "not an IAM user, role or root"),  # IAM names are ASCII
    ("role/r\u00f4le", None, None, "not an IAM user, role or root"),
    ("user/x\u0661", None, None, "not an IAM user, role or root"),  # an Arabic-Indic digit
    ("user/alice", None, {"k" * 129: "v"}, "tag keys are 1 to 128 characters and values at most "
                                           "256, as in IAM; tag 'kkkk"),
    ("user/alice", None, {"": "v"}, "tag '' has a key of 0"),
    ("user/alice", None, {"k": "v" * 257}, "tag 'k' has a key of 1 and a value of 257 characters"),
    ("arn:aws:iam::123456789012:root", [ALL_KMS], None, "every IAM permission"),
    ("arn:aws:iam::123456789012:user/eve\n", None, None, "not an IAM user, role or root"),
    ("arn:aws:iam::123456789012:root\n", None, None, "not an IAM user, role or root"),
])
def test_bad_registrations(kms_mock, arn, policies, tags, problem):
    with pytest.raises(ValueError, match=problem):
        kms_mock.principal(arn, policies=policies, tags=tags)
    assert kms_mock.backend.principals == {}


def test_iam_names_are_unique_in_an_account_whatever_the_path_and_case(kms_mock, kms):
    """A role's session ARN drops its path, so role/team/app and role/app would share their
    sessions (and credentials): IAM refuses the second name, and so does the mock."""
    team = kms_mock.principal("role/team/app", policies=[ALL_KMS])
    for arn in ("role/app", "role/other/APP", "arn:aws:iam::123456789012:role/App"):
        with pytest.raises(ValueError, match="already has a role named app .*role/team/app"):
            kms_mock.principal(arn)
    kms_mock.principal("user/app")  # a user may share a role's name
    kms_mock.principal("arn:aws:iam::111122223333:role/app")  # another account's role
    kms_mock.principal("role/team/app", policies=[])  # the same ARN again: an update
    assert team.session_arn.endswith(":assumed-role/app/mockkms")
    assert {p.arn for p in kms_mock.backend.principals.values() if p.kind == "role"} == {
        "arn:aws:iam::123456789012:role/team/app", "arn:aws:iam::111122223333:role/app"}


def test_bad_session_names(kms_mock):
    role = kms_mock.principal("role/app")
    for name in ("x", "has space", "a" * 65, None, "\u00e91", "job-\u0661"):
        with pytest.raises(ValueError, match="session name must be 2 to 64 characters of "
                                             "letters, digits and"):
            role.assume(name)
    with pytest.raises(ValueError, match="tag 'tenant' has a key of 6 and a value of 257"):
        role.assume("s1", tags={"tenant": "a" * 257})


def test_names_and_tags_at_iams_limits(kms_mock):
    name = "Az09_+=,.@-" + "x" * 53  # 64 characters, every kind IAM allows
    user = kms_mock.principal(f"user/{name}", tags={"k" * 128: "v" * 256, "e": ""})
    assert user.arn.endswith(f":user/{name}")
    session = kms_mock.principal("role/app").assume(name, tags={"k" * 128: "v" * 256})
    assert session.arn.endswith(f"/app/{name}")


def test_kms_principal_fixture(kms_principal, kms_client, kms_mock):
    app = kms_principal("role/app", policies=[ALL_KMS])
    assert app is not None and app.arn.endswith(":role/app")
    key = kms_client.create_key()["KeyMetadata"]["KeyId"]
    assert app.client().encrypt(KeyId=key, Plaintext=b"x")["KeyId"].endswith(key)
    assert set(kms_mock.backend.principals) == {
        app.arn, f"arn:aws:sts::{ACCOUNT}:assumed-role/app/mockkms"}


def test_principals_are_reset_with_the_state():
    with mock_kms() as m:
        user = m.principal("user/erin", policies=[ALL_KMS])
        creds = user.credentials
        boto3.client("kms", region_name=REGION, **creds).create_key()
        m.reset()
        assert m.backend.principals == {} and m.backend.access_keys == {}
        # the same credentials now sign as the account's root (unregistered)
        other = boto3.client("kms", region_name=REGION, **creds)
        key = other.create_key(Policy=nobody_policy(), BypassPolicyLockoutSafetyCheck=True)
        with pytest.raises(ClientError) as exc:
            other.describe_key(KeyId=key["KeyMetadata"]["KeyId"])
        assert f"User: {ROOT} " in error_of(exc)[1]
    with mock_kms() as m:
        assert m.backend.principals == {}


def test_principal_needs_an_active_mock():
    m = mock_kms()
    with pytest.raises(RuntimeError, match="principal\\(\\) needs this mock_kms to be active"):
        m.principal("user/early")  # start() would wipe it
    with m:
        assert m.backend.principals == {}
    with pytest.raises(RuntimeError, match="needs this mock_kms to be active"):
        m.principal("user/late")


def test_a_handle_outliving_its_principal_says_so():
    with mock_kms() as m:
        user = m.principal("user/gone")
        role = m.principal("role/gone")
        session = role.assume("s1")
        m.reset()
        stale = "is no longer registered: principals live as long as the mock's state"
        for use in (lambda: user.credentials, user.client, lambda: role.credentials,
                    lambda: role.session_arn, lambda: role.assume("s2"),
                    lambda: session.credentials):
            with pytest.raises(RuntimeError, match=stale):
                use()
        assert m.backend.principals == {}  # nothing registered again behind the test's back
    with mock_kms():
        with pytest.raises(RuntimeError, match=f"{user.arn} {stale}"):
            user.client()


@mock_kms
class TestPrincipalsInATestCase(unittest.TestCase):
    """A principal registered in setUpClass is there, with the same credentials, in every test
    method (the class's snapshot holds principals too)."""

    @classmethod
    def setUpClass(cls):
        import mockkms._mock as m
        cls.creds = m._stack[-1].principal("user/tc", policies=[ALL_KMS]).credentials

    def test_one(self):
        boto3.client("kms", region_name=REGION, **self.creds).create_key()

    def test_two(self):
        kms = boto3.client("kms", region_name=REGION, **self.creds)
        self.assertEqual(kms.list_keys()["Keys"], [])  # test_one's key is gone


def test_authorization_off_lets_everyone_do_everything():
    with mock_kms(authorization=False) as m:
        assert "authorization=False" in repr(m)
        nobody = m.principal("user/nobody").client()
        key = nobody.create_key(Policy=nobody_policy())["KeyMetadata"]  # no lockout check
        nobody.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
        boto3.client("kms", region_name=REGION).disable_key(KeyId=key["KeyId"])
        # the documents are still checked
        with pytest.raises(ClientError) as exc:
            nobody.create_key(Policy=document(statement(principal=ROOT, resource=None)))
        assert error_of(exc)[0] == "MalformedPolicyDocumentException"
        with m.via_service("s3"):
            pass
        nobody.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")  # direct use of a managed key


@pytest.mark.parametrize("policy,error", [
    ("my policy", ("MalformedPolicyDocumentException", "")),
    (document(statement(principal=ROOT, action=None)), ("MalformedPolicyDocumentException", "")),
    (document(statement(principal=ROOT, resource=None)),
     ("MalformedPolicyDocumentException", "Policy contains a statement with no resource.")),
    (document(statement(principal=ROOT, resource=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*")),
     ("MalformedPolicyDocumentException",
      'Policy contains a statement with a Resource other than "*".')),
    (document(statement(principal=f"arn:aws:iam::{ACCOUNT}:role/app-*")),
     ("MalformedPolicyDocumentException",
      "Policy contains a statement with one or more invalid principals.")),
    (document(statement(principal=f"arn:aws:iam::{ACCOUNT}:group/admins")),
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
])
def test_authorization_off_still_checks_key_policy_documents(policy, error):
    """What README's "Migrating from moto" promises ``authorization=False`` does not undo."""
    with mock_kms(authorization=False):
        kms = boto3.client("kms", region_name=REGION)
        with pytest.raises(ClientError) as exc:
            kms.create_key(Policy=policy)
        assert error_of(exc) == error
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        with pytest.raises(ClientError) as exc:
            kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy)
        assert error_of(exc) == error


def test_only_authorization_off_lets_the_root_retire_another_accounts_grant():
    """README's "Migrating from moto": the root of the retiring principal's account cannot
    retire a grant on another account's key by its token; the retiring principal can."""
    retirer = f"arn:aws:iam::{ACCOUNT}:role/retirer"
    for authorization in (True, False):
        with mock_kms(authorization=authorization) as m:
            foreign = boto3.client("kms", region_name=REGION, aws_access_key_id=OTHER,
                                   aws_secret_access_key="x")
            key = foreign.create_key()["KeyMetadata"]["KeyId"]
            token = foreign.create_grant(KeyId=key, GranteePrincipal=retirer,
                                         Operations=["Decrypt"],
                                         RetiringPrincipal=retirer)["GrantToken"]
            root = boto3.client("kms", region_name=REGION)
            if authorization:
                with pytest.raises(ClientError) as exc:
                    root.retire_grant(GrantToken=token)
                assert error_of(exc)[0] == "AccessDeniedException"
                m.principal(retirer).client().retire_grant(GrantToken=token)
            else:
                root.retire_grant(GrantToken=token)
            assert foreign.list_grants(KeyId=key)["Grants"] == []


@pytest.mark.parametrize("value", ["false", "no", 0, 1, "True"])
def test_the_authorization_switch_takes_a_bool(value):
    with pytest.raises(TypeError, match=f"authorization must be True, False or None .*{value!r}"):
        mock_kms(authorization=value)
    from mockkms import _mock
    with pytest.raises(TypeError, match="authorization must be True, False or None"):
        _mock._set_defaults(authorization=value)
    assert mock_kms(authorization=None).authorization is True  # None: the default


@pytest.mark.mock_kms(authorization=False)
def test_marker_switches_authorization_off(kms_mock, kms_client):
    assert kms_mock.authorization is False
    kms_client.encrypt(KeyId="alias/aws/ebs", Plaintext=b"x")


def test_seed_files_register_principals():
    seed = {"Version": 1,
            "Keys": [{"KeyId": "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"}],
            "Principals": [
                {"Arn": "role/app", "Policies": [ALL_KMS], "Tags": {"tenant": "a"},
                 "AccessKeyId": "AKIAAPPROLEEXAMPLE1", "SecretAccessKey": "s"},
                {"Arn": f"arn:aws:iam::{OTHER}:user/partner"}]}
    with mock_kms(seed=seed) as m:
        assert m.authorization is True
        app = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIAAPPROLEEXAMPLE1",
                           aws_secret_access_key="s")
        assert app.list_keys()["Keys"][0]["KeyId"] == "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"
        assert f"arn:aws:iam::{OTHER}:user/partner" in m.backend.principals
    with mock_kms(seed={"Version": 1, "Authorization": False}) as m:
        assert m.authorization is False


def test_load_seed_into_an_active_mock_applies_its_authorization_switch():
    import mockkms
    with mock_kms() as m:
        kms = boto3.client("kms", region_name=REGION)
        mockkms.load_seed({"Version": 1, "Authorization": True})
        assert m.authorization is True
        with pytest.raises(ClientError):
            kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")  # a managed key, directly
        with pytest.raises(mockkms.SeedError):  # a seed that fails changes nothing
            mockkms.load_seed({"Version": 1, "Authorization": False, "Keys": "x"})
        assert m.authorization is True
        mockkms.load_seed({"Version": 1, "Authorization": False})
        assert m.authorization is False and "authorization=False" in repr(m)
        kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
    with mock_kms() as m:  # into another backend: the active mock keeps its own setting
        from mockkms._backend import Backend
        mockkms.load_seed({"Version": 1, "Authorization": False}, backend=Backend())
        assert m.authorization is True


@pytest.mark.parametrize("principals,problem", [
    ("x", "Principals must be a list"),
    ([1], "each principal must be an object"),
    ([{"Policies": []}], "Arn required"),
    ([{"Arn": "user/a", "Role": 1}], "unknown: Role"),
    ([{"Arn": "group/a"}], "not an IAM user, role or root"),
    ([{"Arn": "user/a"}, {"Arn": "user/a"}], "Arn arn:aws:iam::123456789012:user/a is also used"),
    ([{"Arn": "user/a", "AccessKeyId": "AKIAEXAMPLEEXAMPLE", "SecretAccessKey": "s"},
      {"Arn": "user/b", "AccessKeyId": "AKIAEXAMPLEEXAMPLE", "SecretAccessKey": "s"}],
     "AccessKeyId AKIAEXAMPLEEXAMPLE is also used"),
    ([{"Arn": "user/a", "AccessKeyId": "123456789012", "SecretAccessKey": "s"}],
     "AccessKeyId must be"),
    ([{"Arn": "user/a", "AccessKeyId": "AKIAEXAMPLEEXAMPLE"}], "needs its SecretAccessKey"),
])
def test_bad_seed_principals(principals, problem):
    import mockkms
    with mock_kms() as m:
        with pytest.raises(mockkms.SeedError, match=problem):
            mockkms.load_seed({"Version": 1, "Keys": [{}], "Principals": principals})
        assert m.backend.principals == {} and boto3.client(
            "kms", region_name=REGION).list_keys()["Keys"] == []  # all or nothing


def test_seed_principal_conflicting_with_a_registered_one():
    import mockkms
    with mock_kms() as m:
        m.principal("user/x")
        taken = m.backend.principals[f"arn:aws:iam::{ACCOUNT}:user/x"].access_key_id
        with pytest.raises(mockkms.SeedError, match="belongs to"):
            mockkms.load_seed({"Version": 1, "Principals": [
                {"Arn": "user/y", "AccessKeyId": taken, "SecretAccessKey": "s"}]})
        with pytest.raises(mockkms.SeedError, match="Authorization must be true or false"):
            mockkms.load_seed({"Version": 1, "Authorization": "no"})
