"""`leakwatch --help` speaks to the user, not to the code's maintainers."""

import pytest

from leakwatch.cli import main


def test_help_is_for_users(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "where a sales department loses money" in out and "LEAKWATCH_*" in out
    assert "this file" not in out and "importing lazily" not in out and "register(" not in out
