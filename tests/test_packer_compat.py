"""Our template validation must agree with the real `packer validate` of Packer 1.6.6.

Every template under tests/corpus/ has an entry in tests/corpus/expectations.json recording
what Packer said about it. Each test checks both sides of that record:

* our `check()` gives the same verdict as Packer (or the declared `difference`), and for an
  invalid template one of our problems mentions the `expect` fragment(s);
* Packer itself still gives the recorded verdict, so the expectations file cannot rot.

Both tools run with the template's directory as the working directory (relative paths in
templates are relative to it) and without ARM_* variables in the environment, so the Azure
credentials read by `{{env ...}}` are empty: validation makes no Azure calls either way.

Refresh the Packer side of the expectations after editing the corpus with:

    python tests/test_packer_compat.py --record
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
EXPECTATIONS_FILE = CORPUS / "expectations.json"
PACKER_TIMEOUT = 60
HERMETIC_PREFIXES = ("ARM_", "AZURE_", "PKR_VAR_", "PACKER_")


def load_expectations() -> dict[str, dict]:
    return json.loads(EXPECTATIONS_FILE.read_text(encoding="utf-8"))


def corpus_templates() -> list[Path]:
    return sorted(CORPUS.glob("valid/*.json")) + sorted(CORPUS.glob("invalid/*.json"))


def relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def hermetic_environ(cache_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(HERMETIC_PREFIXES)}
    env.update(CHECKPOINT_DISABLE="1", PACKER_CACHE_DIR=cache_dir, PACKER_NO_COLOR="1")
    return env


_HEADER = re.compile(
    r"^(Error:( Failed to (prepare|initialize) build:? \".*\")?"
    r"|\d+ error(s|\(s\))? (occurred|decoding):)$"
)


def first_error(machine_readable: str) -> str:
    """Packer's first error as one line: wrapped lines joined, generic headers dropped.

    A message ending in ':' (e.g. "provisioner 1: Error decoding provisioner:") continues
    with the next item, so the specific cause is kept.
    """
    for record in machine_readable.splitlines():
        fields = record.split(",", 3)
        if len(fields) < 4 or fields[2] != "ui" or not fields[3].startswith("error,"):
            continue
        text = fields[3][len("error,") :].replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n")
        lines = text.splitlines()
        if lines and "Error parsing JSON" in lines[0]:
            return " ".join(line.strip().rstrip(":") for line in lines[:2])
        items: list[str] = []
        current: list[str] = []
        for raw in [*lines, ""]:
            line = raw.strip()
            if line.startswith("* ") or not line or _HEADER.match(line):
                if current:
                    items.append(" ".join(current))
                current = []
            if line and not _HEADER.match(line):
                current.append(line.removeprefix("* "))
        if not items:
            return ""
        message = items[0]
        for item in items[1:]:
            if not message.endswith(":"):
                break
            message = f"{message} {item}"
        return message
    return ""


def run_packer(template: Path, variables: dict[str, str]) -> tuple[bool, str]:
    """Run `packer validate` as a user would; (valid, first error line)."""
    with tempfile.TemporaryDirectory(prefix="packer-cache-") as cache_dir:
        command = ["packer", "-machine-readable", "validate"]
        for name, value in variables.items():
            command += ["-var", f"{name}={value}"]
        command.append(template.name)
        result = subprocess.run(
            command,
            cwd=template.parent,
            env=hermetic_environ(cache_dir),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PACKER_TIMEOUT,
            check=False,
        )
    return result.returncode == 0, first_error(result.stdout + result.stderr)


EXPECTATIONS = load_expectations() if EXPECTATIONS_FILE.exists() else {}
TEMPLATES = corpus_templates()


def test_every_template_has_an_expectation():
    names = {relative(path) for path in TEMPLATES}
    assert sorted(names - EXPECTATIONS.keys()) == [], "templates without an expectation"
    assert sorted(EXPECTATIONS.keys() - names) == [], "expectations without a template"


def test_corpus_layout_matches_packer():
    """A template in invalid/ is invalid for Packer unless it declares a deliberate difference."""
    for name, expected in EXPECTATIONS.items():
        in_valid = name.startswith("valid/")
        if "difference" in expected:
            assert expected.get("note"), f"{name}: a difference needs a note saying why"
            continue
        assert expected["packer_valid"] is in_valid, f"{name} is in the wrong directory"
        if not in_valid:
            assert expected.get("expect"), f"{name}: an invalid template needs 'expect'"


def our_verdict(expected: dict) -> bool:
    """The verdict our validator must give, given Packer's and any declared difference."""
    difference = expected.get("difference")
    if difference is None:
        return expected["packer_valid"]
    if difference == "stricter":
        assert expected["packer_valid"], "'stricter' only makes sense for Packer-valid templates"
        return False
    if difference == "laxer":
        assert not expected["packer_valid"], "'laxer' only makes sense for Packer-invalid ones"
        return True
    raise AssertionError(f"unknown difference {difference!r}")


@pytest.mark.parametrize("template", TEMPLATES, ids=relative)
def test_check_agrees_with_packer(template: Path, monkeypatch: pytest.MonkeyPatch):
    from pytest_imagebuild.template import check

    expected = EXPECTATIONS[relative(template)]
    for name in list(os.environ):
        if name.startswith(HERMETIC_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(template.parent)

    problems = check(template, variables=expected.get("vars") or None)
    rendered = [str(problem) for problem in problems]
    # Fragments are matched case-insensitively and without the file name, which often
    # repeats the fragment.
    searchable = [str(problem).replace(problem.file, "", 1).lower() for problem in problems]
    shown = "\n".join(rendered) or "(no problems)"
    want_valid = our_verdict(expected)
    packer_said = expected["packer_message"] or "(valid)"
    assert (not problems) is want_valid, (
        f"ours: {'valid' if not problems else 'invalid'}, expected "
        f"{'valid' if want_valid else 'invalid'}; packer said: {packer_said}\nours said:\n{shown}"
    )
    fragments = expected.get("expect", [])
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        assert any(fragment.lower() in line for line in searchable), (
            f"no problem mentions {fragment!r}; packer said: {packer_said}\nours said:\n{shown}"
        )
    warned = expected.get("warn", [])
    if warned:
        from pytest_imagebuild.template import check_all

        warnings = [
            str(p).replace(p.file, "", 1).lower()
            for p in check_all(template, variables=expected.get("vars") or None)
            if p.warning
        ]
        for fragment in [warned] if isinstance(warned, str) else warned:
            assert any(fragment.lower() in line for line in warnings), (
                f"no warning mentions {fragment!r}; warnings: {warnings}"
            )


@pytest.fixture(scope="module")
def packer_runs():
    """Start `packer validate` for the whole corpus at once: a few seconds instead of a minute.

    Under pytest-xdist each worker runs only the templates it is given, one at a time.
    """
    workers = 1 if os.environ.get("PYTEST_XDIST_WORKER") else min(8, os.cpu_count() or 1)
    runs: dict[Path, Future] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:

        def run(template: Path) -> tuple[bool, str]:
            if template not in runs:
                expected = EXPECTATIONS[relative(template)]
                runs[template] = pool.submit(run_packer, template, expected.get("vars", {}))
            return runs[template].result()

        if workers > 1:
            for template in TEMPLATES:
                run(template)
        yield run


@pytest.mark.skipif(shutil.which("packer") is None, reason="packer is not on PATH (CI installs it)")
@pytest.mark.parametrize("template", TEMPLATES, ids=relative)
def test_packer_still_agrees_with_expectations(template: Path, packer_runs):
    expected = EXPECTATIONS[relative(template)]
    valid, message = packer_runs(template)
    assert valid is expected["packer_valid"], f"packer now says: {message or '(valid)'}"


def record() -> None:
    """Rewrite packer_valid/packer_message from the installed Packer; keep hand-written keys."""
    old = load_expectations() if EXPECTATIONS_FILE.exists() else {}
    new = {}
    for template in corpus_templates():
        name = relative(template)
        entry = dict(old.get(name, {}))
        valid, message = run_packer(template, entry.get("vars", {}))
        message = message.replace(f"{CORPUS.resolve()}/", "")
        entry["packer_valid"], entry["packer_message"] = valid, message
        ordered = {key: entry[key] for key in ("packer_valid", "packer_message")}
        ordered.update({key: value for key, value in entry.items() if key not in ordered})
        new[name] = ordered
        print(f"{'valid  ' if valid else 'INVALID'} {name}: {message}")
    EXPECTATIONS_FILE.write_text(json.dumps(new, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/test_packer_compat.py --record")
    record()
