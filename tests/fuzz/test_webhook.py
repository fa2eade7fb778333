"""The Twilio webhook with arbitrary field values, each correctly signed: a 400 or TwiML,
never a 5xx."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from flask import Flask
from hypothesis import given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from intake.settings import Settings
from tests.fuzz.conftest import Recorder, sized_text
from tests.sms.conftest import MY_NUMBER, Phone, new_sid
from tests.web.conftest import World

EXAMPLES = 150

number_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A(whatsapp:)?\+?[0-9 ()\-]{0,20}\Z"),
    st.sampled_from([MY_NUMBER, f"whatsapp:{MY_NUMBER}", "+60123456789", "whatsapp:+60"]),
)
fields_body = st.one_of(sized_text(2000), st.sampled_from(["REPORT", "STOP", "HELP"]))
fields_media = st.one_of(st.text(max_size=12), st.integers().map(str))
fields = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": st.one_of(sized_text(60), st.builds(new_sid)),
        "From": number_like,
        "To": number_like,
        "Body": fields_body,
        "NumMedia": fields_media,
        "MediaUrl0": st.text(max_size=40),
    },
)


def test_signed_webhook_with_arbitrary_fields_answers_400_or_twiml(
    app: Flask, settings: Settings, sms_world: World, record_cases: Recorder
) -> None:
    phone = Phone(app.test_client(), settings)
    senders = itertools.count()
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(fields, st.booleans())
    def run(params: dict[str, str], fresh_sender: bool) -> None:
        nonlocal seen
        seen += 1
        if fresh_sender and "From" in params:  # a new sender each time, below any limit
            params["From"] = f"+6012{next(senders):07d}"
        response = phone.post(params)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 400), (response.status_code, params, body)
        if response.status_code == 200:
            assert response.mimetype == "application/xml"
            assert ET.fromstring(body).tag == "Response"  # noqa: S314 - our own answer

    run()
    record_cases("sms webhook", seen, EXAMPLES)



def test_signed_webhook_from_a_real_phone_with_arbitrary_fields_answers_400_or_twiml(
    app: Flask, settings: Settings, sms_world: World, record_cases: Recorder
) -> None:
    """From and To are real numbers, so every case reaches the conversation."""
    phone = Phone(app.test_client(), settings)
    senders = itertools.count()
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.fixed_dictionaries({"MessageSid": st.one_of(sized_text(60), st.builds(new_sid)),
                                  "Body": fields_body, "NumMedia": fields_media}))
    def run(params: dict[str, str]) -> None:
        nonlocal seen
        seen += 1
        params.update(From=f"+6012{next(senders):07d}", To=MY_NUMBER)
        response = phone.post(params)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 400), (response.status_code, params, body)
        if response.status_code == 200:
            assert ET.fromstring(body).tag == "Response"  # noqa: S314 - our own answer

    run()
    record_cases("sms webhook, real numbers", seen, EXAMPLES)
