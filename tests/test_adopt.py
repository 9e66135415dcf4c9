"""`mlgit init` in an existing DVC/GTO repository (laid out like DVC's example-get-started):
mlgit.yaml adopts its models, datasets and stages, and init says what is left to do."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import Project, run_cli, sh

GTO = str(Path(sys.executable).parent / "gto")

DVC_YAML = """\
stages:
  train:
    cmd: python src/train.py
    deps: [data/data.csv, src/train.py]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py
    deps: [model.pkl, src/evaluate.py]
    metrics:
    - eval/live/metrics.json:
        cache: false
metrics:
- eval/metrics.json
artifacts:
  text-classification:
    path: model.pkl
    type: model
    desc: Detect whether a question should have the R tag
    labels: [nlp, classification]
  raw-data:
    path: data/data.csv
    type: dataset
"""
TRAIN = "open('model.pkl', 'w').write('model')\n"
EVALUATE = """\
import json, os
os.makedirs('eval/live', exist_ok=True)
for f in ('eval/metrics.json', 'eval/live/metrics.json'):
    open(f, 'w').write(json.dumps({'roc_auc': 0.9}))
"""


def _build(root: Path, remote: Path) -> None:
    sh(root, "git", "init", "-q")
    sh(root, "dvc", "init", "-q")
    for rel, text in {
        "data/data.csv": "a,b\n1,2\n3,4\n",
        "data/extra/part.csv": "x\n1\n",
        "src/train.py": TRAIN,
        "src/evaluate.py": EVALUATE,
        "dvc.yaml": DVC_YAML,
        ".gto": "stages: [dev, stage, prod]\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sh(root, "dvc", "add", "-q", "data/data.csv")
    sh(root, "dvc", "add", "-q", "data/extra")
    sh(root, "dvc", "repro", "-q")
    sh(root, "dvc", "remote", "add", "-q", "-d", "local", str(remote))
    sh(root, "dvc", "push", "-q")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "pipeline")
    # first used: prod, then dev, then stage; the declared order is dev, stage, prod
    sh(root, GTO, "register", "text-classification", "--version", "v0.1.0")
    sh(root, GTO, "assign", "text-classification", "--version", "v0.1.0", "--stage", "prod")
    (root / "src/train.py").write_text(TRAIN + "# v2\n")
    sh(root, "git", "commit", "-q", "-am", "retrain")
    sh(root, GTO, "register", "text-classification", "--version", "v0.2.0")
    for stage in ("dev", "stage"):
        sh(root, GTO, "assign", "text-classification", "--version", "v0.2.0", "--stage", stage)
    # the data lives in the remote only, as in a fresh clone
    shutil.rmtree(root / "data/extra")
    (root / "data/data.csv").unlink()
    (root / "model.pkl").unlink()


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("adopt")
    root, remote = base / "repo", base / "remote"
    root.mkdir()
    remote.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "GIT_AUTHOR_NAME": "Test User",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test User",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "DVC_NO_ANALYTICS": "1",
        }.items():
            mp.setenv(key, value)
        mp.setenv("PATH", f"{Path(sys.executable).parent}:{__import__('os').environ['PATH']}")
        _build(root, remote)
    return root


@pytest.fixture
def repo(_template: Path, tmp_path: Path) -> Project:
    root = tmp_path / "repo"
    shutil.copytree(_template, root, symlinks=True)
    return Project(root=root, remote=_template.parent / "remote")


def _config(repo: Project) -> dict:
    return yaml.safe_load((repo.root / "mlgit.yaml").read_text())


def test_init_adopts_models_datasets_and_stages(repo: Project) -> None:
    before = repo.sh("dvc", "status", "--json").stdout
    result = repo.mlgit("init")
    assert result.exit_code == 0, result.output
    config = _config(repo)
    model = config["models"]["text-classification"]
    assert model["path"] == "model.pkl"
    assert model["metrics"] == "eval/live/metrics.json"  # the stage that reads the model
    assert model["gates"] == []
    assert config["datasets"] == {
        "raw-data": {"path": "data/data.csv"},
        "extra": {"path": "data/extra"},
    }
    assert config["stages"] == ["dev", "stage", "prod"]
    assert "promotion" not in config  # a policy is the user's choice: offered in a comment
    text = (repo.root / "mlgit.yaml").read_text()
    assert "# Detect whether a question should have the R tag" in text
    assert "# labels: nlp, classification" in text
    assert "also: eval/metrics.json" in text
    assert "#     prod: [stage]" in text
    out = result.output
    assert "adopted  model text-classification from dvc.yaml" in out
    assert "adopted  dataset raw-data from dvc.yaml (data/data.csv)" in out
    assert "adopted  dataset extra from data/extra.dvc (data/extra)" in out
    assert "adopted  stages dev, stage, prod from .gto" in out
    assert "no gates (mlgit gate refuses it): add gates" in out
    assert (
        "run `dvc pull data/data.csv` then "
        "`mlgit schema infer data/data.csv -o schemas/raw-data.schema.yaml`" in out
    )
    assert "guess" not in out
    check = repo.mlgit("check-config")
    assert check.exit_code == 0, check.output
    registry = repo.mlgit("registry", "--format", "json")
    assert registry.exit_code == 0, registry.output
    stages = json.loads(registry.output)["models"]["text-classification"]["stages"]
    assert stages == {"dev": "v0.2.0", "stage": "v0.2.0", "prod": "v0.1.0"}
    header = next(ln for ln in repo.mlgit("registry").output.splitlines() if "latest" in ln)
    order = ["dev", "stage", "prod"]
    assert [w for w in header.split() if w in order] == order  # columns in mlgit.yaml's order
    assert repo.sh("dvc", "status", "--json").stdout == before  # DVC's view is unchanged


def test_dry_run_prints_the_file_and_writes_nothing(repo: Project) -> None:
    status = repo.sh("git", "status", "--porcelain").stdout
    result = run_cli(repo.root, "init", "--dry-run")
    assert result.exit_code == 0, result.output
    proposed = yaml.safe_load(result.stdout)
    assert proposed["stages"] == ["dev", "stage", "prod"]
    assert "text-classification" in proposed["models"]
    assert "would write mlgit.yaml" in result.stderr
    assert "dry run: nothing was written" in result.stderr
    assert not (repo.root / "mlgit.yaml").exists()
    assert not (repo.root / ".pre-commit-config.yaml").exists()
    assert repo.sh("git", "status", "--porcelain").stdout == status


def test_dry_run_outside_a_repository_creates_nothing(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "--dry-run")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["stages"] == ["staging", "prod"]
    assert list(tmp_path.iterdir()) == []


def test_a_broken_dvc_yaml_is_named_and_the_rest_is_written(repo: Project) -> None:
    (repo.root / "dvc.yaml").write_text("stages:\n  train:\n    cmd: [unclosed\n")
    result = repo.mlgit("init")
    assert result.exit_code == 0, result.output
    problems = [ln for ln in result.output.splitlines() if ln.startswith("problem")]
    assert len(problems) == 1
    assert problems[0].startswith("problem  dvc.yaml:4: not valid YAML")
    config = _config(repo)
    assert config["stages"] == ["dev", "stage", "prod"]
    assert set(config["datasets"]) == {"data", "extra"}  # from the .dvc files
    assert "text-classification" in config["models"]  # from the tags, path unknown
    assert "path" not in config["models"]["text-classification"]
    check = repo.mlgit("check-config")
    assert check.exit_code == 0, check.output


def test_an_existing_mlgit_yaml_is_kept_unless_forced(repo: Project) -> None:
    mine = "version: 1\nstages: [prod]\n"
    (repo.root / "mlgit.yaml").write_text(mine)
    result = repo.mlgit("init")
    assert result.exit_code == 0, result.output
    assert (repo.root / "mlgit.yaml").read_text() == mine
    assert "kept     mlgit.yaml" in result.output
    assert "adopted" not in result.output
    forced = repo.mlgit("init", "--force")
    assert forced.exit_code == 0, forced.output
    assert _config(repo)["stages"] == ["dev", "stage", "prod"]


def test_stages_only_in_tags_are_ordered_and_the_guess_is_said(repo: Project) -> None:
    (repo.root / ".gto").unlink()
    result = repo.mlgit("init")
    assert result.exit_code == 0, result.output
    assert _config(repo)["stages"] == ["dev", "stage", "prod"]  # not prod first, as used
    assert "order guessed" in (repo.root / "mlgit.yaml").read_text()
    assert "left     stages: the order dev, stage, prod is a guess from the tags" in result.output
    check = repo.mlgit("check-config")
    assert check.exit_code == 0, check.output


def test_names_mlgit_cannot_hold_subfolders_and_artifacts_yaml(repo: Project) -> None:
    repo.write(
        "nlp/dvc.yaml",
        "artifacts:\n  clf:\n    path: clf.pkl\n    type: model\n"
        "  Bad.Name:\n    path: bad.pkl\n    type: model\n"
        "  escape:\n    path: ../../outside.pkl\n    type: model\n"
        "  notes:\n    path: notes.txt\n",
    )
    repo.write("nlp/clf.pkl", "m")
    repo.write("artifacts.yaml", "legacy:\n  type: model\n  path: legacy.pkl\n  description: old\n")
    repo.write("legacy.pkl", "m")
    result = repo.mlgit("init")
    assert result.exit_code == 0, result.output
    models = _config(repo)["models"]
    assert models["nlp:clf"]["path"] == "nlp/clf.pkl"  # GTO's name for it, as in its tags
    assert "metrics" not in models["nlp:clf"]  # nlp/dvc.yaml declares none
    assert "left     model nlp:clf: no metrics file declared: set metrics" in result.output
    assert models["legacy"]["path"] == "legacy.pkl"
    assert not any("bad" in name.lower() or "escape" in name for name in models)
    assert "skipped  model nlp:Bad.Name (nlp/dvc.yaml): not a name mlgit can hold" in result.output
    assert "skipped  nlp/dvc.yaml: artifacts.escape: path ../../outside.pkl leaves" in result.output
    assert "skipped  artifact notes (nlp/dvc.yaml): type None is neither" in result.output
    check = repo.mlgit("check-config")
    assert check.exit_code == 0, check.output
