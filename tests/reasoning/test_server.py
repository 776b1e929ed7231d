"""The clinic-server engine against a real llama.cpp server (llama-cpp-python's OpenAI server,
started by tests/clinic_server.py with an API key on a loopback port, serving a tiny random
Llama written as GGUF): identity, scores that agree with the in-process engine, the full ddx
path with leave-one-out evidence, the streamed and cited rationale, four concurrent clients,
a model swapped under the server, and HTTPS with a clinic CA."""

from __future__ import annotations

import json

import numpy as np
import pytest

from osler.findings import Finding, Provenance
from osler.reasoning.case import CaseInput
from osler.reasoning.engines import NaiveBayesEngine
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.server.client import ServerClient
from osler.reasoning.server.config import ServerConfig
from osler.reasoning.server.engine import ServerEngine
from osler.reasoning.server.errors import ServerTLSError
from osler.reasoning.server.identity import ECHO, identify
from osler.reasoning.service import DdxService
from tests.clinic_server import LlamaServer, free_port, run_windows, write_gguf
from tests.fault_proxy import FaultProxy

pytestmark = pytest.mark.slow


def config(server, **kw) -> ServerConfig:
    return ServerConfig.build(server.url, kw.pop("api_key", server.api_key), **kw)


def engine(kb, server, **kw) -> ServerEngine:
    m = KBMatrix.from_kb(kb)
    return ServerEngine(config(server, **kw), m, kb, base=NaiveBayesEngine(m, prior_exponent=0.5),
                        propose=False)


def findings() -> list[Finding]:
    return [
        Finding("shortness-of-breath", "Shortness of breath", True,
                Provenance("DocumentReference/n1", (10, 29), "short of breath")),
        Finding("fever", "Fever", False, Provenance("Observation/t1")),
        Finding("chest-pain", "Chest pain", True, Provenance("DocumentReference/n1", (40, 50))),
    ]


VALID = {"DocumentReference/n1", "Observation/t1", "shortness-of-breath", "fever", "chest-pain"}


def test_identity_names_server_model_and_weights_never_the_key(clinic_server):
    ident = identify(ServerClient(config(clinic_server)))
    assert ident.software == "llama-cpp-python 0.3.36" and ident.mode == ECHO
    assert ident.weights_file == "tiny-llama-F32.gguf" and ident.quantization == "F32"
    block = ident.model_info().to_json()
    assert block["kind"] == "server" and block["server"] == clinic_server.url
    assert block["weights"] == "tiny-llama-F32.gguf" and block["logprobs"] == "echo"
    assert clinic_server.api_key not in json.dumps(block)
    assert clinic_server.api_key not in repr(config(clinic_server))


def test_server_scores_agree_with_the_in_process_engine(kb, tiny_models, clinic_server):
    """Same weights, same prompts: the server's candidate probabilities equal the local LLM's."""
    from osler.reasoning.llm.engine import LLMEngine

    m = KBMatrix.from_kb(kb)
    base = NaiveBayesEngine(m, prior_exponent=0.5)
    local = LLMEngine(tiny_models.hf_dir, m, kb, device="cpu", quantization="none", base=base,
                      propose=False)
    remote = ServerEngine(config(clinic_server), m, kb, base=base, propose=False)
    cases = [CaseInput.build(58, "male", {"shortness-of-breath": "+", "chest-pain": "+",
                                          "fever": "-"}),
             CaseInput.build(30, "female", {"cough": "+", "wheezing": "+"})]
    a, b = local.predict(cases), remote.predict(cases)
    assert np.abs(a - b).max() < 1e-4
    assert not np.allclose(a, base.predict(cases))  # the LLM really re-ranked


def test_full_ddx_with_leave_one_out_evidence_and_streamed_cited_rationale(kb, clinic_server):
    eng = engine(kb, clinic_server)
    svc = DdxService(kb, eng)
    tokens: list[str] = []
    diff = svc.run_findings(findings(), 58, "male", top=4, patient_id="p1", rationale=True,
                            on_token=tokens.append)
    assert diff.model.kind == "server" and diff.model.to_json()["server"] == clinic_server.url
    # Evidence is leave-one-out re-scoring by the server: the batch of runs, sent as
    # concurrent requests, equals each run scored alone, and leaving a finding out moves the
    # candidates' probabilities by exactly what the differential's evidence says.
    from osler.reasoning.explain import logit

    m = svc.m
    eng.prepare(diff.case, findings(), None, None)
    runs = [diff.case] + [diff.case.without(fid) for fid, _ in diff.case.findings]
    batch = eng.predict(runs)
    alone = np.stack([eng.predict([r])[0] for r in runs])
    assert np.abs(batch - alone).max() < 1e-9
    for k in range(1, len(runs)):
        assert np.abs(batch[0] - batch[k]).max() > 0, "leaving a finding out changes scores"
    for d in diff.diagnoses:
        ci = m.cond_index[d.condition_id]
        for e in d.evidence_for + d.evidence_against:
            if e.state != "demographic":
                k = 1 + [fid for fid, _ in diff.case.findings].index(e.finding_id)
                assert abs(e.weight - float(logit(batch[0, ci]) - logit(batch[k, ci]))) < 1e-6
    r = diff.rationale
    assert r is not None and "error" not in r and len(r["diagnoses"]) == 3
    streamed = json.loads("".join(tokens))  # the stream is itself valid JSON
    assert [d["diagnosis"] for d in streamed["diagnoses"]] == [d.name for d in
                                                                 diff.diagnoses[:3]]
    for d in r["diagnoses"]:
        assert set(d["citations"]) <= VALID  # the grammar only allows ids from the prompt
    assert r["citations_dropped"] == 0


def test_audit_entries_name_the_server_and_weights(kb, clinic_server):
    from osler.audit.override import OverrideRecord

    diff = DdxService(kb, engine(kb, clinic_server)).run_findings(findings(), 58, "male",
                                                                 top=3, patient_id="p1")
    record = OverrideRecord.from_ddx(diff.to_json(), action="accept", clinician_id="dr-a",
                                     patient_id="p1", rank=1)
    assert record.model["server"] == clinic_server.url
    assert record.model["weights"] == "tiny-llama-F32.gguf"
    assert record.model["device"] == "server" and record.model["quantization"] == "F32"
    assert clinic_server.api_key not in json.dumps(record.model)


def test_invalid_citations_are_dropped_and_counted(kb, clinic_server):
    """A server that ignores the grammar and cites ids that do not exist: they are dropped
    and counted; valid ones are kept."""
    proxy = FaultProxy(("127.0.0.1", clinic_server.port))

    def invent(_path, request, answer):
        if request.get("prompt", "").endswith('"citations": ['):
            answer["choices"][0]["text"] = '"fever", "Observation/invented", "fever"]'
        return answer

    try:
        proxy.set(rewrite=invent)
        eng = engine(kb, proxy_server(clinic_server, proxy))
        svc = DdxService(kb, eng)
        diff = svc.run_findings(findings(), 58, "male", top=3, rationale=True)
    finally:
        proxy.close()
    r = diff.rationale
    assert all(d["citations"] == ["fever"] for d in r["diagnoses"])
    assert r["citations_kept"] == 3 and r["citations_dropped"] == 6
    assert "Observation/invented" in r["dropped"]


class proxy_server:
    def __init__(self, server, proxy):
        self.url, self.api_key = proxy.url, server.api_key


def test_four_concurrent_clients_never_mix(kb, clinic_server):
    """Four windows at once, each with its own engine: every result is exactly what that
    window's case gives alone, and each window's stream holds only its own rationale."""
    cases = [(findings(), 58, "male"),
             ([Finding("cough", "Cough", True, Provenance("DocumentReference/a")),
               Finding("fever", "Fever", True, Provenance("Observation/b"))], 30, "female"),
             ([Finding("headache", "Headache", True, Provenance("DocumentReference/c")),
               Finding("neck-stiffness", "Neck stiffness", True, Provenance())], 22, "male"),
             ([Finding("wheezing", "Wheezing", True, Provenance("DocumentReference/d"))],
              12, "female")]
    alone = []
    for f, age, sex in cases:
        d = DdxService(kb, engine(kb, clinic_server)).run_findings(f, age, sex, top=3)
        alone.append([(x.name, x.probability) for x in d.diagnoses])
    results, streams = run_windows(lambda: DdxService(kb, engine(kb, clinic_server)), cases,
                                   top=3, rationale=True)
    for i in range(4):
        d = results[i]
        assert not isinstance(d, Exception), d
        # equal up to float noise: llama.cpp reuses cached prompt prefixes differently when
        # requests interleave; another window's case would give a different list entirely
        assert [x.name for x in d.diagnoses] == [n for n, _ in alone[i]]
        assert np.allclose([x.probability for x in d.diagnoses], [p for _, p in alone[i]],
                           rtol=1e-2, atol=1e-6)
        doc = json.loads("".join(streams[i]))
        assert [x["diagnosis"] for x in doc["diagnoses"]] == [x.name for x in d.diagnoses[:3]]


def test_a_model_swapped_under_the_server_is_noticed(kb, tiny_models, tmp_path):
    """Same port, same model name, other weights: the next differential says so and its
    model block carries the new identity."""
    port = free_port()
    first = LlamaServer(tiny_models.gguf, port=port, extra=("--model_alias", "clinic-llm"),
                        log=tmp_path / "a.log").start()
    try:
        eng = engine(kb, first)
        svc = DdxService(kb, eng)
        before = svc.run_findings(findings(), 58, "male", top=3)
        assert not any("answers differently" in w for w in before.warnings)
    finally:
        first.stop()
    other = write_gguf(tiny_models.hf_dir, tmp_path / "tiny-llama-F32.gguf", perturb=0.5)
    second = LlamaServer(other, port=port, api_key=first.api_key,
                         extra=("--model_alias", "clinic-llm"), log=tmp_path / "b.log").start()
    try:
        after = svc.run_findings(findings(), 58, "male", top=3)
    finally:
        second.stop()
    assert any("answers differently" in w for w in after.warnings), after.warnings
    assert after.model.to_json()["probe"] != before.model.to_json()["probe"]


def test_https_with_a_clinic_ca_bundle(kb, tiny_models, tmp_path):
    """Certificate verification is on: the clinic's CA bundle makes it pass; without it the
    server is refused with the reason."""
    ca, cert, key = make_clinic_ca(tmp_path)
    server = LlamaServer(tiny_models.gguf, scheme="https", log=tmp_path / "tls.log",
                         extra=("--ssl_keyfile", str(key), "--ssl_certfile", str(cert)))
    server.start(ca_file=ca)
    try:
        with pytest.raises(ServerTLSError, match="not trusted"):
            identify(ServerClient(config(server)))
        ident = identify(ServerClient(config(server, ca_bundle=ca)))
        assert ident.origin == server.url and ident.mode == ECHO
        diff = DdxService(kb, engine(kb, server, ca_bundle=ca)).run_findings(
            findings(), 58, "male", top=2)
        assert diff.model.to_json()["server"].startswith("https://")
    finally:
        server.stop()


def make_clinic_ca(folder):
    """A clinic CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Clinic CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                            False, False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths
