"""mockkms's own command line: ``mockkms --version``, ``mockkms serve --help`` (every option
with its default), the options reaching the server, and ``--verbose``'s request log."""
from __future__ import annotations

import argparse
import base64
import signal
import subprocess
import sys

import pytest

import mockkms
from mockkms import __main__ as cli_main
from mockkms.server import cli as server_cli
from mockkms.server import httpd
from serving import ENV, ROOT, Server


def serve_parser() -> argparse.ArgumentParser:
    sub = next(a for a in cli_main.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["serve"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"mockkms {mockkms.__version__}\n"
    out = subprocess.run([sys.executable, "-m", "mockkms", "--version"], env=ENV, cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert (out.returncode, out.stdout) == (0, f"mockkms {mockkms.__version__}\n")


def test_serve_help_explains_every_option_with_its_default(capsys):
    parser = serve_parser()
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert {a.option_strings[0] for a in options} == {
        "--host", "--port", "--region", "--state-dir", "--seed", "--request-timeout",
        "--idle-timeout", "--threads", "--workers", "--max-connections", "--call-log-size",
        "--allow-host", "--verbose", "--no-authorization"}
    for action in options:
        assert action.help and "(default: " in action.help, action.option_strings
    with pytest.raises(SystemExit):
        cli_main.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, value in httpd.DEFAULTS.items():
        option = "--" + name.replace("_", "-")
        assert option in text
        assert parser.get_default(name) == value
    for shown in ("(default: 127.0.0.1,", "(default: 4599;", "(default: us-east-1)",
                  "(default: 10.0)",
                  "(default: 60.0)", "(default: 32)", "(default: 512)", "(default: 1000;",
                  "whole-request deadline", "idle connections hold none"):
        assert shown in text, shown


@pytest.mark.parametrize("args, message", [
    (["--threads", "0"], "argument --threads: must be positive, not 0"),
    (["--workers", "0"], "argument --workers: must be positive, not 0"),
    (["--request-timeout", "-1"], "argument --request-timeout: must be positive, not -1"),
    (["--idle-timeout", "nan"], "argument --idle-timeout: must be positive, not nan"),
    (["--max-connections", "x"], "argument --max-connections: invalid int value: 'x'"),
    (["--call-log-size", "-1"], "argument --call-log-size: must not be negative, not -1"),
    (["--region", "mars"], "argument --region: 'mars' is not an AWS Region (botocore's "
                           "partition data does not list it); give one like us-east-1"),
    (["--region", "us-east-9"], "argument --region: 'us-east-9' is not an AWS Region"),
])
def test_bad_option_values_are_refused(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["serve", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_options_reach_the_server(monkeypatch):
    seen = {}

    def run(server, state):
        seen["server"] = server
        server.server_close()
        return 0
    monkeypatch.setattr(server_cli, "_run", run)
    assert cli_main.main(["serve", "--port", "0", "--region", "eu-north-1", "--request-timeout",
                          "2.5",
                          "--idle-timeout", "7", "--threads", "3", "--max-connections", "9",
                          "--call-log-size", "5", "--allow-host", "kms.test",
                          "--allow-host", "Other.Test."]) == 0
    server = seen["server"]
    assert (server.request_timeout, server.idle_timeout, server.threads,
            server.max_connections) == (2.5, 7.0, 3, 9)
    assert server.app.backend.calls.maxlen == 5
    assert server.app.region == "eu-north-1"
    assert {"kms.test", "other.test"} <= server.app.allowed_hosts
    assert cli_main.main(["serve", "--port", "0"]) == 0
    defaults = seen["server"]
    assert (defaults.request_timeout, defaults.idle_timeout, defaults.threads,
            defaults.max_connections) == (10.0, 60.0, 32, 512)
    assert defaults.app.backend.calls.maxlen == 1000
    assert defaults.app.region == "us-east-1"


def test_a_made_up_region_is_refused_at_startup(monkeypatch, capsys):
    # the command line refuses it before anything starts; serve_forever itself as well
    out = subprocess.run([sys.executable, "-m", "mockkms", "serve", "--region", "mars",
                          "--port", "0"], env=ENV, cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines()[-1] == (
        "mockkms serve: error: argument --region: 'mars' is not an AWS Region (botocore's "
        "partition data does not list it); give one like us-east-1")
    monkeypatch.setattr(server_cli, "make_server", lambda *a, **k: pytest.fail("listened"))
    assert server_cli.serve_forever(port=0, region="us-east-9") == 2
    assert capsys.readouterr().err == (
        "mockkms: --region: region must be an AWS Region that botocore knows, like "
        "'us-east-1'; got 'us-east-9'\n")


@pytest.mark.slow
def test_verbose_logs_one_line_per_request_and_never_a_plaintext():
    server = Server("--verbose")
    try:
        kms = server.client(region="eu-north-1", aws_access_key_id="111122223333",
                            aws_secret_access_key="x")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        secret = b"never-in-the-log-" + bytes(range(256))
        blob = kms.encrypt(KeyId=key, Plaintext=secret)["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == secret
        data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=blob[:-1] + bytes([blob[-1] ^ 1]))
    finally:
        code, out, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("mockkms: ")]
    assert [line.split(" ")[1:5] for line in lines] == [
        ["CreateKey", "111122223333/eu-north-1", "200", "OK"],
        ["Encrypt", "111122223333/eu-north-1", "200", "OK"],
        ["Decrypt", "111122223333/eu-north-1", "200", "OK"],
        ["GenerateDataKey", "111122223333/eu-north-1", "200", "OK"],
        ["Decrypt", "111122223333/eu-north-1", "400", "InvalidCiphertextException"]]
    for line in lines:
        number, unit = line.split(" ")[5:]
        assert unit == "ms" and float(number) >= 0
    for leaked in (secret, base64.b64encode(secret), base64.b64encode(blob),
                   base64.b64encode(data_key["Plaintext"])):
        assert leaked.decode("latin-1") not in err
