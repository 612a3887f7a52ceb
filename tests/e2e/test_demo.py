"""`make demo` from a fresh start: every step answers as expected and the run ends successfully."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_demo_runs_the_main_job_end_to_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    done = subprocess.run([sys.executable, "-m", "local.demo", "--out-dir", str(tmp_path)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    assert "POST /v1/accounts -> 202" in out
    assert "code of 40 characters" in out
    assert "POST /v1/accounts/confirm -> 200" in out and "account.status: active" in out
    assert "POST /v1/issuers -> 201" in out and "tax_id: 1799999990001" in out
    assert "/certificate -> 200" in out and "status: active" in out
    assert "POST /v1/documents -> 201" in out and "status: authorized" in out
    pdfs, xmls = list(tmp_path.glob("*.pdf")), list(tmp_path.glob("*.xml"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF")
    assert len(xmls) == 1 and b"<estado>AUTORIZADO</estado>" in xmls[0].read_bytes()
    assert "Factura 001-002-" in out  # the customer's email names the document
    # The key is shown shortened, never whole.
    assert "sk_test_" in out and not any(len(tok) > 20 and tok.startswith("sk_test_") for tok in out.split())


def test_demo_runs_for_mexico(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    done = subprocess.run([sys.executable, "-m", "local.demo", "--country", "mx", "--out-dir", str(tmp_path)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    out = done.stdout
    assert "POST /v1/issuers -> 201" in out and "tax_id: EKU9003173C9" in out
    assert "number: 30001000000500000001" in out  # the CSD's NoCertificado
    assert "POST /v1/documents -> 201" in out and "status: authorized" in out
    (xml,) = tmp_path.glob("*.xml")
    assert b"tfd:TimbreFiscalDigital" in xml.read_bytes()
    (pdf,) = tmp_path.glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Factura A-" in out  # the customer's email names the document by serie and folio
