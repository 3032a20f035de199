"""README.md stays true: every setting is documented, and every CLI command."""

from pathlib import Path

from cli import main
from core.settings import ENV

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    for variable, expected in ENV.values():
        assert f"| `{variable}` | {expected} |" in README, variable


def test_every_command_is_documented(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    usage = capsys.readouterr().out
    commands = usage.split("{", 1)[1].split("}", 1)[0].split(",")
    for command in commands:
        assert f"`fieldwork {command}" in README, command
