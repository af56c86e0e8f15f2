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


# ----- the README is the front door; the measured tables live in the book's Results page -----
RESULTS = (ROOT / "docs" / "results.md").read_text()


def test_readme_stays_short_and_links_the_results_page():
    assert len(README.splitlines()) <= 200, "the README is the front door: keep it short"
    assert "](docs/results.md)" in README
    index = (ROOT / "docs" / "index.md").read_text()
    toctrees = re.findall(r"```\{toctree\}\n(.*?)```", index, flags=re.S)
    assert any(re.search(r"^results$", tree, flags=re.M) for tree in toctrees)


def test_every_results_table_has_its_command():
    sections = RESULTS.split("\n## ")[1:]
    titles = [section.split("\n", 1)[0] for section in sections]
    for expected in ("Training speed", "Convolutional autoencoders on MNIST",
                     "Reproducing Hinton & Salakhutdinov (2006) on a laptop",
                     "Supervised and semi-supervised autoencoders",
                     "tinyae and Keras, side by side"):
        assert expected in titles
    for title, section in zip(titles, sections):
        has_table = "\n|---" in section or "{include}" in section
        command = re.search(r"```bash\n|`(OPENBLAS_NUM_THREADS=1 )?python (benchmarks|examples)/",
                            section)
        assert not has_table or command, f"Results, {title}: a table without its command"
        assert "](docs/" not in section, f"Results, {title}: a README path left in the book"


def test_the_moved_numbers_are_no_longer_in_the_readme():
    """The tables left the README for the Results page, which holds them now."""
    for number in ("|     0.603 |", "| **2.93** |", "85.2 ± 2.2 %", "| 419,120 |"):
        assert number in RESULTS and number not in README
