"""The state directory never follows a link: a symbolic link (or a hard link, or anything but a
regular file) planted where the database, SQLite's files beside it, or the JSON state file of
mockkms 0.1 belong is refused at the start — never written through, never removed — and the
database's files are created by mockkms with O_EXCL | O_NOFOLLOW before SQLite opens them."""
from __future__ import annotations

import os
import stat

import pytest

from mockkms._persist import DB_FILE, JSON_FILE, NAMES, StateDir, StateError
from mockkms.server import make_app
from serving import kms_call

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


def open_refused(directory) -> str:
    """The StateError message of a start on ``directory`` (the start must be refused)."""
    with pytest.raises(StateError) as exc:
        StateDir(str(directory), make_app().backend).open()
    return str(exc.value)


def refusal(path) -> str:
    return (f"{path} is a symbolic link, which mockkms never creates; move it away to start "
            "(mockkms never follows links in its state directory)")


@pytest.mark.parametrize("name", NAMES)
def test_a_start_refuses_a_symlink_in_the_state_directory(tmp_path, victim, name):
    directory = tmp_path / "state"
    directory.mkdir()
    os.symlink(victim, directory / name)
    assert open_refused(directory) == refusal(directory / name)
    assert victim.read_bytes() == VICTIM
    assert os.path.islink(directory / name)
    assert not (directory / DB_FILE).exists() or name == DB_FILE   # nothing created


def test_a_link_to_a_real_database_is_refused_not_opened(tmp_path):
    other = tmp_path / "other"
    app = served(other)
    kms_call(app, "CreateKey", {})
    app.state.close()
    before = (other / DB_FILE).read_bytes()
    directory = tmp_path / "state"
    directory.mkdir()
    os.symlink(other / DB_FILE, directory / DB_FILE)
    assert open_refused(directory) == refusal(directory / DB_FILE)
    assert (other / DB_FILE).read_bytes() == before


@pytest.mark.parametrize("name", [DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"])
def test_a_dangling_link_creates_nothing(tmp_path, name):
    directory = tmp_path / "state"
    directory.mkdir()
    elsewhere = tmp_path / "created-through-the-link"
    os.symlink(elsewhere, directory / name)
    open_refused(directory)
    assert not os.path.lexists(elsewhere)


@pytest.mark.parametrize("name", [DB_FILE + "-wal", DB_FILE])
def test_a_hard_link_planted_in_the_state_directory_is_refused(tmp_path, victim, name):
    directory = tmp_path / "state"
    directory.mkdir()
    os.link(victim, directory / name)
    assert open_refused(directory) == (
        f"{directory / name} has 2 names (hard links), which mockkms never creates; move it away "
        "to start (mockkms never follows links in its state directory)")
    assert victim.read_bytes() == VICTIM


def test_a_directory_where_the_database_belongs_is_refused(tmp_path):
    directory = tmp_path / "state"
    (directory / DB_FILE).mkdir(parents=True)
    assert open_refused(directory).startswith(f"{directory / DB_FILE} is not a regular file; ")


def test_the_database_files_are_private_and_made_by_mockkms(tmp_path):
    directory = tmp_path / "state"
    app = served(directory)
    assert kms_call(app, "CreateKey", {})[0] == 200
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600, name
    app.state.close()
    assert not (directory / JSON_FILE).exists()
