"""The state directory never follows a link: a symbolic link planted where the temporary file,
the state file or the lock file belongs is refused (never written through, never removed
silently), and a hard link under the temporary name is replaced, not written through."""
from __future__ import annotations

import json
import os

import pytest

from mockkms._persist import LOCK_FILE, STATE_FILE, TMP_FILE, StateDir, StateError
from mockkms.server import make_app
from test_server import kms_call

VICTIM = b"precious data that is not mockkms's\n"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim.txt"
    path.write_bytes(VICTIM)
    return path


def served(directory):
    app = make_app()
    app.state = StateDir(str(directory), app.backend)
    assert app.state.open() is False
    return app


def test_a_symlink_planted_as_the_temporary_file_is_not_followed(tmp_path, victim, capsys):
    directory = tmp_path / "state"
    app = served(directory)
    assert kms_call(app, "CreateKey", {})[0] == 200
    tmp = directory / TMP_FILE
    os.symlink(victim, tmp)
    status, _, out = kms_call(app, "CreateKey", {})
    assert (status, out["__type"]) == (500, "KMSInternalException")
    assert out["message"] == (f"mockkms could not save its state: [Errno 17] {tmp} is a "
                              "symbolic link, which mockkms never creates; not writing "
                              "through it")
    assert victim.read_bytes() == VICTIM
    assert os.path.islink(tmp)          # refused, not removed
    assert "could not save state" in capsys.readouterr().err
    os.unlink(tmp)                      # once it is gone, writes work again
    assert kms_call(app, "CreateKey", {})[0] == 200
    assert len(json.loads((directory / STATE_FILE).read_bytes())["stores"]) == 1
    app.state.close()


def test_a_hard_link_planted_as_the_temporary_file_is_replaced(tmp_path, victim):
    directory = tmp_path / "state"
    app = served(directory)
    os.link(victim, directory / TMP_FILE)
    assert kms_call(app, "CreateKey", {})[0] == 200
    assert victim.read_bytes() == VICTIM
    assert not (directory / TMP_FILE).exists()
    app.state.close()


def test_a_temporary_file_left_by_a_failed_write_does_not_block_the_next(tmp_path):
    directory = tmp_path / "state"
    app = served(directory)
    (directory / TMP_FILE).write_bytes(b"half a state file")
    os.chmod(directory / TMP_FILE, 0o644)
    assert kms_call(app, "CreateKey", {})[0] == 200
    assert oct(os.stat(directory / STATE_FILE).st_mode & 0o777) == "0o600"
    app.state.close()


@pytest.mark.parametrize("name", [TMP_FILE, STATE_FILE, LOCK_FILE])
def test_a_start_refuses_a_symlink_in_the_state_directory(tmp_path, victim, name):
    directory = tmp_path / "state"
    directory.mkdir()
    if name == STATE_FILE:  # a link to a real state file: still refused, not loaded through
        other = tmp_path / "other"
        app = served(other)
        kms_call(app, "CreateKey", {})
        app.state.close()
        target = other / STATE_FILE
    else:
        target = victim
    before = target.read_bytes()
    os.symlink(target, directory / name)
    with pytest.raises(StateError) as exc:
        StateDir(str(directory), make_app().backend).open()
    assert str(exc.value) == (f"{directory / name} is a symbolic link, which mockkms never "
                              "creates; move it away to start (mockkms never follows links in "
                              "its state directory)")
    assert target.read_bytes() == before
    assert os.path.islink(directory / name)


def test_a_dangling_lock_file_link_creates_nothing(tmp_path):
    directory = tmp_path / "state"
    directory.mkdir()
    elsewhere = tmp_path / "created-through-the-link"
    os.symlink(elsewhere, directory / LOCK_FILE)
    with pytest.raises(StateError):
        StateDir(str(directory), make_app().backend).open()
    assert not os.path.lexists(elsewhere)


def test_a_directory_where_the_state_file_belongs_is_refused(tmp_path):
    directory = tmp_path / "state"
    (directory / STATE_FILE).mkdir(parents=True)
    with pytest.raises(StateError) as exc:
        StateDir(str(directory), make_app().backend).open()
    assert str(exc.value).startswith(f"{directory / STATE_FILE} is not a regular file; ")
