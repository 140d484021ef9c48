"""`packer hcl2_upgrade` (Packer 1.6.6) output read by our HCL2 front end agrees with the JSON.

Every corpus template (tests/corpus/valid and invalid) is converted by the real Packer; the
converted configuration must give the same verdict and the same builds as its JSON original
(compared as a build runs them: tests/hcl2_compare.py), or the difference is recorded in
tests/corpus/hcl2/upgrade-expectations.json with a note saying why. Packer 1.6.6's early HCL2
is not always valid current HCL2 (e.g. `${build.name}` meant the builder's name then, a
variable default could refer to `path.root`), and hcl2_upgrade drops some settings
(`override`, `pause_before`, `error-cleanup-provisioner`); those are the recorded differences.

Refresh the outcomes (notes are kept; a new difference gets an empty note to fill in) with:

    python tests/test_hcl2_upgrade.py --record
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
RECORD = CORPUS / "hcl2" / "upgrade-expectations.json"
HERMETIC_PREFIXES = ("ARM_", "AZURE_", "PKR_VAR_", "PACKER_")
PACKER_TIMEOUT = 60


def corpus_templates() -> list[Path]:
    return sorted(CORPUS.glob("valid/*.json")) + sorted(CORPUS.glob("invalid/*.json"))


def relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def upgrade(template: Path) -> bool:
    """Run hcl2_upgrade beside the template (a copy); whether Packer converted it."""
    with tempfile.TemporaryDirectory(prefix="packer-cache-") as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith(HERMETIC_PREFIXES)}
        env.update(CHECKPOINT_DISABLE="1", PACKER_CACHE_DIR=cache, PACKER_NO_COLOR="1")
        output = template.with_name(template.name.removesuffix(".json") + ".pkr.hcl")
        result = subprocess.run(
            ["packer", "hcl2_upgrade", f"-output-file={output.name}", template.name],
            cwd=template.parent,
            env=env,
            capture_output=True,
            timeout=PACKER_TIMEOUT,
            check=False,
        )
    return result.returncode == 0 and output.is_file()


def convert_corpus(workdir: Path) -> dict[str, bool]:
    """Copy the corpus and convert every template; name -> converted."""
    shutil.copytree(CORPUS, workdir, dirs_exist_ok=True)
    copies = [workdir / relative(path) for path in corpus_templates()]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        converted = list(pool.map(upgrade, copies))
    pairs = zip(copies, converted, strict=True)
    return {relative(CORPUS / copy.relative_to(workdir)): ok for copy, ok in pairs}


def compare(json_template: Path, variables: dict[str, str] | None) -> str:
    """'same', or what differs between the JSON template and its conversion."""
    from pytest_imagebuild.template import RunContext, check
    from pytest_imagebuild.template.loader import read_template
    from pytest_imagebuild.template.plans import plan_builds
    from tests.hcl2_compare import plan_summary

    converted = json_template.with_name(json_template.name.removesuffix(".json") + ".pkr.hcl")
    run = RunContext.create("hcl2-upgrade")
    ours_json = check(json_template.name, variables=variables, run=run)
    ours_hcl = check(converted.name, variables=variables, run=run)
    if bool(ours_json) != bool(ours_hcl):
        said = ours_hcl[0] if ours_hcl else "(valid)"
        return f"verdict: json {'invalid' if ours_json else 'valid'}, hcl2 said {said}"
    if ours_json:
        return "same"
    summaries = []
    for name in (json_template.name, converted.name):
        template, _ = read_template(name, variables, (), run)
        assert template is not None
        plans, _ = plan_builds(template)
        summaries.append(sorted(json.dumps(plan_summary(p, False), sort_keys=True)
                                for p in plans))
    return "same" if summaries[0] == summaries[1] else "builds differ"


def expectations() -> dict[str, dict]:
    return json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {}


def json_expectations() -> dict[str, dict]:
    return json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    if shutil.which("packer") is None:
        pytest.skip("packer is not installed: hcl2_upgrade cannot be run")
    workdir = tmp_path_factory.mktemp("upgraded")
    return workdir, convert_corpus(workdir)


def outcome(workdir: Path, name: str, ok: bool) -> str:
    if not ok:
        return "not converted"
    variables = json_expectations().get(name, {}).get("vars") or None
    template = workdir / name
    cwd = os.getcwd()
    os.chdir(template.parent)
    try:
        return compare(template, variables)
    finally:
        os.chdir(cwd)


def test_every_template_has_an_upgrade_record():
    names = {relative(path) for path in corpus_templates()}
    assert sorted(names - expectations().keys()) == []
    for name, record in expectations().items():
        if record["outcome"] != "same":
            assert record.get("note"), f"{name}: a difference needs a note saying why"


@pytest.mark.parametrize("template", corpus_templates(), ids=relative)
def test_upgraded_template_matches_its_json(
    template: Path, converted: tuple[Path, dict[str, bool]], monkeypatch: pytest.MonkeyPatch
):
    for name in list(os.environ):
        if name.startswith(HERMETIC_PREFIXES):
            monkeypatch.delenv(name)
    workdir, done = converted
    name = relative(template)
    assert outcome(workdir, name, done[name]) == expectations()[name]["outcome"]


def main() -> int:
    old = expectations()
    with tempfile.TemporaryDirectory() as tmp:
        for name in list(os.environ):
            if name.startswith(HERMETIC_PREFIXES):
                del os.environ[name]
        workdir = Path(tmp)
        done = convert_corpus(workdir)
        record = {}
        for name in sorted(done):
            result = outcome(workdir, name, done[name])
            entry = {"outcome": result}
            if result != "same":
                entry["note"] = old.get(name, {}).get("note", "")
            record[name] = entry
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__" and "--record" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parent.parent))
    raise SystemExit(main())
