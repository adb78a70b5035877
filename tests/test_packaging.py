"""The package's metadata: one version source, the declared license shipped."""
from __future__ import annotations

import configparser
import importlib.metadata
import pathlib

import mockkms

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def test_version_has_one_source():
    # setup.cfg reads the version from the package; the installed metadata agrees with it
    assert _setup_cfg()["metadata"]["version"] == "attr: mockkms.__version__"
    assert importlib.metadata.version("mockkms") == mockkms.__version__


def test_declared_license_is_shipped():
    assert _setup_cfg()["metadata"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
