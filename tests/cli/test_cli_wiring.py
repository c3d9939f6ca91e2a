"""A command module that cannot be loaded stops the CLI loudly: the error names the
command and the cause (never a command silently missing)."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest
import typer

from ebutool.cli.commands import COMMAND_MODULES, CommandImportError, register_commands


def test_a_missing_command_module_is_named_with_its_cause():
    with pytest.raises(CommandImportError) as exc:
        register_commands(typer.Typer(), [*COMMAND_MODULES, "nosuchcommand"])
    text = str(exc.value)
    assert "'nosuchcommand'" in text and "ebutool.cli.commands.nosuchcommand" in text
    assert "ModuleNotFoundError" in text


def test_a_module_failing_inside_is_named_with_its_cause(monkeypatch):
    import ebutool.cli.commands as commands

    real = commands.importlib.import_module

    def import_module(name: str):
        if name.endswith(".verify"):  # as if the module itself raised on import
            raise NameError("name 'VERDICTS' is not defined")
        return real(name)

    monkeypatch.setattr(commands.importlib, "import_module", import_module)
    with pytest.raises(CommandImportError) as exc:
        register_commands(typer.Typer())
    assert str(exc.value) == (
        "command 'verify' cannot be loaded: importing ebutool.cli.commands.verify failed: "
        "NameError: name 'VERDICTS' is not defined"
    )


def test_a_module_without_register_is_refused(monkeypatch):
    name = "ebutool.cli.commands.no_register_for_test"
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    with pytest.raises(CommandImportError, match="has no register"):
        register_commands(typer.Typer(), ["no_register_for_test"])


@pytest.mark.parametrize("debug", [False, True])
def test_the_program_says_which_command_and_exits_4(debug):
    # model's module made unimportable, as a broken install would
    code = (
        "import sys; sys.modules['ebutool.cli.commands.model'] = None\n"
        "from ebutool.cli import main\n"
        "sys.argv = ['ebutool', 'decode', '--help']\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "EBUTOOL_DEBUG"}
    if debug:
        env["EBUTOOL_DEBUG"] = "1"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.stdout == ""
    if debug:
        assert proc.returncode == 1 and "Traceback" in proc.stderr
        assert "CommandImportError" in proc.stderr
        return
    assert proc.returncode == 4
    (line,) = proc.stderr.splitlines()
    assert line.startswith("ebutool: internal error: command 'model' cannot be loaded")
    assert "ebutool.cli.commands.model" in line and "EBUTOOL_DEBUG=1" in line
