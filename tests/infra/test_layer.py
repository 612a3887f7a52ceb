"""The dependency layer: which locked packages go in, its bytecode, and (the one slow infra test) a
real synthesis with local bundling that pip-installs the linux/arm64 cp313 wheels and compiles them."""

from __future__ import annotations

import re

import pytest

from tests.infra.conftest import synthesize

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# What pip prints when it cannot reach the package index (as opposed to a wrong requirement).
# The first bytes of every .pyc CPython 3.13 writes and reads (its MAGIC_NUMBER, 3571, the same for every
# 3.13 release), and the flags of a hash-based .pyc whose source is never checked.
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01

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


def test_babel_keeps_the_locale_data_of_the_supported_languages_only(tmp_path):
    from infra.layer import prune_locale_data

    data = tmp_path / "babel" / "locale-data"
    data.mkdir(parents=True)
    names = ["root.dat", "es.dat", "es_EC.dat", "es_419.dat", "en.dat", "en_001.dat", "fr.dat", "et.dat",
             "eo.dat", "ee_GH.dat"]
    for name in names:
        (data / name).write_bytes(b"")
    assert prune_locale_data(tmp_path) == 4
    assert sorted(p.name for p in data.iterdir()) == ["en.dat", "en_001.dat", "es.dat", "es_419.dat", "es_EC.dat",
                                                       "root.dat"]


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
    """Slow (pip downloads about 20 MB of wheels on a cold cache): the layer and the handlers' code
    exactly as deployed."""
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
    # The compiled catalogs and the email template; Babel's data for the supported languages only.
    assert (asset / "sello" / "locale" / "es" / "LC_MESSAGES" / "sello.mo").is_file()
    assert (asset / "sello" / "templates" / "document_email.html").is_file()
    assert (asset / "babel" / "locale-data" / "es_EC.dat").is_file()
    assert not (asset / "babel" / "locale-data" / "fr.dat").exists()
    native = [p.name for p in asset.rglob("*.so")]
    assert any(re.fullmatch(r"_pydantic_core\.cpython-313-aarch64-linux-gnu\.so", n) for n in native), native
    assert any(n.endswith("cpython-313-aarch64-linux-gnu.so") for n in native if n.startswith("etree"))
    assert not [n for n in native if "x86_64" in n]
    for shipped_by_runtime in ("boto3", "botocore", "s3transfer", "urllib3"):
        assert not (asset / shipped_by_runtime).exists(), shipped_by_runtime
    # What the RIDE and the logos need at run time: its fonts, Babel's locale data for the locales it
    # formats, Pillow and reportlab's accelerator built for the runtime.
    assert (asset / "pymupdf_fonts" / "NotoSans_Regular.py").is_file()
    assert (asset / "pymupdf_fonts" / "FiraGO_Bold.py").is_file()
    locale_data = {p.name for p in (asset / "babel" / "locale-data").iterdir()}
    assert {"es_EC.dat", "es.dat", "en.dat", "root.dat"} <= locale_data
    assert any(n.startswith("_imaging.cpython-313-aarch64-linux-gnu") for n in native), native
    (accelerator,) = asset.rglob("_rl_accel*.so")  # abi3: the name carries no platform, the ELF header does
    assert int.from_bytes(accelerator.read_bytes()[18:20], "little") == 183  # EM_AARCH64
    # Lambda's limit on a function and its layers unzipped is 250 MB; the layer leaves room for the code.
    size = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
    assert size < 200 * 1024 * 1024, size
    print(f"layer unzipped: {size / 1024 / 1024:.1f} MB")
    sources = list(asset.rglob("*.py"))
    assert len(sources) > 500
    for source in sources:  # pydantic, Powertools, lxml's Python parts, sello: all compiled for 3.13
        assert_runtime_bytecode(source)
    assert {p.name.split(".")[-2] for p in asset.rglob("*.pyc")} == {"cpython-313"}
    # The handlers' own code, in every function's asset, compiled the same way for /var/task.
    keys = {r["Properties"]["Code"]["S3Key"] for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function" and "S3Key" in r["Properties"].get("Code", {})}
    (handlers,) = [tmp_path / f"asset.{key.removesuffix('.zip')}" for key in keys
                   if (tmp_path / f"asset.{key.removesuffix('.zip')}" / "api" / "documents.py").is_file()]
    sources = list(handlers.rglob("*.py"))
    assert len(sources) > 20
    for source in sources:
        assert_runtime_bytecode(source)
    assert b"/var/task/api/documents.py" in (handlers / "api" / "__pycache__" / "documents.cpython-313.pyc").read_bytes()


def assert_runtime_bytecode(source):
    """`source` has bytecode the python3.13 runtime loads as it is: its cache file, its magic number,
    and an unchecked hash (valid whatever timestamps copying gives the files)."""
    from infra.layer import RUNTIME

    assert RUNTIME.name == "python3.13"
    pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
    assert pyc.is_file(), source
    header = pyc.read_bytes()[:16]
    assert header[:4] == MAGIC_313, (source, header[:4])
    assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, source


def test_bytecode_is_compiled_by_python_313_for_the_runtime_path(tmp_path):
    """The compiler the layer build runs (CPython 3.13 on Node): 3.13 bytecode of every module,
    unchecked hashes, and the sources named by their path on Lambda (tracebacks show /opt/python/...)."""
    from infra.layer import RUNTIME_PATH, compile_bytecode

    package = tmp_path / "python" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("def where():\n    return where.__code__.co_filename\n"
                                    "match 1:\n    case 1:\n        VALUE = 313\n")
    compile_bytecode(tmp_path / "python")
    for source in package.glob("*.py"):
        assert_runtime_bytecode(source)
    data = (package / "__pycache__" / "mod.cpython-313.pyc").read_bytes()
    assert f"{RUNTIME_PATH}/pkg/mod.py".encode() in data
    assert str(tmp_path).encode() not in data
