"""The edge check (``intake.edge``): a NUL anywhere in a query or form field is a 400 before
any view runs, however it is written; text that only looks like one passes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize("query", ["x=%00", "x=a%00b", "%00=x", "x=1&y=%00"])
def test_nul_in_a_query_is_refused(client: FlaskClient, query: str) -> None:
    assert client.get(f"/healthz?{query}").status_code == 400


@pytest.mark.parametrize("body", [b"Body=a%00b", b"a%00=1", b"Body=a\x00b", b"x=1&Body=%00"])
def test_nul_in_a_url_encoded_form_is_refused(client: FlaskClient, body: bytes) -> None:
    """Before the signature is checked (an unsigned webhook would be a 403)."""
    response = client.post("/twilio/sms", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_nul_in_a_multipart_form_is_refused(client: FlaskClient) -> None:
    response = client.post("/twilio/sms", data={"Body": "a\x00b"},
                           content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"Body=%2500", b"Body=100%25+00", b"Body=hello"])
def test_text_that_only_looks_like_a_nul_passes(client: FlaskClient, body: bytes) -> None:
    response = client.post("/twilio/sms", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403  # on to the view, which wants a signature


# Werkzeug raises UnicodeDecodeError on the first ``request.args`` of such a query: it was a
# 500 on every page that reads one (the sign-in page, the worker's report page, the queue).
@pytest.mark.parametrize("path", ["/monitor/login", "/healthz", "/api/v1/queue"])
def test_a_query_that_is_not_utf8_is_refused(client: FlaskClient, path: str) -> None:
    response = client.get(path, environ_overrides={"QUERY_STRING": "next=\xff\xfe"})
    assert response.status_code == 400


def test_a_worker_page_refuses_it_in_the_workers_language(client: FlaskClient) -> None:
    response = client.get("/es/report", environ_overrides={"QUERY_STRING": "q=\xff"})
    assert response.status_code == 400
    assert 'lang="es"' in response.get_data(as_text=True)


def test_a_percent_encoded_byte_that_is_not_utf8_passes(client: FlaskClient) -> None:
    assert client.get("/monitor/login?next=%FF").status_code == 200
