"""Grades a machine reads: the results of ``tinyae check`` as JSON, JUnit XML or Gradescope's.

Each checked function is one graded item worth its exercise's ``points`` (declared in
its spec, :mod:`tinyae.teach.exercises`): all of them when every gradient passes, none
otherwise. A file that could not be checked at all (missing, a syntax error, no
exercise function) scores zero on every function its name promises
(``ex04_*.py``: ``dense_backward``), so a missing file costs its points.

* :func:`to_json`: per exercise its name, ``passed``, ``points``, ``max_points``, and each
  failing gradient with the cases it failed in and its diagnosis;
* :func:`to_junit`: JUnit XML, one ``<testcase>`` per function, the diagnosis as the
  ``<failure>`` message (what GitLab, Jenkins and most CI systems display); a crash, a
  wrong signature or an unusable file is an ``<error>``;
* :func:`to_gradescope`: the ``results.json`` of a Gradescope autograder: ``score``,
  ``execution_time``, ``output`` and ``tests``, each with ``name``, ``number``, ``score``,
  ``max_score``, ``status`` and ``output``.
"""

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .._version import __version__
from .exercises.spec import EXERCISES, exercises_of_file
from .report import ExerciseReport

FORMATS = ("json", "junit", "gradescope")


@dataclass
class CheckedFile:
    """One file given to ``tinyae check``: its report, or why it could not be checked."""

    path: str
    report: ExerciseReport = None
    error: str = None


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


def _failures(result):
    return [{"output": row.name, "cases": list(row.failing_cases), "worst_case": row.case,
             "case": result.cases[row.case - 1] if row.case and result.cases else None,
             "error": _finite(row.error), "diagnosis": row.diagnosis}
            for row in result.rows if not row.passed]


def grade_items(checked):
    """One dict per graded function, in the order checked: the common ground of every format."""
    items = []
    for f in checked:
        if f.report is not None:
            for r in f.report.results:
                ex = EXERCISES[r.function]
                items.append({
                    "name": r.function, "file": f.path, "exercise": ex.file,
                    "signature": r.signature, "status": r.status, "passed": r.passed,
                    "points": ex.points if r.passed else 0, "max_points": ex.points,
                    "message": r.message or None, "failures": _failures(r),
                    "notes": list(r.notes), "seconds": round(r.seconds, 4), "report": str(r)})
            continue
        expected = exercises_of_file(f.path) or [None]
        for ex in expected:
            items.append({
                "name": ex.function if ex else f.path, "file": f.path,
                "exercise": ex.file if ex else None, "signature": ex.signature if ex else None,
                "status": "not checked", "passed": False, "points": 0,
                "max_points": ex.points if ex else 0, "message": f.error, "failures": [],
                "notes": [], "seconds": 0.0, "report": f"{f.path}: {f.error}"})
    return items


def _why(item):
    """The one line a grader shows: the first diagnosis, or the message."""
    if item["failures"]:
        return "; ".join(f"{f['output']}: {f['diagnosis']}" for f in item["failures"])
    return item["message"] or item["status"]


def to_json(checked):
    """The JSON text: ``passed``, ``points``, ``max_points``, ``exercises`` (see the module)."""
    items = grade_items(checked)
    return json.dumps({
        "tool": "tinyae check", "version": __version__,
        "passed": bool(items) and all(i["passed"] for i in items),
        "points": sum(i["points"] for i in items),
        "max_points": sum(i["max_points"] for i in items),
        "files": [{"file": f.path, "error": f.error} for f in checked],
        "exercises": [{k: v for k, v in i.items() if k != "report"}
                      | {"why": None if i["passed"] else _why(i)} for i in items],
    }, indent=2, ensure_ascii=False)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text):
    """``text`` without the control characters XML 1.0 cannot hold (a student's output may)."""
    return _NOT_XML.sub("?", str(text))


def to_junit(checked):
    """JUnit XML: a ``<testsuite>`` per file, a ``<testcase>`` per function."""
    root = ET.Element("testsuites", name="tinyae check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for f in checked:
        items = grade_items([f])
        suite = ET.SubElement(root, "testsuite", name=_xml_text(f.path))
        counts = {"tests": len(items), "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        for item in items:
            case = ET.SubElement(suite, "testcase", name=_xml_text(item["name"]),
                                 classname=_xml_text(item["exercise"] or f.path),
                                 time=f"{item['seconds']:.3f}")
            seconds += item["seconds"]
            if item["passed"]:
                continue
            kind = "failure" if item["status"] in ("failed", "not implemented") else "error"
            counts["failures" if kind == "failure" else "errors"] += 1
            node = ET.SubElement(case, kind, message=_xml_text(_why(item)),
                                 type=_xml_text(item["status"]))
            node.text = _xml_text(item["report"])
        suite.set("time", f"{seconds:.3f}")
        for key, value in counts.items():
            suite.set(key, str(value))
            if key in totals:
                totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def to_gradescope(checked, execution_time=None):
    """Gradescope's ``results.json``: a test per function with its score and the report."""
    items = grade_items(checked)
    tests, numbers = [], {}
    for item in items:
        exercise = item["exercise"] or ""
        numbers[exercise] = numbers.get(exercise, 0) + 1
        number = exercise[2:4].lstrip("0") if exercise else str(len(tests) + 1)
        tests.append({
            "name": f"{exercise or item['file']}: {item['signature'] or item['name']}",
            "number": f"{number}.{numbers[exercise]}", "score": item["points"],
            "max_score": item["max_points"], "status": "passed" if item["passed"] else "failed",
            "output": item["report"], "visibility": "visible"})
    passed = sum(i["passed"] for i in items)
    results = {
        "score": sum(i["points"] for i in items),
        "output": f"tinyae check: {passed} of {len(items)} functions right, "
                  f"{sum(i['points'] for i in items)} of {sum(i['max_points'] for i in items)} "
                  "points",
        "visibility": "visible", "tests": tests}
    if execution_time is not None:
        results["execution_time"] = round(float(execution_time), 3)
    return json.dumps(results, indent=2, ensure_ascii=False)


def render(checked, fmt, execution_time=None):
    """The text of format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return to_json(checked)
    if fmt == "junit":
        return to_junit(checked)
    if fmt == "gradescope":
        return to_gradescope(checked, execution_time)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
