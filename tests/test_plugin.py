"""The pytest plugin: fixtures, the ``mock_kms`` marker, the options, ``--fixtures`` docs, and a
light import. Each scenario runs in an inner pytest session (``pytester``)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import mockkms
from mockkms import _mock

pytest_plugins = ["pytester"]


def run(pytester, source: str, *args: str, passed: int, errors: int = 0):
    pytester.makepyfile(source)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=passed, errors=errors)
    return result


def test_fixtures(pytester):
    run(pytester, """
        import boto3
        import mockkms

        def test_kms_mock_is_active_and_fresh(kms_mock):
            assert isinstance(kms_mock, mockkms.MockKms) and kms_mock.active
            kms = boto3.client("kms", region_name="us-east-1")
            assert kms.list_keys()["Keys"] == []
            kms.create_key()

        def test_fresh_again(kms_mock, kms_client):
            assert kms_client.list_keys()["Keys"] == []
            assert kms_client.meta.region_name == kms_mock.region == "us-east-1"

        def test_kms_key_factory(kms_key, kms_client):
            md = kms_key()
            assert (md["KeySpec"], md["KeyUsage"], md["KeyState"]) == (
                "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Enabled")
            hmac = kms_key(KeySpec="HMAC_256")  # the spec's only usage is filled in
            assert hmac["KeyUsage"] == "GENERATE_VERIFY_MAC"
            rsa = kms_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", Description="signer",
                          Tags=[{"TagKey": "t", "TagValue": "v"}])
            assert (rsa["KeyUsage"], rsa["Description"]) == ("SIGN_VERIFY", "signer")
            assert len(kms_client.list_keys()["Keys"]) == 3

        def test_kms_key_errors_are_aws_errors(kms_key, kms_client):
            with pytest.raises(kms_client.exceptions.ClientError) as exc:
                kms_key(KeySpec="RSA_2048")  # two usages possible: AWS's rule applies
            assert exc.value.response["Error"]["Code"] == "ValidationException"

        import pytest
        """, passed=4)
    assert not _mock._stack


def test_marker_on_function_class_and_module(pytester):
    pytester.makeconftest("""
        import boto3, pytest

        @pytest.fixture
        def made_in_fixture():
            # fixtures of a marked test run inside its mock
            return boto3.client("kms").create_key()["KeyMetadata"]
        """)
    run(pytester, """
        import os, unittest
        import boto3, pytest

        pytestmark = pytest.mark.mock_kms(region="eu-west-1")

        def test_module_marker(made_in_fixture):
            assert made_in_fixture["Arn"].startswith("arn:aws:kms:eu-west-1:123456789012:")
            assert len(boto3.client("kms").list_keys()["Keys"]) == 1

        @pytest.mark.mock_kms(account_id="111122223333", region="ap-south-1")
        def test_closest_marker_wins(made_in_fixture, kms_mock, kms_client):
            assert (kms_mock.account_id, kms_mock.region) == ("111122223333", "ap-south-1")
            assert made_in_fixture["AWSAccountId"] == "111122223333"
            assert kms_client.list_keys()["Keys"][0]["KeyId"] == made_in_fixture["KeyId"]

        @pytest.mark.mock_kms(region="us-west-1")
        class TestClass:
            def test_one(self, made_in_fixture):
                assert ":us-west-1:" in made_in_fixture["Arn"]

            def test_two(self):
                assert boto3.client("kms").list_keys()["Keys"] == []

        @pytest.mark.mock_kms(region="ca-central-1")
        class TestUnittestStyle(unittest.TestCase):
            def setUp(self):
                self.kms = boto3.client("kms")
                self.key = self.kms.create_key()["KeyMetadata"]["KeyId"]

            def test_setup_ran_inside(self):
                self.assertEqual(self.kms.meta.region_name, "ca-central-1")
                self.assertEqual(len(self.kms.list_keys()["Keys"]), 1)

            def test_fresh(self):
                self.assertEqual(len(self.kms.list_keys()["Keys"]), 1)

        def test_no_leak_after_marked_tests():
            pass
        """, passed=7)
    assert not _mock._stack


def test_unittest_classes_use_fixtures_through_autouse(pytester):
    run(pytester, """
        import unittest
        import pytest

        class TestKms(unittest.TestCase):
            @pytest.fixture(autouse=True)
            def _kms(self, kms_mock, kms_client, kms_key):
                self.mock, self.kms, self.key = kms_mock, kms_client, kms_key()

            def test_one(self):
                self.assertEqual(self.kms.list_keys()["Keys"][0]["KeyId"], self.key["KeyId"])
                self.kms.create_key()
                self.assertEqual(self.mock.calls.operations, ["CreateKey", "ListKeys", "CreateKey"])

            def test_two(self):
                self.assertEqual(len(self.kms.list_keys()["Keys"]), 1)
        """, passed=2)


def test_marker_with_seed(pytester):
    pytester.makefile(".json", keys='{"Version": 1, "Keys": [{"Aliases": ["alias/seeded"]}]}')
    pytester.makepyfile("""
        import boto3, pytest

        @pytest.mark.mock_kms(seed="keys.json")
        def test_seeded(kms_client):
            assert kms_client.describe_key(KeyId="alias/seeded")["KeyMetadata"]["Enabled"]

        @pytest.mark.mock_kms(seed="missing.json")
        def test_bad_seed_errors_in_setup():
            pass
        """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*SeedError: missing.json: cannot read the seed file*"])
    assert not _mock._stack


def test_marker_is_registered_and_strict(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mock_kms("eu-west-1")
        def test_positional():
            pass
        """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.stdout.fnmatch_lines(["*the mock_kms marker takes keyword arguments only*"])
    markers = pytester.runpytest("-p", "no:cacheprovider", "--markers")
    markers.stdout.fnmatch_lines(
        ["@pytest.mark.mock_kms(account_id=None, region=None, seed=None, authorization=None):*"])


def test_a_marker_with_a_bad_argument_is_a_usage_error(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mock_kms(authorization="no")
        def test_not_a_bool():
            pass

        @pytest.mark.mock_kms(regoin="eu-west-1")
        def test_misspelt():
            pass
        """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        "*test_not_a_bool: the mock_kms marker: mock_kms: authorization must be True, False or "
        "None (the default), not 'no'*",
        "*test_misspelt: the mock_kms marker: *unexpected keyword argument 'regoin'*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert not _mock._stack


def test_options_set_the_defaults(pytester):
    run(pytester, """
        import boto3, pytest
        from mockkms import mock_kms

        def test_fixture(kms_mock, kms_client):
            assert (kms_mock.account_id, kms_mock.region) == ("999988887777", "eu-north-1")
            assert kms_client.create_key()["KeyMetadata"]["Arn"].startswith(
                "arn:aws:kms:eu-north-1:999988887777:key/")

        @pytest.mark.mock_kms
        def test_marker():
            assert boto3.client("kms").meta.region_name == "eu-north-1"

        @pytest.mark.mock_kms(region="us-east-2")
        def test_marker_overrides(kms_mock):
            assert (kms_mock.account_id, kms_mock.region) == ("999988887777", "us-east-2")

        def test_plain_mock_kms():
            assert (mock_kms().account_id, mock_kms().region) == ("999988887777", "eu-north-1")
        """, "--mockkms-region", "eu-north-1", "--mockkms-account=999988887777", passed=4)
    # the inner session's defaults do not outlive it
    assert (_mock.mock_kms().account_id, _mock.mock_kms().region) == (
        mockkms.DEFAULT_ACCOUNT, mockkms.DEFAULT_REGION)


def test_bad_option_is_a_usage_error(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockkms-account", "12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*account_id must be 12 digits, got '12'*"])


def test_fixtures_are_documented(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--fixtures")
    for lines in (  # pytest lists them in an order of its own (by "path:line" text)
        ["kms_mock -- *plugin.py:*",
         "    An active in-memory KMS whose state is empty when the test starts, even inside an "
         "outer",
         "    mock (its state is set aside and given back after the test); yields the MockKms."],
        ["kms_client -- *plugin.py:*",
         "    A boto3 KMS client in ``kms_mock``'s region, talking to its (fresh) state."],
        ["kms_key -- *plugin.py:*",
         "    Factory kms_key(KeySpec=..., KeyUsage=..., **create_key_args) -> the new key's",
         "    KeyMetadata; the key is made through ``kms_client``, in ``kms_mock``'s (fresh) "
         "state."]):
        result.stdout.fnmatch_lines(lines)


def test_decorated_classes_under_pytest(pytester):
    """``@mock_kms`` on classes collected by pytest (the plugin's hooks are not involved)."""
    run(pytester, """
        import unittest
        import boto3
        from mockkms import mock_kms

        @mock_kms
        class TestPlain:
            def setup_method(self):  # without the ``method`` argument: pytest allows it
                self.kms = boto3.client("kms", region_name="us-east-1")
                self.kms.create_key()

            def test_a(self):
                assert len(self.kms.list_keys()["Keys"]) == 1
                self.kms.create_key()

            def test_b(self):
                assert len(self.kms.list_keys()["Keys"]) == 1

        @mock_kms
        class Case(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                cls.kms = boto3.client("kms", region_name="us-east-1")
                cls.kms.create_key()

            def test_a(self):
                self.assertEqual(len(self.kms.list_keys()["Keys"]), 1)
                self.kms.create_key()

            def test_b(self):
                self.assertEqual(len(self.kms.list_keys()["Keys"]), 1)
                self.kms.create_key()
        """, passed=4)


def test_plugin_import_is_light():
    code = ("import sys, botocore.handlers as h, conftest_plugin.plugin\n"
            "from mockkms import _transport\n"
            "heavy = [m for m in ('cryptography', 'boto3', 'requests', 'responses', 'yaml',\n"
            "         'mockkms.operations', 'mockkms._seed', 'mockkms._crypto')\n"
            "         if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert ('before-send.kms', _transport._before_send) in h.BUILTIN_HANDLERS\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_works_under_pytest_xdist(pytester):
    """State is per worker process: each test still starts empty and sees only its own keys."""
    tests = "\n".join(f"""
def test_{i}(kms_client):
    assert kms_client.list_keys()["Keys"] == []
    key_id = kms_client.create_key()["KeyMetadata"]["KeyId"]
    assert [k["KeyId"] for k in kms_client.list_keys()["Keys"]] == [key_id]
""" for i in range(6))
    run(pytester, tests, "-n", "2", passed=6)


def test_marker_refuses_a_testcase_with_setupclass(pytester):
    """setUpClass runs before any test's mock: under the marker it would call the real KMS.
    The run stops with a usage error that says to decorate the class instead; a TestCase
    without class fixtures takes the marker, and @mock_kms on the class covers setUpClass."""
    pytester.makepyfile(test_marked="""
        import unittest
        import boto3, pytest

        @pytest.mark.mock_kms
        class TestKeys(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                cls.key = boto3.client("kms", region_name="us-east-1").create_key()

            def test_it(self):
                pass
        """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mock_kms on unittest.TestCase class(es) TestKeys with "
                                 "setUpClass/tearDownClass*decorate the class with "
                                 "@mockkms.mock_kms instead*"])
    (pytester.path / "test_marked.py").unlink()
    run(pytester, """
        import unittest
        import boto3, pytest
        from mockkms import mock_kms

        @pytest.mark.mock_kms
        class TestPlain(unittest.TestCase):
            def test_it(self):
                assert boto3.client("kms", region_name="us-east-1").list_keys()["Keys"] == []

        @mock_kms
        class TestDecorated(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                boto3.client("kms", region_name="us-east-1").create_key()

            def test_it(self):
                assert len(boto3.client("kms", region_name="us-east-1").list_keys()["Keys"]) == 1
        """, passed=2)


def test_kms_client_is_reused_while_unchanged(pytester):
    """One client per (account, region, environment), handed out again while no test changed
    it; every test still starts from empty state. A changed client is not handed out again."""
    run(pytester, """
        import boto3, pytest
        from botocore.config import Config
        from botocore.stub import Stubber

        seen = []

        def use(client):
            seen.append(id(client))
            assert client.list_keys()["Keys"] == []  # fresh state, whatever client
            client.create_key()

        def test_a(kms_client):
            use(kms_client)

        def test_b_same_client(kms_client):
            use(kms_client)
            assert seen[-1] == seen[-2]

        def test_c_stubbed(kms_client):
            use(kms_client)
            assert seen[-1] == seen[-2]
            Stubber(kms_client).activate()  # registers handlers, left active

        def test_d_new_client_not_stubbed(kms_client):
            use(kms_client)
            assert seen[-1] != seen[-2]
            kms_client.list_keys = lambda **kw: {"Keys": ["patched"]}

        def test_e_new_client(kms_client):
            use(kms_client)
            assert seen[-1] != seen[-2]
            kms_client.meta.config.read_timeout = 1

        def test_f_new_client(kms_client):
            use(kms_client)
            assert seen[-1] != seen[-2]

        @pytest.mark.mock_kms(region="eu-west-1")
        def test_g_other_region(kms_client):
            assert kms_client.meta.region_name == "eu-west-1"
            use(kms_client)
            assert seen[-1] != seen[-2]

        def test_h_first_region_again(kms_client):
            use(kms_client)
            assert seen[-1] == seen[-3]
            boto3.DEFAULT_SESSION.events.register("before-call.kms", lambda **kw: None,
                                                  unique_id="test-plugin-noop")

        def test_i_after_a_session_handler(kms_client):
            boto3.DEFAULT_SESSION.events.unregister("before-call.kms", unique_id="test-plugin-noop")
            use(kms_client)
            assert seen[-1] != seen[-2]
        """, "-p", "no:randomly", passed=9)


# --- fresh state inside an outer mock ------------------------------------------------------------

OUTER_MOCK = '''
    import boto3, pytest
    from mockkms import mock_kms


    @pytest.fixture(scope="{scope}", autouse=True)
    def outer():
        """The moto-era pattern: one mock for the whole {scope}, holding state of its own."""
        with mock_kms() as m:
            kms = boto3.client("kms", region_name="us-east-1")
            m.kept = kms.create_key(Description="outer")["KeyMetadata"]["KeyId"]
            m.doomed = kms.create_key(
                Description="outer, deleted in 7 days")["KeyMetadata"]["KeyId"]
            kms.schedule_key_deletion(KeyId=m.doomed, PendingWindowInDays=7)
            m.advance(days=3)
            yield m
'''

FRESH_TESTS = '''
    import time
    import boto3, pytest


    def kms():
        return boto3.client("kms", region_name="us-east-1")


    def key_ids():
        return [k["KeyId"] for k in kms().list_keys()["Keys"]]


    def days_ahead():
        """How far the mock's clock is ahead of real time, in days (from a new key's date)."""
        created = kms().create_key()["KeyMetadata"]["CreationDate"]
        return (created.timestamp() - time.time()) / 86400


    def test_unmarked_test_without_fixtures_shares_the_outer_mock(outer):
        assert sorted(key_ids()) == sorted([outer.kept, outer.doomed])


    def test_kms_mock(kms_mock, outer):
        assert kms_mock is not outer and kms_mock.active and outer.active
        assert key_ids() == [] and kms_mock.calls.operations == ["ListKeys"]
        assert round(days_ahead()) == 0  # the clock starts at real time
        kms_mock.advance(days=30)        # the outer key's deletion is not this test's event


    def test_kms_mock_again(kms_mock):
        assert key_ids() == []
        kms().create_key()


    def test_kms_client(kms_client):
        assert kms_client.list_keys()["Keys"] == []
        kms_client.create_key()


    def test_kms_key(kms_key, kms_client):
        key = kms_key()
        assert [k["KeyId"] for k in kms_client.list_keys()["Keys"]] == [key["KeyId"]]


    @pytest.mark.mock_kms
    def test_marker(kms_mock):
        assert key_ids() == [] and kms_mock.calls.operations == ["ListKeys"]
        kms().create_key()


    @pytest.mark.mock_kms(region="eu-west-1")
    def test_marker_with_a_region():
        assert boto3.client("kms").meta.region_name == "eu-west-1"
        assert key_ids() == []
'''

OUTER_STATE_IS_BACK = '''
    import time
    import boto3, pytest


    def test_outer_state_is_back(outer):
        """Keys, call log, scheduled events and clock of the outer mock, as they were."""
        kms = boto3.client("kms", region_name="us-east-1")
        assert sorted(k["KeyId"] for k in kms.list_keys()["Keys"]) == sorted(
            [outer.kept, outer.doomed])
        created = kms.create_key()["KeyMetadata"]["CreationDate"]
        assert 2.9 < (created.timestamp() - time.time()) / 86400 < 3.1
        assert outer.calls.operations == [
            "CreateKey", "CreateKey", "ScheduleKeyDeletion",   # the fixture
            "ListKeys",                                        # the unmarked test
            "ListKeys", "CreateKey"]                           # this test so far
        state = kms.describe_key(KeyId=outer.doomed)["KeyMetadata"]["KeyState"]
        assert state == "PendingDeletion"
        outer.advance(days=5)                                  # the outer event still works
        with pytest.raises(kms.exceptions.NotFoundException):
            kms.describe_key(KeyId=outer.doomed)
'''


def test_fixtures_and_marker_start_fresh_inside_a_module_scoped_mock(pytester):
    run(pytester, "\n".join(textwrap.dedent(part) for part in (
        OUTER_MOCK.format(scope="module"), FRESH_TESTS, OUTER_STATE_IS_BACK)), passed=8)
    assert not _mock._stack


def test_fixtures_and_marker_start_fresh_inside_a_session_scoped_mock(pytester):
    """The outer mock spans two modules: the first one's tests start fresh, the second one
    finds the outer state intact."""
    pytester.makeconftest(textwrap.dedent(OUTER_MOCK.format(scope="session")))
    pytester.makepyfile(test_a=textwrap.dedent(FRESH_TESTS),
                        test_b=textwrap.dedent(OUTER_STATE_IS_BACK))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    assert not _mock._stack


def test_a_mock_of_the_tests_own_fixture_is_shared(pytester):
    """Not outer: a function-scoped fixture's mock started before ``kms_mock`` is the test's
    own, and ``kms_mock`` shares it (whatever the order of the arguments)."""
    run(pytester, """
        import boto3, pytest
        from mockkms import mock_kms

        @pytest.fixture
        def key():
            with mock_kms():
                yield boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]

        def test_fixture_first(key, kms_client, kms_mock):
            assert [k["KeyId"] for k in kms_client.list_keys()["Keys"]] == [key["KeyId"]]

        def test_kms_client_first(kms_client, key):
            assert [k["KeyId"] for k in kms_client.list_keys()["Keys"]] == [key["KeyId"]]
        """, passed=2)


def test_seeded_marker_inside_an_outer_mock(pytester):
    """The marker's seed loads into the test's empty state; a seed that fails to load leaves
    the outer state as it was."""
    pytester.makefile(".json", keys='{"Version": 1, "Keys": [{"Aliases": ["alias/seeded"]}]}')
    run(pytester, textwrap.dedent(OUTER_MOCK.format(scope="module")) + textwrap.dedent("""
        @pytest.mark.mock_kms(seed="keys.json")
        def test_seeded(kms_client):
            (key,) = kms_client.list_keys()["Keys"]
            assert kms_client.describe_key(KeyId="alias/seeded")["KeyMetadata"]["KeyId"] == \\
                key["KeyId"]

        @pytest.mark.mock_kms(seed="missing.json")
        def test_bad_seed_errors_in_setup():
            pass

        def test_outer_intact(outer):
            kms = boto3.client("kms", region_name="us-east-1")
            assert sorted(k["KeyId"] for k in kms.list_keys()["Keys"]) == sorted(
                [outer.kept, outer.doomed])
            assert outer.calls.operations[:3] == ["CreateKey", "CreateKey", "ScheduleKeyDeletion"]
        """), passed=2, errors=1)
    assert not _mock._stack


def test_option_switches_authorization_off(pytester):
    pytester.makepyfile("""
        import boto3
        from mockkms import mock_kms

        def test_off(kms_mock, kms_client):
            assert kms_mock.authorization is False
            kms_client.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")

        def test_explicit_on():
            with mock_kms(authorization=True) as m:
                assert m.authorization is True
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockkms-no-authorization")
    result.assert_outcomes(passed=2)
