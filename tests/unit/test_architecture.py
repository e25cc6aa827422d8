"""The import direction of the code (pyproject's [tool.importlinter] contracts) is part of the suite."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    out = capsys.readouterr().out
    assert exit_code == 0, out
    assert "Contracts: 5 kept, 0 broken." in out
