"""Request logs carry method, route template, status and duration — nothing a person sent."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

CANARIES = {
    "body": "CANARY-BODY-my-boss-took-my-passport",
    "query": "CANARY-QUERY-7731",
    "ip": "203.0.113.77",
    "user_agent": "CANARY-UA-KaiOS/2.5",
    "phone": "+60123456789",
    "forwarded": "198.51.100.23",
}


def test_request_log_holds_no_body_query_ip_agent_or_number(
    app: Flask, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    client = app.test_client()
    headers = {"User-Agent": CANARIES["user_agent"], "X-Forwarded-For": CANARIES["forwarded"]}
    environ = {"REMOTE_ADDR": CANARIES["ip"]}
    with caplog.at_level(logging.DEBUG):
        client.get(f"/healthz?q={CANARIES['query']}&from={CANARIES['phone']}",
                   headers=headers, environ_base=environ)
        client.post("/healthz", data={"Body": CANARIES["body"], "From": CANARIES["phone"]},
                    headers=headers, environ_base=environ)
        client.post(f"/no/such/page?x={CANARIES['query']}",
                    data={"Body": CANARIES["body"]}, headers=headers, environ_base=environ)
    captured = caplog.text + "".join(r.getMessage() for r in caplog.records)
    captured += json.dumps([r.__dict__ for r in caplog.records], default=str)
    out = capsys.readouterr()
    captured += out.out + out.err
    for name, canary in CANARIES.items():
        assert canary not in captured, name
    request_lines = [r for r in caplog.records if r.name == "intake.request"]
    assert len(request_lines) == 3
    assert {r.__dict__["route"] for r in request_lines} == {"/healthz", "<unmatched>"}
    assert {r.__dict__["status"] for r in request_lines} == {200, 405, 404}


def test_request_log_line_is_json_with_only_safe_fields(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    from intake.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="intake.request"):
        app.test_client().get("/healthz")
    record = next(r for r in caplog.records if r.name == "intake.request")
    line = json.loads(JsonFormatter().format(record))
    assert set(line) == {"level", "logger", "msg", "method", "route", "status", "duration_ms"}
    assert line["route"] == "/healthz" and line["status"] == 200
