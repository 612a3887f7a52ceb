"""The dependency layer: which locked packages go in, and (the one slow infra test) a real
synthesis with local bundling that pip-installs the linux/arm64 cp313 wheels."""

from __future__ import annotations

import re

import pytest

from tests.infra.conftest import synthesize

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# What pip prints when it cannot reach the package index (as opposed to a wrong requirement).
OFFLINE = re.compile(r"NewConnectionError|Failed to establish a new connection|ConnectTimeoutError|"
                     r"Temporary failure in name resolution|Network is unreachable|ProxyError")


def test_runtime_requirements_drop_what_the_lambda_runtime_ships():
    from infra.layer import runtime_requirements

    exported = """\
aws-lambda-powertools==3.37.0
    # via sello
boto3==1.44.5
botocore==1.44.5
cffi==2.1.1 ; platform_python_implementation != 'PyPy'
jmespath==1.1.0
python-dateutil==2.9.0.post0
pydantic-core==2.50.4
s3transfer==0.19.3
six==1.17.0
urllib3==2.8.0
"""
    assert runtime_requirements(exported) == [
        "aws-lambda-powertools==3.37.0",
        "cffi==2.1.1 ; platform_python_implementation != 'PyPy'",
        "pydantic-core==2.50.4",
    ]


def _executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_uv(tmp_path, monkeypatch):
    """No uv anywhere: $UV unset, an empty PATH, the repository bootstrap under tmp_path."""
    from infra import layer

    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(layer, "LOCAL_UV", tmp_path / "repo" / ".tools" / "bin" / "uv")
    return layer


def test_uv_is_found_on_path_first_then_in_the_makefile_bootstrap(no_uv, tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match=r"neither on PATH nor at .*\.tools/bin/uv"):
        no_uv.find_uv()
    bootstrap = _executable(no_uv.LOCAL_UV)
    assert no_uv.find_uv() == str(bootstrap)
    on_path = _executable(tmp_path / "empty" / "uv")
    assert no_uv.find_uv() == str(on_path)
    monkeypatch.setenv("UV", "/opt/uv-from-uv-run")
    assert no_uv.find_uv() == "/opt/uv-from-uv-run"


def test_the_bootstrap_location_is_the_one_the_makefile_uses():
    from infra.layer import LOCAL_UV, ROOT

    makefile = (ROOT / "Makefile").read_text()
    relative = LOCAL_UV.relative_to(ROOT).as_posix()
    assert re.search(rf"^{re.escape(relative)}:", makefile, re.MULTILINE), relative
    assert f"|| echo {relative}" in makefile


@pytest.mark.slow
def test_real_synthesis_builds_an_arm64_layer_with_sello(tmp_path):
    """Slow (pip downloads about 20 MB of wheels on a cold cache): the layer exactly as deployed."""
    try:
        _, template = synthesize(tmp_path, bundle=True)
    except RuntimeError as exc:
        offline = OFFLINE.search(str(exc))
        if offline:
            pytest.skip(f"pip cannot reach the package index to build the layer: {offline[0]}")
        raise
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    asset = tmp_path / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}" / "python"
    assert (asset / "sello" / "__init__.py").is_file()
    assert (asset / "sello" / "catalog.py").is_file()
    # Data files of the package travel with it: Ecuador's trusted certification authorities.
    assert len(list((asset / "sello" / "countries" / "ec" / "trust").glob("*.pem"))) >= 40
    native = [p.name for p in asset.rglob("*.so")]
    assert any(re.fullmatch(r"_pydantic_core\.cpython-313-aarch64-linux-gnu\.so", n) for n in native), native
    assert any(n.endswith("cpython-313-aarch64-linux-gnu.so") for n in native if n.startswith("etree"))
    assert not [n for n in native if "x86_64" in n]
    for shipped_by_runtime in ("boto3", "botocore", "s3transfer", "urllib3"):
        assert not (asset / shipped_by_runtime).exists(), shipped_by_runtime
    assert not list(asset.rglob("__pycache__"))
