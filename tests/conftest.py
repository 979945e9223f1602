"""Fixtures shared by the test modules."""

import pytest

from crknee.data import store


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """An empty per-user data folder ($CRKNEE_USER_DATA) for one test."""
    folder = tmp_path / "user"
    monkeypatch.setenv(store.USER_ENV, str(folder))
    return folder
