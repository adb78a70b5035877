"""Principals in server mode: the admin endpoints that register them and return their
credentials, seed files with principals, ``serve --no-authorization``, principals kept in the
state directory — and the AWS CLI calling as a principal."""
from __future__ import annotations

import base64
import json
import shutil
import signal
import subprocess

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import denied, document, error_of, statement
from mockkms.server import make_app
from serving import ENV, JSON, call, wsgi_client

A = "123456789012"
ROOT = f"arn:aws:iam::{A}:root"
APP_ROLE = f"arn:aws:iam::{A}:role/app"


def register(app, path="principals", **spec):
    body = json.dumps(spec).encode()
    return call(app, path=f"/_mockkms/{path}", body=body, headers=JSON)


def credentials_of(answer: dict) -> dict:
    creds = answer["Credentials"]
    out = {"aws_access_key_id": creds["AccessKeyId"],
           "aws_secret_access_key": creds["SecretAccessKey"]}
    if "SessionToken" in creds:
        out["aws_session_token"] = creds["SessionToken"]
    return out


def test_admin_endpoint_registers_principals():
    app = make_app()
    status, _, user = register(app, Arn=f"arn:aws:iam::{A}:user/alice",
                               Policies=[document(statement(action="kms:CreateKey"))])
    assert status == 200 and user["Arn"] == user["CallerArn"] == f"arn:aws:iam::{A}:user/alice"
    assert set(user["Credentials"]) == {"AccessKeyId", "SecretAccessKey"}
    alice = wsgi_client(app, **credentials_of(user))
    key = alice.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        alice.list_keys()
    assert error_of(exc) == denied(user["Arn"], "kms:ListKeys", "*", "identity")
    root = wsgi_client(app)  # other credentials: the account's root
    root.describe_key(KeyId=key["KeyId"])

    status, _, role = register(app, Arn=APP_ROLE, Tags={"tenant": "a"})
    assert role["CallerArn"] == f"arn:aws:sts::{A}:assumed-role/app/mockkms"
    assert "SessionToken" in role["Credentials"]
    status, _, session = register(app, "assume-role", RoleArn=APP_ROLE,
                                  RoleSessionName="worker-1", Tags={"tenant": "b"})
    assert status == 200 and session["Arn"] == f"arn:aws:sts::{A}:assumed-role/app/worker-1"
    worker = wsgi_client(app, **credentials_of(session))
    with pytest.raises(ClientError) as exc:
        worker.describe_key(KeyId=key["KeyId"])
    assert error_of(exc) == denied(session["Arn"], "kms:DescribeKey", key["Arn"], "identity")

    # fixed credentials, then an update that keeps them
    status, _, fixed = register(app, Arn=f"arn:aws:iam::{A}:user/ci",
                                AccessKeyId="AKIACIUSEREXAMPLE01", SecretAccessKey="s")
    assert fixed["Credentials"] == {"AccessKeyId": "AKIACIUSEREXAMPLE01",
                                    "SecretAccessKey": "s"}
    status, _, again = register(app, Arn=f"arn:aws:iam::{A}:user/ci",
                                Policies=[document(statement(action="kms:ListKeys"))])
    assert again["Credentials"] == fixed["Credentials"]
    ci = wsgi_client(app, aws_access_key_id="AKIACIUSEREXAMPLE01", aws_secret_access_key="s")
    assert {k["KeyId"] for k in ci.list_keys()["Keys"]} == {key["KeyId"]}


def test_admin_endpoints_take_short_arns_of_the_servers_account():
    app = make_app(account_id="444455556666", region="cn-north-1")
    status, _, user = register(app, Arn="user/u1")
    assert (status, user["Arn"]) == (200, "arn:aws-cn:iam::444455556666:user/u1")
    status, _, role = register(app, Arn="role/ops/app2", Tags={"tenant": "a"})
    assert (status, role["Arn"]) == (200, "arn:aws-cn:iam::444455556666:role/ops/app2")
    status, _, session = register(app, "assume-role", RoleArn="role/ops/app2",
                                  RoleSessionName="job-1")
    assert (status, session["Arn"]) == (
        200, "arn:aws-cn:sts::444455556666:assumed-role/app2/job-1")
    status, _, out = register(app, "assume-role", RoleArn="role/none", RoleSessionName="job-1")
    assert (status, out["message"]) == (
        400, "assume: arn:aws-cn:iam::444455556666:role/none is not a registered role")


def test_admin_endpoint_refuses_a_second_role_of_the_same_name():
    app = make_app()
    assert register(app, Arn="role/team/app")[0] == 200
    status, _, out = register(app, Arn="role/app")
    assert (status, out["__type"]) == (400, "ValidationException")
    assert "already has a role named app" in out["message"]


@pytest.mark.parametrize("path,body,status,code,message", [
    ("principals", b"{", 400, "SerializationException", "Malformed JSON in request body."),
    ("principals", b"[]", 400, "ValidationException", "Expected a JSON object."),
    ("principals", b"{}", 400, "ValidationException", "Arn is required."),
    ("principals", b'{"Arn": "x", "Nope": 1}', 400, "ValidationException",
     "Unknown member(s) Nope; expected AccessKeyId, Arn, Policies, SecretAccessKey, Tags."),
    ("principals", b'{"Arn": "arn:aws:iam::123456789012:group/g"}', 400, "ValidationException",
     None),
    ("principals", b'{"Arn": "user/a", "Policies": "x"}', 400, "ValidationException",
     "principal: policies must be a list of policies"),
    pytest.param("principals", json.dumps({"Arn": "user/a", "Tags": {"k" * 10000: "v"}}).encode(),
                 400, "ValidationException", "principal: tag keys are 1 to 128 characters and "
                 "values at most 256, as in IAM; tag 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk' "
                 "has a key of 10000 and a value of 1 characters", id="principals-huge-tag-key"),
    pytest.param("principals", '{"Arn": "arn:aws:iam::123456789012:user/\u00e9"}'.encode(), 400,
                 "ValidationException", None, id="principals-non-ascii-name"),
    ("assume-role", b'{"RoleArn": "arn:aws:iam::123456789012:role/none", '
                    b'"RoleSessionName": "s1"}', 400, "ValidationException",
     "assume: arn:aws:iam::123456789012:role/none is not a registered role"),
])
def test_admin_endpoint_errors(path, body, status, code, message):
    app = make_app()
    got, _, out = call(app, path=f"/_mockkms/{path}", body=body, headers=JSON)
    assert (got, out["__type"]) == (status, code)
    if message is not None:
        assert out["message"] == message
    assert app.backend.principals == {}


def test_admin_endpoint_is_local_and_json_only():
    app = make_app()
    body = json.dumps({"Arn": APP_ROLE}).encode()
    status, _, out = call(app, path="/_mockkms/principals", body=body,
                          headers={**JSON, "Host": "evil.example"})
    assert (status, out["__type"]) == (403, "AccessDeniedException")
    status, _, out = call(app, path="/_mockkms/principals", body=body,
                          headers={"Content-Type": "text/plain"})
    assert status == 415
    assert app.backend.principals == {}


def test_app_without_authorization():
    app = make_app(authorization=False)
    _, _, user = register(app, Arn=f"arn:aws:iam::{A}:user/anyone")
    client = wsgi_client(app, **credentials_of(user))
    client.encrypt(KeyId=client.create_key()["KeyMetadata"]["KeyId"], Plaintext=b"x")


def test_app_authorization_takes_a_bool():
    with pytest.raises(TypeError, match="make_app: authorization must be True, False or None"):
        make_app(authorization="false")
    assert make_app(authorization=None).authorization is True


def via(client, service):
    """Make ``client``'s requests carry ``X-Mockkms-Via-Service: <service>`` (as the docs show)."""
    def add_header(request, **kwargs):
        request.headers["X-Mockkms-Via-Service"] = service
    client.meta.events.register("before-sign.kms", add_header)
    return client


def test_a_header_makes_server_requests_arrive_through_a_service():
    app = make_app()
    direct, through_s3 = wsgi_client(app), via(wsgi_client(app), "s3")
    blob = through_s3.encrypt(KeyId="alias/aws/s3", Plaintext=b"object")["CiphertextBlob"]
    assert through_s3.decrypt(CiphertextBlob=blob)["Plaintext"] == b"object"
    arn = through_s3.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:  # the next request, without the header, is direct
        direct.decrypt(CiphertextBlob=blob)
    assert error_of(exc) == denied(ROOT, "kms:Decrypt", arn, "resource")
    with pytest.raises(ClientError) as exc:  # another service: the managed key refuses it too
        via(wsgi_client(app), "sqs").encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
    assert error_of(exc) == denied(ROOT, "kms:Encrypt", arn, "resource")
    # kms:ViaService is <service>.<the request's region>.amazonaws.com, as in process
    policy = document(
        statement(sid="admin", principal=ROOT),
        statement(sid="only through S3", effect="Deny", principal="*", action="kms:Decrypt",
                  condition={"StringNotEquals": {
                      "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}))
    west, west_s3 = wsgi_client(app, "eu-west-1"), via(wsgi_client(app, "eu-west-1"), "s3")
    key = west.create_key(Policy=policy)["KeyMetadata"]
    blob = west.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert west_s3.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    with pytest.raises(ClientError) as exc:
        west.decrypt(CiphertextBlob=blob)
    assert error_of(exc) == denied(ROOT, "kms:Decrypt", key["Arn"], "deny-resource")


@pytest.mark.parametrize("service", ["S3", "", "s3 ", "-s3", "s" * 64, "s3/x"])
def test_a_bad_via_service_header_is_refused(service):
    app = make_app()
    status, _, out = call(app, body=b"{}", headers={
        "X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1",
        "X-Mockkms-Via-Service": service})
    assert (status, out) == (400, {
        "__type": "ValidationException",
        "message": f"X-Mockkms-Via-Service: {service!r} is not an AWS service name like 's3'"})
    assert len(app.backend.calls) == 0


def test_the_via_service_header_means_nothing_in_process():
    from mockkms import mock_kms
    with mock_kms():
        kms = via(boto3.client("kms", region_name="us-east-1"), "s3")
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
        assert error_of(exc)[0] == "AccessDeniedException"


def test_the_via_service_header_through_a_running_server():
    import threading

    from mockkms.server import make_server
    server = make_server(make_app(), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def client():
            return boto3.client("kms", endpoint_url=server.url, region_name="us-east-1",
                                aws_access_key_id="fake", aws_secret_access_key="fake")
        through_s3 = via(client(), "s3")
        blob = through_s3.encrypt(KeyId="alias/aws/s3", Plaintext=b"o")["CiphertextBlob"]
        assert through_s3.decrypt(CiphertextBlob=blob)["Plaintext"] == b"o"
        with pytest.raises(ClientError) as exc:
            client().decrypt(CiphertextBlob=blob)
        assert error_of(exc)[0] == "AccessDeniedException"
    finally:
        server.shutdown()
        server.server_close()


def test_make_app_and_its_authorization_switch_are_documented():
    """docs/server.md's make_app() paragraph names every option of the application, and
    authorization.md's "Switching it off" names every function that takes the switch."""
    import inspect
    from pathlib import Path

    from mockkms import mock_kms
    from mockkms.server.app import KmsApp
    docs = Path(__file__).resolve().parent.parent / "docs"
    server = (docs / "server.md").read_text(encoding="utf-8")
    paragraph = server[server.index("`make_app()` builds"):].split("\n\n")[0]
    options = set(inspect.signature(KmsApp).parameters) - {"backend", "state"}
    described = {"account_id": "default account", "region": "region"}
    for option in sorted(options | {"state_dir"}):
        assert described.get(option, f"`{option}`") in paragraph, option
    assert "make_app(authorization=False)" in paragraph
    authorization = (docs / "authorization.md").read_text(encoding="utf-8")
    section = authorization[authorization.index("## Switching it off"):].split("\n## ")[0]
    for name, function in (("mock_kms", mock_kms), ("make_app", KmsApp)):
        assert "authorization" in inspect.signature(function).parameters
        assert f"`{name}(authorization=False)`" in section, name
    for switch in ("@pytest.mark.mock_kms(authorization=False)", "--mockkms-no-authorization",
                   "serve --no-authorization", '"Authorization": false'):
        assert switch in section, switch


TENANT_POLICY = document(
    statement(sid="admin", principal=ROOT),
    statement(sid="app", principal=APP_ROLE, action=["kms:Encrypt", "kms:Decrypt"],
              condition={"StringEquals": {
                  "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}"}}))
KEY_ID = "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"


@pytest.mark.slow
def test_the_aws_cli_as_a_principal(start, tmp_path):
    """A seed with a key and the app role (fixed credentials, tenant tag); the AWS CLI signs
    with them: it decrypts its tenant's data and is refused another tenant's."""
    aws = shutil.which("aws")
    assert aws, "the AWS CLI (awscli) is a test dependency"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "Version": 1,
        "Keys": [{"KeyId": KEY_ID, "Policy": json.loads(TENANT_POLICY)}],
        "Principals": [{"Arn": "role/app", "Tags": {"tenant": "a"},
                        "AccessKeyId": "AKIAAPPROLEEXAMPLE1", "SecretAccessKey": "app-secret"}]}))
    state = tmp_path / "state"
    server = start("--seed", str(seed), "--state-dir", str(state))
    admin = server.client()
    blobs = {t: admin.encrypt(KeyId=KEY_ID, Plaintext=f"data of {t}".encode(),
                              EncryptionContext={"tenant": t})["CiphertextBlob"]
             for t in ("a", "b")}
    for tenant, blob in blobs.items():
        (tmp_path / f"{tenant}.bin").write_bytes(blob)
    env = dict(ENV, AWS_ACCESS_KEY_ID="AKIAAPPROLEEXAMPLE1", AWS_SECRET_ACCESS_KEY="app-secret")

    def cli(tenant):
        return subprocess.Popen(
            [aws, "--endpoint-url", server.url, "--region", "us-east-1", "--output", "json",
             "kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / f'{tenant}.bin'}",
             "--encryption-context", f"tenant={tenant}"],
            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    mine, theirs = cli("a"), cli("b")  # both at once: the CLI is slow to start
    out, err = mine.communicate(timeout=60)
    assert mine.returncode == 0, err
    assert base64.b64decode(json.loads(out)["Plaintext"]) == b"data of a"
    out, err = theirs.communicate(timeout=60)
    assert theirs.returncode in (254, 255)  # awscli v2 and v1
    arn = f"arn:aws:kms:us-east-1:{A}:key/{KEY_ID}"
    assert ("An error occurred (AccessDeniedException) when calling the Decrypt operation: "
            f"User: arn:aws:sts::{A}:assumed-role/app/mockkms is not authorized to perform: "
            f"kms:Decrypt on resource: {arn} because no identity-based policy allows the "
            "kms:Decrypt action") in err
    code, _, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    # the state directory keeps the principal: its credentials work after a restart
    again = start("--state-dir", str(state))
    app = again.client(aws_access_key_id="AKIAAPPROLEEXAMPLE1",
                       aws_secret_access_key="app-secret")
    assert app.decrypt(CiphertextBlob=blobs["a"], EncryptionContext={"tenant": "a"})[
        "Plaintext"] == b"data of a"
    with pytest.raises(ClientError):
        app.decrypt(CiphertextBlob=blobs["b"], EncryptionContext={"tenant": "b"})


@pytest.mark.slow
def test_serve_without_authorization(start, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"Version": 1, "Authorization": False}))
    for args in (("--no-authorization",), ("--seed", str(seed))):
        server = start(*args)
        kms = server.client()
        kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")  # direct use of a managed key
        server.kill()
