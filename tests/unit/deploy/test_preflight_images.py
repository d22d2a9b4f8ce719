from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from sophia_platform.deploy.preflight import check_images
from sophia_platform.deploy.target import resolve
from sophia_platform.spec import load_spec

from .conftest import DEPLOY_SPEC


def _spec(tmp_path: Path, tag: str | None) -> Path:
    yaml = YAML()
    data = yaml.load(DEPLOY_SPEC.read_text())
    if tag is None:
        del data["services"]["worker"]["tag"]
    else:
        data["services"]["worker"]["tag"] = tag
    path = tmp_path / "sophia.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def test_latest_is_refused_in_production_only(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, None))  # no tag: the image would be :latest
    prod = check_images(spec, resolve(spec, "production"), None)
    assert not prod.ok and "worker" in prod.detail and "--image-tag" in prod.detail
    assert check_images(spec, resolve(spec, "local"), None).ok
    # an explicit release tag pins every image of ours
    assert check_images(spec, resolve(spec, "production"), "2.0.0").ok


def test_explicit_latest_tag_is_refused(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, "latest"))
    assert not check_images(spec, resolve(spec, "production"), None).ok
    assert not check_images(spec, resolve(spec, "production"), "latest").ok
