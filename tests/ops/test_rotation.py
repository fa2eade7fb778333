"""Secret rotation: what was made before a rotation still works after it (texts reach the
right phone, authenticator apps and webhooks keep working), STOP keeps holding, sessions end,
and the old secret stops working where it must. Each "restart" is a new app built from the
rotated settings, as the operator's restart would build it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from crypto.envelope import open_sealed
from crypto.errors import CryptoError
from crypto.keys import PrivateKey
from crypto.pseudonyms import sender_tag
from intake import create_app
from intake.accounts.models import Account
from intake.accounts.service import open_totp_secret
from intake.alerts.models import BuyerWebhook
from intake.alerts.service import create_webhook, webhook_secret
from intake.db import Database
from intake.errors import ConfigError
from intake.install import ensure_install
from intake.messaging.conversation import await_verdict
from intake.messaging.models import Conversation, OptOut, OutboundMessage, OutboundStatus
from intake.reports.models import Report
from intake.reports.service import add_desk_reply, attach_contact, contact_context
from intake.rotation.courier import rotate_courier
from intake.rotation.optouts import opted_out
from intake.rotation.pepper import RotationRefused, rotate_pepper
from intake.rotation.secret_key import end_sessions, rotate_secret_key
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg
from tests.commands import assert_one_line_error, run_intake
from tests.conftest import wipe
from tests.monitor.conftest import Browser, DeskWorld, browser, desks
from tests.sms.conftest import (
    Phone,
    phone,
    run_jobs,
    settings,
    sms_app,
    sms_settings,
    sms_world,
    twilio,
    world,
)
from tests.sms.test_outbound import report_by_sms
from tests.twilio_fake import TwilioFake

__all__ = ["browser", "desks", "phone", "settings", "sms_app", "sms_settings", "sms_world",
           "twilio", "world"]


def database(app: Flask) -> Database:
    return app.extensions["intake.db"]  # type: ignore[no-any-return]


def restarted(settings: Settings) -> Flask:
    app = create_app(settings)
    with database(app).transaction() as session:
        ensure_install(session, settings)
    return app


def only_report(app: Flask) -> uuid.UUID:
    with database(app).transaction() as session:
        return session.scalars(select(Report.id)).one()


def text_a_reply(app: Flask, report_id: uuid.UUID, text: str) -> uuid.UUID:
    """A desk reply, queued as a text and sent by the app's job runner; the outbound id."""
    with database(app).transaction() as session:
        report = session.get_one(Report, report_id)
        message = add_desk_reply(session, report, text, author_account_id=None)
        outbound = OutboundMessage(id=uuid.uuid4(), report_id=report.id, message_id=message.id,
                                   kind="reply")
        session.add(outbound)
    send(app, outbound.id)
    return outbound.id


def send(app: Flask, outbound_id: uuid.UUID) -> OutboundStatus:
    app.extensions["intake.jobs"].enqueue("channels.sms.outbound.send_outbound",
                                          outbound_id=str(outbound_id))
    run_jobs(app)
    with database(app).transaction() as session:
        return session.get_one(OutboundMessage, outbound_id).status


# --- pepper -----------------------------------------------------------------------------------


def rotate_the_pepper(app: Flask, settings: Settings) -> Settings:
    new = secrets.token_bytes(32)
    with database(app).transaction() as session:
        rotate_pepper(session, old=settings.pepper, new=new,
                      courier=PrivateKey.from_bytes(settings.courier_key or b""))
    return dataclasses.replace(settings, pepper=new, retired_peppers=(settings.pepper,))


def test_stop_before_rotation_still_silences_the_worker_after_it(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    assert phone.text("STOP")
    run_jobs(sms_app)
    rotated = rotate_the_pepper(sms_app, sms_settings)
    after = Phone(restarted(rotated).test_client(), rotated, number=phone.number)
    assert after.text("hello") == []
    assert after.text("START")  # and START still lifts it
    assert after.text("hello")


def test_stop_before_rotation_still_blocks_texts_after_it(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings,
        twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    phone.text("STOP")
    run_jobs(sms_app)
    rotated = rotate_the_pepper(sms_app, sms_settings)
    app = restarted(rotated)
    with database(app).transaction() as session:  # the number given again, e.g. on the web
        attach_contact(session, session.get_one(Report, only_report(app)), phone.number)
    assert send(app, text_a_reply(app, only_report(app), "hello")) is OutboundStatus.OPTED_OUT
    assert twilio.created() == []


def test_a_reply_still_reaches_the_worker_after_pepper_rotation(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings,
        twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    rotated = rotate_the_pepper(sms_app, sms_settings)
    app = restarted(rotated)
    assert send(app, text_a_reply(app, only_report(app), "We met the manager.")) \
        is OutboundStatus.SENT
    [sent] = twilio.created()
    assert (sent.form["To"], sent.form["Body"]) == (phone.number, "We met the manager.")


def test_opt_out_whose_number_is_still_sealed_moves_and_the_number_goes(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    old_tag = sender_tag(sms_settings.pepper, phone.number)
    with database(sms_app).transaction() as session:  # STOP whose forgetting job never ran
        session.add(OptOut(sender_tag=old_tag))
    rotated = rotate_the_pepper(sms_app, sms_settings)
    with database(sms_app).transaction() as session:
        tags = set(session.scalars(select(OptOut.sender_tag)))
        report = session.get_one(Report, only_report(sms_app))
        assert tags == {sender_tag(rotated.pepper, phone.number)}
        assert report.contact_sealed is None and report.contact_consent is False


def test_conversation_awaiting_a_verdict_moves_to_the_new_tag_and_others_restart(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    Phone(sms_app.test_client(), sms_settings, number="+60199999999").text("hi")
    old_tag = sender_tag(sms_settings.pepper, phone.number)
    with database(sms_app).transaction() as session:
        await_verdict(session, tag=old_tag, report_id=only_report(sms_app),
                      inbound_number=phone.to, language="en",
                      now=dt.datetime.now(dt.UTC))
    rotated = rotate_the_pepper(sms_app, sms_settings)
    with database(sms_app).transaction() as session:
        rows = list(session.execute(select(Conversation.sender_tag, Conversation.step)))
    assert rows == [(sender_tag(rotated.pepper, phone.number), "verdict")]


def test_pepper_rotation_refuses_to_run_without_the_courier_key_when_numbers_exist(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    with database(sms_app).transaction() as session, pytest.raises(RotationRefused):
        rotate_pepper(session, old=sms_settings.pepper, new=secrets.token_bytes(32),
                      courier=None)


def test_pepper_rotation_refuses_a_courier_key_that_is_not_the_installs(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    """It opens sealed numbers with the key: a wrong one was a CryptoError half-way."""
    report_by_sms(phone, consent=True)
    with database(sms_app).transaction() as session, pytest.raises(RotationRefused):
        rotate_pepper(session, old=sms_settings.pepper, new=secrets.token_bytes(32),
                      courier=PrivateKey.generate())


# --- courier ----------------------------------------------------------------------------------


def rotate_the_courier(app: Flask, settings: Settings) -> tuple[Settings, PrivateKey]:
    old = PrivateKey.from_bytes(settings.courier_key or b"")
    new = PrivateKey.generate()
    with database(app).transaction() as session:
        rotate_courier(session, old=old, new=new)
    return dataclasses.replace(settings, courier_key=new.to_bytes()), old


def test_a_reply_written_before_courier_rotation_reaches_the_right_phone_after_it(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings,
        twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    report_id = only_report(sms_app)
    with database(sms_app).transaction() as session:
        message = add_desk_reply(session, session.get_one(Report, report_id),
                                 "Written before the rotation.", author_account_id=None)
        outbound = OutboundMessage(id=uuid.uuid4(), report_id=report_id,
                                   message_id=message.id, kind="reply")
        session.add(outbound)
    rotated, _old = rotate_the_courier(sms_app, sms_settings)
    assert send(restarted(rotated), outbound.id) is OutboundStatus.SENT
    [sent] = twilio.created()
    assert (sent.form["To"], sent.form["Body"]) == (phone.number, "Written before the rotation.")


def test_old_courier_key_opens_no_sealed_number_after_rotation(
        phone: Phone, sms_world: object, sms_app: Flask, sms_settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    _rotated, old = rotate_the_courier(sms_app, sms_settings)
    with database(sms_app).transaction() as session:
        report = session.get_one(Report, only_report(sms_app))
        with pytest.raises(CryptoError):
            open_sealed(report.contact_sealed or b"", old, context=contact_context(report.id))


def test_a_process_with_the_old_courier_key_is_refused_after_rotation(
        sms_app: Flask, sms_settings: Settings) -> None:
    rotate_the_courier(sms_app, sms_settings)
    with database(sms_app).transaction() as session, pytest.raises(ConfigError):
        ensure_install(session, sms_settings)


def test_courier_rotation_refuses_a_key_that_is_not_the_installs(
        sms_app: Flask, sms_settings: Settings) -> None:
    with database(sms_app).transaction() as session, pytest.raises(RotationRefused):
        rotate_courier(session, old=PrivateKey.generate(), new=PrivateKey.generate())


# --- secret key -------------------------------------------------------------------------------


def test_monitor_session_ends_after_secret_key_rotation(
        app: Flask, browser: Browser, desks: DeskWorld, settings: Settings) -> None:
    browser.login(desks.alice)
    assert "/monitor/login" not in browser.get("/monitor/").headers["Location"]
    with database(app).transaction() as session:
        rotate_secret_key(session, old=settings.secret_key, new=secrets.token_bytes(32))
    assert end_sessions(redis_url=settings.redis_url, instance=settings.instance_path) >= 1
    response = browser.get("/monitor/")
    assert response.status_code == 302 and "/monitor/login" in response.headers["Location"]


def test_authenticator_apps_keep_working_after_secret_key_rotation(
        app: Flask, desks: DeskWorld, settings: Settings) -> None:
    new = secrets.token_bytes(32)
    with database(app).transaction() as session:
        rotate_secret_key(session, old=settings.secret_key, new=new)
    with database(app).transaction() as session:
        account = session.get_one(Account, desks.alice.account_id)
        assert open_totp_secret(account, secret_key=new) == desks.alice.totp_secret
        with pytest.raises(CryptoError):
            open_totp_secret(account, secret_key=settings.secret_key)


def test_buyer_webhook_secret_is_the_same_after_secret_key_rotation(
        app: Flask, settings: Settings) -> None:
    new = secrets.token_bytes(32)
    with database(app).transaction() as session:
        org = BuyerOrg(name="City of Westhaven", contact_email="p@westhaven.example")
        session.add(org)
        session.flush()
        hook, _shown = create_webhook(session, buyer_org_id=org.id,
                                      url="https://hooks.example/in",
                                      secret_key=settings.secret_key)
        before = webhook_secret(hook, secret_key=settings.secret_key)
        rotate_secret_key(session, old=settings.secret_key, new=new)
    with database(app).transaction() as session:
        hook = session.scalars(select(BuyerWebhook)).one()
        assert webhook_secret(hook, secret_key=new) == before


# --- the command on the embedded default and in production ------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, migrated_engine: Engine) -> Iterator[dict[str, str]]:
    wipe(migrated_engine)
    yield {"INTAKE_INSTANCE": str(tmp_path / "cli-instance"), "INTAKE_DATABASE_URL": database_url}
    wipe(migrated_engine)


def test_embedded_pepper_rotation_replaces_the_instance_file_and_retires_the_old(
        cli_env: dict[str, str]) -> None:
    assert run_intake(["db", "upgrade"], cli_env).returncode == 0
    old = Settings.from_env(cli_env).pepper
    result = run_intake(["secrets", "rotate", "pepper"], cli_env)
    assert result.returncode == 0, result.stderr
    rotated = Settings.from_env(cli_env)
    assert rotated.pepper != old and rotated.retired_peppers == (old,)
    instance = Path(cli_env["INTAKE_INSTANCE"])
    assert stat.S_IMODE((instance / "pepper").stat().st_mode) == 0o600
    assert not (instance / "pepper.new").exists()


def test_embedded_courier_rotation_replaces_the_key_file_and_the_install_accepts_it(
        cli_env: dict[str, str]) -> None:
    assert run_intake(["db", "upgrade"], cli_env).returncode == 0
    old = Settings.from_env(cli_env).courier_key
    result = run_intake(["secrets", "rotate", "courier"], cli_env)
    assert result.returncode == 0, result.stderr
    assert Settings.from_env(cli_env).courier_key != old
    # ensure_install accepts the new key
    assert run_intake(["db", "upgrade"], cli_env).returncode == 0


def test_a_secret_from_the_environment_needs_a_new_value_file(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    environ = {**cli_env, "INTAKE_SECRET_KEY": secrets.token_hex(32)}
    assert run_intake(["db", "upgrade"], environ).returncode == 0
    refused = run_intake(["secrets", "rotate", "secret-key"], environ)
    assert refused.returncode == 1 and "--new-value-file" in refused.stderr
    target = tmp_path / "new-secret-key"
    done = run_intake(["secrets", "rotate", "secret-key", "--new-value-file", str(target)], environ)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().strip() not in done.stdout  # never printed
    rotated = Settings.from_env({**cli_env, "INTAKE_SECRET_KEY_FILE": str(target)})
    assert rotated.secret_key != bytes.fromhex(environ["INTAKE_SECRET_KEY"])


def test_retired_peppers_are_read_from_the_environment(tmp_path: Path) -> None:
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    environ = {"INTAKE_INSTANCE": str(tmp_path / "instance"),
               "INTAKE_PEPPER": secrets.token_hex(32),
               "INTAKE_PEPPER_PREVIOUS": f"{second.hex()},{first.hex()}"}
    rotated = Settings.from_env(environ)
    assert rotated.retired_peppers == (second, first)
    assert second.hex() not in repr(rotated) and repr(second) not in repr(rotated)


def test_a_pepper_listed_as_both_current_and_retired_keeps_the_opt_out(
        app: Flask, settings: Settings) -> None:
    tag = sender_tag(settings.pepper, "+60123456789")
    with database(app).transaction() as session:
        session.add(OptOut(sender_tag=tag))
    with database(app).transaction() as session:
        assert opted_out(session, "+60123456789", pepper=settings.pepper,
                         retired=(settings.pepper,))
    with database(app).transaction() as session:
        assert list(session.scalars(select(OptOut.sender_tag))) == [tag]


@pytest.mark.parametrize("secret", ["pepper", "courier", "secret-key"])
def test_a_new_value_file_in_a_missing_folder_gives_one_line_and_changes_nothing(
        cli_env: dict[str, str], tmp_path: Path, secret: str) -> None:
    assert run_intake(["db", "upgrade"], cli_env).returncode == 0
    before = Settings.from_env(cli_env)
    result = run_intake(["secrets", "rotate", secret, "--new-value-file",
                         str(tmp_path / "missing" / "new-value")], cli_env)
    assert_one_line_error(result, "missing", status=1)
    after = Settings.from_env(cli_env)
    assert (after.pepper, after.courier_key, after.secret_key) == (
        before.pepper, before.courier_key, before.secret_key)
    assert after.retired_peppers == ()


def test_secret_key_rotation_with_a_key_that_is_not_the_installs_gives_one_line(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    created = run_intake(["desk", "create", "--name", "Union Desk",
                          "--member", "ann@union.example=Ann"], cli_env)
    assert created.returncode == 0, created.stderr
    target = tmp_path / "new-secret-key"
    result = run_intake(["secrets", "rotate", "secret-key", "--new-value-file", str(target)],
                        {**cli_env, "INTAKE_SECRET_KEY": secrets.token_hex(32)})
    assert_one_line_error(result, "INTAKE_SECRET_KEY", status=1)
    assert not target.exists()
    again = run_intake(["secrets", "rotate", "secret-key"], cli_env)  # the right key still works
    assert again.returncode == 0, again.stderr
