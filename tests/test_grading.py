"""Exercises in a course (issue 24): grades a machine reads, the handout, a class graded, the
student's backward pass training the model, and the recipes of docs/instructors.md run as printed.

Student code always runs in a subprocess in the class grader; the made-up students below are
written into temporary folders: right answers (the solutions), a flipped sign, a transposed
weight gradient, a crash, an infinite loop, an empty folder, a syntax error, the wrong
arguments, a flood of output, folder names with spaces and accents.
"""

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyae.exercises import EXERCISES, main_check
from tinyae.teach.exercises.spec import ExerciseError
from tinyae.teach.handout import release

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "lessons" / "solutions"
STATEMENTS = ROOT / "lessons" / "exercises"
PAGE = ROOT / "docs" / "instructors.md"

FLIPPED_SIGMOID = ("import numpy as np\n\n\ndef sigmoid_backward(z, grad_out):\n"
                   "    s = 1 / (1 + np.exp(-z))\n    return -grad_out * s * (1 - s)\n")
TRANSPOSED_DENSE = ("def dense_backward(x, W, b, grad_out):\n"
                    "    return grad_out @ W.T, grad_out.T @ x, grad_out.sum(axis=0)\n")
CRASHING_DENSE = ("import numpy as np\n\n\ndef dense_backward(x, W, b, grad_out):\n"
                  "    return x @ grad_out, None, None\n")
LOOPING_SIGMOID = "def sigmoid_backward(z, grad_out):\n    while True:\n        pass\n"
CHATTY_SIGMOID = ("print('hello from the student')\n\n\ndef sigmoid_backward(z, grad_out):\n"
                  "    print('called with', z.shape)\n    import numpy as np\n"
                  "    s = 1 / (1 + np.exp(-z))\n    return grad_out * s * (1 - s)\n")


def solution(n):
    return next(SOLUTIONS.glob(f"ex{n:02d}_*.py"))


def write(folder, name, text):
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shell_env(tmp_path):
    """An environment whose ``tinyae`` is this checkout's, for the recipes' command lines."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tinyae"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tinyae "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def recipe(name):
    """The code block after ``<!-- recipe: NAME -->`` in docs/instructors.md."""
    page = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```\w+\n(.*?)```", page, re.S)
    assert match, f"no recipe {name!r} in {PAGE}"
    return match.group(1)


def bash(script, cwd, env, timeout=120):
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


# ----- JSON, JUnit, Gradescope ---------------------------------------------------------------
def test_json_gives_points_and_each_failing_gradient_with_its_diagnosis(tmp_path, capsys):
    wrong = write(tmp_path, "ex01_sigmoid_backward.py", FLIPPED_SIGMOID)
    code = main_check([str(solution(4)), str(wrong), str(tmp_path / "ex07_missing.py"),
                       "--format", "json"])
    out = capsys.readouterr().out
    result = json.loads(out)                      # stdout holds the JSON alone
    assert code == 2 and result["passed"] is False
    by_name = {e["name"]: e for e in result["exercises"]}
    assert list(by_name) == ["dense_backward", "sigmoid_backward", "autoencoder_backward"]
    dense, sigmoid, missing = by_name.values()
    assert (dense["passed"], dense["points"], dense["max_points"]) == (True, 2, 2)
    assert (sigmoid["passed"], sigmoid["points"], sigmoid["max_points"]) == (False, 0, 1)
    [failure] = sigmoid["failures"]
    assert failure["output"] == "dz" and failure["cases"] == [1, 2, 3, 4]
    assert failure["diagnosis"].startswith("flipped sign")
    assert missing["status"] == "not checked" and "no such file" in missing["message"]
    assert (result["points"], result["max_points"]) == (2, 2 + 1 + 3)


def test_json_exit_code_zero_only_when_all_pass_and_student_prints_stay_off_stdout(tmp_path,
                                                                                 capsys):
    code = main_check([*map(str, sorted(SOLUTIONS.glob("ex*.py"))), "--format", "json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["passed"]
    assert result["points"] == result["max_points"] == sum(e.points for e in EXERCISES.values())
    chatty = write(tmp_path, "ex01_sigmoid_backward.py", CHATTY_SIGMOID)
    assert main_check([str(chatty), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["passed"] and "hello from the student" in err


def test_junit_parses_with_a_junit_reader(tmp_path):
    junitparser = pytest.importorskip("junitparser", reason="pip install -e '.[test]'")
    wrong = write(tmp_path / "s", "ex01_sigmoid_backward.py", FLIPPED_SIGMOID)
    crash = write(tmp_path / "s", "ex04_dense_backward.py", CRASHING_DENSE)
    out = tmp_path / "junit.xml"
    code = main_check([str(solution(7)), str(wrong), str(crash), "--format", "junit",
                       "--out", str(out)])
    assert code == 1
    xml = junitparser.JUnitXml.fromfile(str(out))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {"autoencoder_backward", "sigmoid_backward", "dense_backward"}
    assert cases["autoencoder_backward"].is_passed
    [failure] = cases["sigmoid_backward"].result
    assert isinstance(failure, junitparser.Failure) and "flipped sign" in failure.message
    [error] = cases["dense_backward"].result
    assert isinstance(error, junitparser.Error) and "crashed" in error.type
    assert "ValueError" in error.text
    suites = {suite.name: suite for suite in xml}
    assert suites[str(wrong)].failures == 1 and suites[str(crash)].errors == 1


# Gradescope's autograder specification ("Output format"): the keys results.json may hold.
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
                  "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
                  "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
                   "output_format", "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def test_gradescope_results_have_the_keys_its_documentation_names(tmp_path, capsys):
    wrong = write(tmp_path, "ex01_sigmoid_backward.py", FLIPPED_SIGMOID)
    out = tmp_path / "results" / "results.json"
    assert main_check([str(wrong), str(solution(4)), "--gradescope", "--out", str(out)]) == 1
    assert "FAILED" in capsys.readouterr().out          # the report, for the stdout log
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results) <= GRADESCOPE_TOP and results["visibility"] in VISIBILITY
    tests = results["tests"]
    assert [t["max_score"] for t in tests] == [1, 2]
    for t in tests:
        assert set(t) <= GRADESCOPE_TEST and {"name", "score", "max_score"} <= set(t)
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITY
        assert isinstance(t["score"], (int, float)) and isinstance(t["output"], str)
    assert [t["score"] for t in tests] == [0, 2]
    assert results["score"] == 2 and "flipped sign" in tests[0]["output"]


def test_the_tinyae_command_takes_the_options(capsys):
    from tinyae.cli.main import main

    assert main(["check", str(solution(4)), "--format", "junit"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<?xml") and 'failures="0"' in out
    with pytest.raises(SystemExit) as bad:
        main(["check", "x.py", "--format", "yaml"])
    assert bad.value.code == 2 and "invalid choice" in capsys.readouterr().err


# ----- the handout ---------------------------------------------------------------------------
def _solution_text_lines():
    """Lines of the solutions that are not in the statements: what must never reach students."""
    leaks = {}
    for sol in sorted(SOLUTIONS.glob("ex*.py")):
        statement = (STATEMENTS / sol.name).read_text(encoding="utf-8")
        lines = {line.strip() for line in sol.read_text(encoding="utf-8").splitlines()}
        leaks[sol.name] = {line for line in lines if len(line) >= 12 and line not in statement
                           and not line.startswith(("import ", "from ", '"""'))}
    return leaks


def test_release_writes_statements_without_solutions(shell_env, tmp_path):
    result = bash(recipe("release").replace("--only 1,4", ""), tmp_path, shell_env)
    assert result.returncode == 0, result.stderr
    handout = tmp_path / "handout"
    names = sorted(p.name for p in handout.iterdir())
    assert names == sorted([p.name for p in STATEMENTS.glob("ex*.py")] + ["README.md"])
    everything = "\n".join(p.read_text(encoding="utf-8") for p in handout.iterdir())
    leaks = _solution_text_lines()
    assert sum(map(len, leaks.values())) > 50     # the comparison has something to find
    for name, lines in leaks.items():
        assert not [line for line in lines if line in everything], name
    assert "lessons/solutions" not in everything
    for path in handout.glob("ex*.py"):
        text = path.read_text(encoding="utf-8")
        assert f"tinyae check {path.name}" in text and "raise NotImplementedError" in text
        for node in ast.parse(text).body:          # every exercise function is a stub
            if isinstance(node, ast.FunctionDef) and node.name in EXERCISES:
                assert isinstance(node.body[-1], ast.Raise)
    readme = (handout / "README.md").read_text(encoding="utf-8")
    assert "tinyae check ex01_sigmoid_backward.py" in readme
    assert f"| | total | {sum(e.points for e in EXERCISES.values())} |" in readme
    assert main_check([str(handout / "ex04_dense_backward.py")]) == 1


def test_release_refuses_solutions_and_a_folder_in_use(tmp_path):
    with pytest.raises(ExerciseError, match="is this a solution"):
        release(tmp_path / "h", source=SOLUTIONS)
    assert not (tmp_path / "h").exists()
    release(tmp_path / "h", only=[1])
    with pytest.raises(ExerciseError, match="--overwrite"):
        release(tmp_path / "h", only=[1])
    with pytest.raises(ExerciseError, match="no statement for ex12"):
        release(tmp_path / "h2", only=[12])


# ----- a class graded ------------------------------------------------------------------------
def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_six_students_graded_row_by_row(shell_env, tmp_path):
    sub = tmp_path / "submissions"
    right01, right04 = solution(1).read_text(), solution(4).read_text()
    students = {
        "Ada Lovelace": {"ex01_sigmoid_backward.py": right01, "ex04_dense_backward.py": right04},
        "Björn Øster": {"ex01_sigmoid_backward.py": FLIPPED_SIGMOID,
                        "ex04_dense_backward.py": right04},
        "Chen Wei": {"hw/ex01_sigmoid_backward.py": right01,
                     "hw/ex04_dense_backward.py": TRANSPOSED_DENSE},
        "Dana": {"ex01_sigmoid_backward.py": right01, "ex04_dense_backward.py": CRASHING_DENSE},
        "Émile Zola": {"ex01_sigmoid_backward.py": LOOPING_SIGMOID,
                       "ex04_dense_backward.py": right04},
        "Fay": {"notes.txt": "I ran out of time\n"},
    }
    for student, files in students.items():
        for name, text in files.items():
            write(sub / student, name, text)
    result = bash(recipe("grade"), tmp_path, shell_env)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _read_csv(tmp_path / "grades.csv")
    got = [(r["student"], r["exercise"], int(r["points"]), int(r["max_points"]), r["status"])
           for r in rows]
    assert got == [
        ("Ada Lovelace", "sigmoid_backward", 1, 1, "passed"),
        ("Ada Lovelace", "dense_backward", 2, 2, "passed"),
        ("Björn Øster", "sigmoid_backward", 0, 1, "failed"),
        ("Björn Øster", "dense_backward", 2, 2, "passed"),
        ("Chen Wei", "sigmoid_backward", 1, 1, "passed"),
        ("Chen Wei", "dense_backward", 0, 2, "failed"),
        ("Dana", "sigmoid_backward", 1, 1, "passed"),
        ("Dana", "dense_backward", 0, 2, "crashed"),
        ("Fay", "", 0, 3, "no files"),
        ("Émile Zola", "sigmoid_backward", 0, 1, "timed out"),
        ("Émile Zola", "dense_backward", 2, 2, "passed"),
    ]
    why = [r["diagnosis"] for r in rows]
    assert why[0] == why[1] == why[3] == ""
    assert why[2].startswith("dz: flipped sign")
    assert why[5].startswith("dW: transposed") and rows[5]["file"] == "hw/ex04_dense_backward.py"
    assert "ValueError" in why[7] and "line 5" in why[7]
    assert "no exercise files" in why[8] and "notes.txt" in why[8]
    assert why[9].startswith("timed out") and "infinite loop" in why[9]
    assert "Ada Lovelace: 3 of 3 points" in result.stdout


def test_bad_submissions_each_get_a_clear_row(tmp_path):
    from tinyae.teach.classgrade import grade_class

    sub = tmp_path / "subs"
    write(sub / "syntax", "ex01_sigmoid_backward.py", "def sigmoid_backward(z, grad_out)\n")
    write(sub / "signature", "ex01_sigmoid_backward.py",
          "def sigmoid_backward(z):\n    return z\n")
    write(sub / "flood", "ex01_sigmoid_backward.py",
          "while True:\n    print('spam ' * 100)\n")
    write(sub / "renamed", "ex01_sigmoid_backward.py", "def my_sigmoid(z, g):\n    return g\n")
    write(sub / "asks", "ex01_sigmoid_backward.py", "name = input('your name? ')\n")
    rows = grade_class(sub, tmp_path / "g.csv", timeout=20, max_output=100_000, jobs=2,
                       echo=lambda line: None)
    by_student = {r["student"]: r for r in rows}
    assert [r["student"] for r in _read_csv(tmp_path / "g.csv")] == sorted(by_student)
    assert by_student["syntax"]["status"] == "not checked"
    assert "SyntaxError" in by_student["syntax"]["diagnosis"]
    assert "line 1" in by_student["syntax"]["diagnosis"]
    assert by_student["signature"]["status"] == "wrong signature"
    assert "should take 2 arguments (z, grad_out)" in by_student["signature"]["diagnosis"]
    assert by_student["flood"]["status"] == "too much output"
    assert "printed more than 0.1 MB" in by_student["flood"]["diagnosis"]
    assert "defines no exercise function" in by_student["renamed"]["diagnosis"]
    assert "EOFError" in by_student["asks"]["diagnosis"]
    assert all(r["points"] == 0 for r in rows)


# ----- the student's backward pass trains the model -------------------------------------------
def _functions(*paths):
    from tinyae.exercises import load_functions

    found = {}
    for p in paths:
        found.update(load_functions(p))
    return found["sigmoid_backward"], found["dense_backward"]


def test_the_students_backward_trains_tinyaes_model(tmp_path):
    import tinyae as ta
    from tinyae.teach.train_student import train_with_student

    run = train_with_student(*_functions(solution(1), solution(4)), epochs=3,
                             path=tmp_path / "yours.png")
    # tinyae's own run, built here independently: the same numbers
    X, _ = ta.load_digits()
    X_train, _ = ta.train_test_split(X, test_size=0.2, seed=0)
    model = ta.Autoencoder.shallow(64, 16, hidden="sigmoid", output="sigmoid", seed=0)
    history = model.fit(X_train, loss="mse", optimizer=ta.Adam(lr=1e-2), epochs=3,
                        batch_size=32, seed=0, verbose=0)
    np.testing.assert_allclose(run.your_loss, history.train_loss, rtol=0, atol=1e-10)
    assert run.same and run.your_loss[-1] < run.your_loss[0]
    assert (tmp_path / "yours.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # written another way (einsum, logaddexp): other rounding, the same numbers to 1e-10
    other = write(tmp_path, "mine.py", (
        "import numpy as np\n\n\ndef sigmoid_backward(z, grad_out):\n"
        "    s = np.exp(-np.logaddexp(0, -z))\n    return grad_out * s * (1 - s)\n\n\n"
        "def dense_backward(x, W, b, grad_out):\n"
        "    return (np.einsum('nj,ij->ni', grad_out, W), np.einsum('ni,nj->ij', x, grad_out),\n"
        "            np.einsum('nj->j', grad_out))\n"))
    run2 = train_with_student(*_functions(other), epochs=3, path=tmp_path / "other.png")
    assert run2.max_loss_difference < 1e-10 and run2.max_weight_difference < 1e-10


def test_a_wrong_function_is_refused_before_training(shell_env, tmp_path):
    wrong = write(tmp_path, "ex01_sigmoid_backward.py", FLIPPED_SIGMOID)
    result = bash(f"tinyae check --train ex01_sigmoid_backward.py '{solution(4)}' --epochs 2",
                  tmp_path, shell_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused: your sigmoid_backward does not pass" in result.stderr
    assert "flipped sign" in result.stderr and not (tmp_path / "your_backward.png").exists()
    assert wrong.exists()


def test_train_needs_both_functions(capsys):
    assert main_check(["--train", str(solution(4))]) == 2
    assert "sigmoid_backward not found" in capsys.readouterr().err


# ----- the recipes of docs/instructors.md, run as printed ------------------------------------
def test_the_points_table_matches_the_specs():
    page = PAGE.read_text(encoding="utf-8")
    for ex in EXERCISES.values():
        row = next(line for line in page.splitlines()
                   if line.startswith(f"| {ex.file[:4]} |"))
        names = re.findall(r"`(\w+)`", row)
        points = [int(p) for p in re.findall(r"\d+", row.split("|")[3])]
        assert points[names.index(ex.function)] == ex.points, row


def test_gradescope_run_autograder_on_a_fake_autograder_folder(shell_env, tmp_path):
    root = tmp_path / "autograder"
    script = write(root, "run_autograder", recipe("run_autograder"))
    script.chmod(0o755)
    (root / "source").mkdir()
    write(root / "submission", "ex01_sigmoid_backward.py", solution(1).read_text())
    write(root / "submission", "ex04_dense_backward.py", TRANSPOSED_DENSE)
    result = subprocess.run([str(script)], cwd=tmp_path, env=shell_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 1 and [t["max_score"] for t in results["tests"]] == [1, 2]
    assert "transposed" in results["tests"][1]["output"]
    for path in (root / "submission").iterdir():      # nothing submitted: zeros, not a crash
        path.unlink()
    result = subprocess.run([str(script)], cwd=tmp_path, env=shell_env, capture_output=True,
                            text=True, timeout=120)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and len(results["tests"]) == 2
    assert all("no such file" in t["output"] for t in results["tests"])


def test_github_classroom_workflow_commands(shell_env, tmp_path):
    yaml = pytest.importorskip("yaml", reason="reading the workflow needs PyYAML (docs extra)")
    workflow = yaml.safe_load(recipe("classroom.yml"))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps
               if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    reporter = next(s for s in steps if "grading-reporter" in s.get("uses", ""))
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}
    assert sum(s["with"]["max-score"] for s in graders) == \
        sum(EXERCISES[n].points for n in ("sigmoid_backward", "dense_backward"))
    repo = tmp_path / "student-repo"
    release(repo, only=[1, 4])                       # the template: the handout
    untouched = bash(graders[0]["with"]["command"], repo, shell_env)
    assert untouched.returncode != 0                 # not done yet: the grader gives 0 points
    for n in (1, 4):                                 # solved: every grader gives its points
        shutil.copy(solution(n), repo / solution(n).name)
    for s in graders:
        result = bash(s["with"]["command"], repo, shell_env,
                      timeout=60 * s["with"]["timeout"])
        assert result.returncode == 0, result.stdout + result.stderr
