"""The README's shell blocks as a reader runs them: the curl walk-through twice in a row on one local
stack (each run a new account that finds its own code in the outbox), its Spanish twin with the same
commands, what a failing step shows, and the SRI simulator's examples."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
import shutil
import subprocess

import httpx
import pytest

from local.sri.simulator import ADMIN_PATH, BASE_PATH, FAULT_KINDS, SriSimulator
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

README = REPO_ROOT / "README.md"
RUN_TIMEOUT_S = 300
needs_shell = pytest.mark.skipif(not (shutil.which("bash") and shutil.which("curl")),
                                 reason="the README's blocks need bash and curl")


def section(title: str) -> str:
    """The text of the README section with that `## ` title."""
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    """The block without its comments (whole comment lines, and `  # …` after a command, two spaces
    or more before it) and blank lines: what runs."""
    kept = []
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kept.append(re.sub(r"\s{2,}# .*$", "", line))
    return kept


def walkthrough(title: str = "Walk-through with curl") -> str:
    """The section's first shell block: the walk-through itself."""
    return sh_blocks(section(title))[0]


def bash(script: str, env: dict[str, str], timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SELLO_", "MOTO_"))}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=REPO_ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_the_spanish_walkthrough_has_the_same_commands():
    english, spanish = walkthrough(), walkthrough("Recorrido con curl")
    assert commands(spanish) == commands(english)
    assert len(commands(english)) > 30
    assert spanish != english  # the comments are translated, not copied
    for step in range(1, 12):
        assert f"# {step}. " in english and f"# {step}. " in spanish


@needs_shell
def test_the_walkthrough_runs_twice_on_one_stack(local_stack, tmp_path):
    env = {"API": local_stack.api_url, "SRI": local_stack.sri_url.removesuffix(BASE_PATH)}
    # What the block left behind, for the test to check (the reader sees it all printed).
    report = '\necho; echo "RESULT $(curl -sS $API/v1/accounts/me -H "$AUTH" | field account.email) $DOC"\n'
    runs = []
    for run in (1, 2):
        out = tmp_path / f"run{run}"
        done = bash(walkthrough() + report, {**env, "OUT": str(out)})
        assert done.returncode == 0, f"run {run}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr
        email, document_id = re.search(r"^RESULT (\S+) (\S+)$", done.stdout, re.MULTILINE).groups()
        runs.append((email, document_id))
        assert re.search(r"^authorized$", done.stdout, re.MULTILINE), done.stdout[-2000:]
        assert (out / "factura.pdf").read_bytes().startswith(b"%PDF")
        assert b"<estado>AUTORIZADO</estado>" in (out / "factura.xml").read_bytes()
        assert (out / "demo.p12").exists()
    (first_email, first_doc), (second_email, second_doc) = runs
    assert first_email != second_email and first_doc != second_doc  # a second account, its own code
    for email in (first_email, second_email):
        # Each account got its own confirmation code, in Spanish (an account's default language).
        assert any(m["to"] == email and "código" in m["text"].lower() for m in local_stack.outbox())


@needs_shell
def test_the_mexican_walkthrough_stamps_a_cfdi(local_stack, tmp_path):
    done = bash(walkthrough("Walk-through with curl: Mexico"), {"API": local_stack.api_url, "OUT": str(tmp_path)})
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    assert re.search(r"^authorized$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    uuid = re.search(r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27})$", done.stdout, re.MULTILINE).group(1)
    cfdi = (tmp_path / "cfdi.xml").read_bytes()
    assert b"TimbreFiscalDigital" in cfdi and uuid.encode() in cfdi
    assert (tmp_path / "cfdi.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "csd.cer").exists() and (tmp_path / "csd.key").exists()
    # The CFDI sealed elsewhere was stamped too: the same seal, now with its TFD.
    assert re.search(r"^stamped: authorized$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    sealed, stamped = (tmp_path / "externo.xml").read_bytes(), (tmp_path / "externo-timbrado.xml").read_bytes()
    assert b"TimbreFiscalDigital" not in sealed and b"TimbreFiscalDigital" in stamped
    seal = re.search(rb' Sello="([^"]+)"', sealed).group(1)
    assert seal in stamped
    # Step 8: a PPD invoice, a payment receipt for 5,000.00 of it, and the balance left.
    assert re.search(r"^payment authorized$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    pago = (tmp_path / "pago.xml").read_bytes()
    assert b'TipoDeComprobante="P"' in pago and b'ImpPagado="5000.00"' in pago and b"TimbreFiscalDigital" in pago
    assert (tmp_path / "pago.pdf").read_bytes().startswith(b"%PDF")
    total = re.search(rb'ImpSaldoAnt="([0-9.]+)"', pago).group(1).decode()
    assert re.search(rf"^{Decimal(total) - 5000}$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    # Steps 9 and 10: the first CFDI replaced by a substitute and cancelled with motive 01.
    assert re.search(r"^pending$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    assert re.search(r"^cancellation accepted$", done.stdout, re.MULTILINE), done.stdout[-2000:]
    acuse = (tmp_path / "acuse.xml").read_bytes()
    assert b"cancelacfd.sat.gob.mx" in acuse and uuid.encode() in acuse
    assert (tmp_path / "cfdi-cancelado.pdf").read_bytes().startswith(b"%PDF")


@needs_shell
def test_the_store_walkthrough_issues_one_invoice_per_order_and_a_credit_note(local_stack, tmp_path):
    """The Ecuador walk-through, then the store's block in the same shell, as the README says to run it."""
    (block, *_) = sh_blocks(section("Connecting a store"))
    env = {"API": local_stack.api_url, "SRI": local_stack.sri_url.removesuffix(BASE_PATH), "OUT": str(tmp_path)}
    done = bash(walkthrough() + "\n" + block, env)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines.count('{"status": "received"}') == 3  # the order twice, then its refund
    assert "401" in lines and "store order authorized" in lines and "document.authorized" in lines
    [order] = json.loads(lines[-1])["data"]
    assert (order["id"], order["status"], len(order["document_ids"])) == ("5901234567890", "credited", 2)


@needs_shell
def test_a_failing_step_shows_the_apis_answer_not_a_traceback(local_stack):
    """Step 3 with a wrong code: curl names the status, the API's error is shown, the script stops."""
    block = walkthrough()
    prelude, rest = block.split("\n# 1. ", 1)
    step3 = "# 3. " + rest.split("\n# 3. ", 1)[1].split("\n# 4. ", 1)[0]
    done = bash(f"{prelude}\nCODE=not-the-code\n{step3}\necho unreachable\n", {"API": local_stack.api_url},
                timeout=60)
    assert done.returncode != 0 and "unreachable" not in done.stdout
    assert "Traceback" not in done.stderr
    assert "The requested URL returned error: 4" in done.stderr
    shown = done.stderr.split("no api_key.key in the answer:", 1)[1].strip()
    assert json.loads(shown)["error"]["code"] in ("invalid_value", "invalid_confirmation_code")


@needs_shell
def test_the_simulators_documented_examples_are_accepted(tmp_path):
    text = section("The local SRI simulator")
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE))
    assert set(FAULT_KINDS) <= documented
    assert {"processing_polls", "faults", "reject_next", "hold_seconds"} <= documented
    (block,) = sh_blocks(text)
    lines = commands(block)
    setup, examples = lines[0], []
    for line in lines[1:]:  # a command, with its continuation lines
        if examples and examples[-1].endswith("\\"):
            examples[-1] += "\n" + line
        else:
            examples.append(line)
    assert len(examples) >= 6
    with SriSimulator(verify_signature=False) as sri:
        base = sri.url.removesuffix(BASE_PATH)
        for example in examples:
            done = bash(setup + "\n" + example, {"SRI": base}, timeout=60)
            assert done.returncode == 0, (example, done.stdout, done.stderr)
            state = json.loads(done.stdout)
            body = re.search(r"-d '(.*)'", example)
            if body is None:
                continue
            config = json.loads(body.group(1))  # each example's body is what it claims to set
            if "processing_polls" in config:
                assert state["processing_polls"] == config["processing_polls"]
            if "hold_seconds" in config:
                assert state["hold_seconds"] == config["hold_seconds"]
            if "faults" in config:
                expected = [{"service": f.get("service", "both"), "kind": f["kind"]}
                            for f in config["faults"] for _ in range(f.get("count", 1))]
                assert state["faults"] == expected
            if "reject_next" in config:
                assert [r["code"] for r in state["reject_next"]] == [r.get("code", "52")
                                                                     for r in config["reject_next"]]
        after = httpx.get(f"{base}{ADMIN_PATH}/state", trust_env=False).json()
        assert (after["faults"], after["reject_next"], after["processing_polls"]) == ([], [], 0)  # reset
