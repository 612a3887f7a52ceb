"""The one Lambda layer: the `sello` package plus its third-party dependencies, built for
python3.13 on arm64 without Docker (pip downloads the matching manylinux wheels), with the bytecode
of every module compiled by CPython 3.13 (infra/compile_bytecode.mjs): /opt is read-only on Lambda,
so a layer without bytecode is compiled from source again on every cold start."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "layers"
PACKAGE = LAYERS / "sello"
LOCK_FILE = ROOT / "uv.lock"

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
RUNTIME_PATH = "/opt/python"  # where Lambda puts a layer's python/ folder
HANDLER_PATH = "/var/task"  # where Lambda puts a function's code
# The bytecode compiler: CPython 3.13 as WebAssembly (npm package `pyodide`, pinned in package.json),
# run by Node, which the CDK needs anyway. Bytecode is platform independent; only the version counts.
COMPILER = ROOT / "infra" / "compile_bytecode.mjs"
NODE_MODULES = ROOT / "node_modules"
# Wheels only, for the Lambda platform whatever the build machine is; no resolution (the lock is complete).
PIP_INSTALL = (sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", "3.13", "--platform", "manylinux2014_aarch64",
               "--platform", "manylinux_2_28_aarch64")
UV_EXPORT = ("export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header",
             "--color", "never")
# Shipped by the python3.13 runtime itself: leaving them out keeps the layer small.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil",
                              "six"})
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def prune_locale_data(target: Path) -> int:
    """Removes Babel's CLDR data of the locales no supported language uses (about 30 of its 34 MB),
    keeping `root` and every regional variant of sello.i18n.LANGUAGES. Returns how many files went."""
    from sello.i18n import LANGUAGES

    keep = re.compile(rf"^(root|{'|'.join(LANGUAGES)})([_.]|$)")
    removed = 0
    for data in (target / "babel" / "locale-data").glob("*.dat"):
        if not keep.match(data.name):
            data.unlink()
            removed += 1
    return removed


def runtime_requirements(exported: str) -> list[str]:
    """The pinned lines of `uv export` output, minus what the runtime ships."""
    keep = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0]
        if re.sub(r"[-_.]+", "-", name).lower() not in RUNTIME_PROVIDED:
            keep.append(line)
    return keep


def source_hash() -> str:
    """Changes whenever the lock file, the package source or the build itself changes."""
    digest = hashlib.sha256()
    files = [LOCK_FILE, Path(__file__), COMPILER] + sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                                      and p.suffix != ".pyc")
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


LOCAL_UV = ROOT / ".tools" / "bin" / "uv"  # where `make install` bootstraps uv when none is on PATH


def find_uv() -> str:
    """The uv that `make` uses: `uv run`'s own ($UV), else the one on PATH, else the Makefile's
    bootstrap in the repository."""
    uv = os.environ.get("UV") or shutil.which("uv") or shutil.which(LOCAL_UV.name, path=str(LOCAL_UV.parent))
    if not uv:
        raise RuntimeError("building the Lambda layer needs uv (to export the locked dependencies), found "
                           f"neither on PATH nor at {LOCAL_UV}; `make install` installs it there")
    return uv


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def compile_bytecode(folder: Path, runtime_path: str = RUNTIME_PATH) -> None:
    """Writes the CPython 3.13 bytecode of every module under `folder` (unchecked-hash .pyc files,
    valid whatever the files' timestamps become), naming the sources by their path on Lambda,
    `runtime_path`."""
    node = shutil.which("node")
    if not node or not (NODE_MODULES / "pyodide").is_dir():
        raise RuntimeError("compiling the Lambda bytecode needs Node and the npm package pyodide "
                           f"in {NODE_MODULES}; `make install` (npm ci) installs it")
    _run([node, str(COMPILER), str(folder), runtime_path])


@jsii.implements(ILocalBundling)
class PipBundling:
    """Local bundling: `uv export` the locked runtime dependencies, pip-install their linux/arm64
    cp313 wheels into <out>/python, copy the sello package next to them, then compile it all."""

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:  # options: nothing to read
        target = Path(output_dir) / "python"
        exported = _run([find_uv(), *UV_EXPORT])
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("\n".join(runtime_requirements(exported)) + "\n")
            _run([*PIP_INSTALL, "--target", str(target), "-r", str(requirements)])
        prune_locale_data(target)
        shutil.copytree(PACKAGE, target / "sello", ignore=IGNORED, dirs_exist_ok=True)
        compile_bytecode(target)
        return True


class DependencyLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(
            str(LAYERS),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=source_hash(),
            bundling=BundlingOptions(image=RUNTIME.bundling_image, local=PipBundling()),
        )
        self.layer = lambda_.LayerVersion(
            self, "Layer",
            code=code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="sello package and its third-party dependencies (linux arm64, python3.13, "
                        "with bytecode)",
        )
