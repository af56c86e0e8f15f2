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


def _variant_block():
    block = next(b for b in blocks("text") if "tinyae sample" in b)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_the_variant_commands_work_in_the_order_given(tmp_path):
    """Issue 21 item 2: run as written, after the quick start, `tinyae sample` finds a VAE."""
    from tinyae.cli import main

    monkey_cwd = Path.cwd()
    import os

    os.chdir(tmp_path)
    try:
        assert main(["train", "--epochs", "1", "--quiet"]) == 0        # the quick start
        for line in _variant_block():
            argv = line.split()[1:]
            if argv[0] == "train":
                argv += ["--epochs", "1", "--quiet"]
            assert main(argv) == 0, line
        assert (tmp_path / "samples.png").exists()
    finally:
        os.chdir(monkey_cwd)


def test_the_python_example_gives_the_numbers_of_tinyae_train(tmp_path, capsys):
    """Issue 21 item 10: "In Python" is the model and the run of `tinyae train`."""
    import json

    from tinyae.cli import main

    code = next(b for b in blocks("python") if "Autoencoder.shallow" in b)
    assert "epochs=100" in code           # tinyae train's default; 5 of them suffice here
    exec(compile(code.replace("epochs=100", "epochs=5"), "README.md", "exec"), {})
    printed = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["train", "--quiet", "--epochs", "5", "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert abs(printed - metrics["test_error"]) <= 1e-6 * metrics["test_error"]


# ----- the README is the front door; the measured tables live in the book's Results page -----
RESULTS = (ROOT / "docs" / "results.md").read_text()


def test_readme_stays_short_and_links_the_results_page():
    assert len(README.splitlines()) <= 220, "the README is the front door: keep it short"
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
