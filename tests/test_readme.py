"""The README's promises: its commands are the ones CI runs, and its Python examples run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quick_start_is_two_commands_that_ci_runs():
    commands = [b.strip() for b in blocks("bash")[:2]]
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    ci = (ROOT / ".ci" / "run").read_text()
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    install_run, install_test = (c.removeprefix(venv) for c in commands)
    assert install_run == "pip install -e . && tinyae train"
    assert install_test == 'pip install -e ".[test]" && pytest'
    for step in ("pip install -q -e .", "tinyae train", 'pip install -q -e ".[test]"', "pytest"):
        assert step in ci


def test_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for code in blocks("python"):
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "PASSED" in out
