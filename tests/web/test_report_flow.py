"""The whole report and follow-up flow with plain HTTP posts, no JavaScript."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from crypto.envelope import open_sealed
from crypto.errors import NotARecipient
from crypto.keys import PrivateKey
from intake.audit.service import _APPEND_LOCK
from intake.db import Database, today
from intake.messaging.inbound import forget_old_replies
from intake.messaging.models import ProcessedInbound
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.models import Author, Channel, Report, ReportDesk, ReportMessage
from intake.reports.service import (
    add_desk_reply,
    body_context,
    contact_context,
    message_context,
    open_contact,
)
from intake.retention.service import run
from intake.settings import Settings
from intake.supplychain.models import Facility
from tests import factories
from tests.burmese import UNICODE_WORDS, ZAWGYI_WORDS
from tests.races import at_once, while_retention_deletes
from tests.web.conftest import Worker, World

LANGUAGES = ["en", "ar", "my", "zh_Hans"]
WORDS = {
    "en": "The supervisor keeps our passports in his office.",
    "ar": "المشرف يحتفظ بجوازات سفرنا في مكتبه.",
    "my": "ကြီးကြပ်ရေးမှူးက ကျွန်ုပ်တို့၏ နိုင်ငံကူးလက်မှတ်များကို သိမ်းထားသည်။",
    "zh_Hans": "主管把我们的护照锁在他的办公室里。",
}


def only_report(db: Database) -> Report:
    with db.transaction() as session:
        reports = list(session.scalars(select(Report)))
        assert len(reports) == 1
        session.expunge_all()
        return reports[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_is_sealed_to_the_covering_desk_and_gets_a_receipt(
    worker: Worker, world: World, db: Database, lang: str
) -> None:
    worker.lang = lang
    receipt = worker.report(facility=world.penang, categories=["forced_labour", "wages"],
                            details=WORDS[lang])
    assert len(receipt) == 16 and receipt.isdigit()
    report = only_report(db)
    assert report.channel is Channel.WEB and report.language == lang
    assert report.facility_id == world.penang.id
    assert report.categories == "forced_labour,wages"
    body = json.loads(open_sealed(report.body_sealed, world.union.key,
                                  context=body_context(report.id)))
    assert body == {"details": WORDS[lang]}
    assert WORDS[lang].encode() not in report.body_sealed
    assert receipt.encode() not in report.receipt_lookup


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_step_has_the_right_lang_and_direction(worker: Worker, world: World,
                                                     lang: str) -> None:
    worker.lang = lang
    page = worker.get(f"/{lang}/report").get_data(as_text=True)
    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang.replace("_", "-")}" dir="{direction}">' in page


def test_another_desk_cannot_open_the_report(worker: Worker, world: World,
                                             db: Database) -> None:
    worker.report(facility=world.penang, categories=["safety"], details="Locked fire exit")
    report = only_report(db)
    with pytest.raises(NotARecipient):
        open_sealed(report.body_sealed, world.ngo.key, context=body_context(report.id))


def test_uncovered_workplace_goes_to_the_fallback_desk(worker: Worker, world: World,
                                                       db: Database) -> None:
    worker.report(facility=world.bangkok, categories=["hours"], details="No day off")
    with db.transaction() as session:
        desks = list(session.scalars(select(ReportDesk.desk_id)))
    assert desks == [world.union.desk.id]


def test_not_listed_workplace_goes_to_the_fallback_desk(worker: Worker, world: World,
                                                        db: Database) -> None:
    worker.report(facility="none", categories=["other"], details="Small workshop in Johor")
    report = only_report(db)
    assert report.facility_id is None
    opened = open_sealed(report.body_sealed, world.union.key, context=body_context(report.id))
    assert "Johor" in opened.decode()


def test_poster_code_typed_in_search_finds_the_workplace(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    page = worker.step("workplace", q="mx 2045").get_data(as_text=True)
    assert "What happened?" in page
    assert f'name="facility" value="{world.tijuana.id}"' in page


def test_poster_code_typed_full_width_finds_the_workplace(worker: Worker,
                                                          world: World) -> None:
    worker.get("/en/report")
    page = worker.step("workplace", q="ＭＸ ２０４５").get_data(as_text=True)
    assert f'name="facility" value="{world.tijuana.id}"' in page


def test_misspelled_name_is_found(worker: Worker, world: World) -> None:
    page = worker.get("/en/report?q=penang circit").get_data(as_text=True)
    assert "Penang Circuit Assembly" in page


def test_a_workplace_found_by_the_workers_own_name_shows_that_name_too(
        worker: Worker, world: World, db: Database) -> None:
    with db.transaction() as session:
        session.execute(update(Facility).where(Facility.id == world.penang.id)
                        .values(other_names=["槟城电路装配厂"]))
    page = worker.get("/zh_Hans/report?q=槟城电路").get_data(as_text=True)
    assert ('<span dir="auto">Penang Circuit Assembly</span> '
            '<span dir="auto">(槟城电路装配厂)</span>') in page
    assert f'name="facility" value="{world.penang.id}"' in page
    assert "(槟城" not in worker.get("/en/report?q=penang circit").get_data(as_text=True)


def test_the_list_shows_a_workplaces_name_in_the_script_of_the_page(
        worker: Worker, world: World, db: Database) -> None:
    """A Chinese reader finds 槟城电路装配厂 beside the map's name in the list and on the
    review page; an English page shows the map's names only (the other names' languages
    are not known, and Latin ones could be any)."""
    with db.transaction() as session:
        session.execute(update(Facility).where(Facility.id == world.penang.id).values(
            other_names=["Kilang Litar Pulau Pinang", "पेनाङ सर्किट", "槟城电路装配厂"]))
    shown = '<span dir="auto">Penang Circuit Assembly</span> <span dir="auto">({})</span>'
    assert shown.format("槟城电路装配厂") in worker.get("/zh_Hans/report").get_data(as_text=True)
    assert shown.format("पेनाङ सर्किट") in worker.get("/ne/report").get_data(as_text=True)
    english = worker.get("/en/report").get_data(as_text=True)
    assert "Penang Circuit Assembly</span> <span class=\"where\">" in english
    worker.lang = "zh_Hans"
    state = {"facility": str(world.penang.id), "category": ["wages"], "details": "x",
             "contact": "web", "number": ""}
    for step in ("workplace", "what", "details"):
        worker.step(step, **state)
    assert shown.format("槟城电路装配厂") in worker.step("contact", **state).get_data(
        as_text=True)


def test_fewer_than_three_letters_name_no_workplace(worker: Worker, world: World) -> None:
    """"ok" is inside "Bangkok": WRatio scores any text found in a long name at the cut-off."""
    assert "Bangkok Sensor Works" in worker.get("/en/report?q=bangkk").get_data(as_text=True)
    assert "Bangkok Sensor Works" not in worker.get("/en/report?q=ok").get_data(as_text=True)


@pytest.mark.parametrize(("lang", "malaysia", "mexico"), [
    ("es", "Malasia", "México"), ("zh_Hans", "马来西亚", "墨西哥"), ("th", "มาเลเซีย", "เม็กซิโก")])
def test_each_workplace_says_its_country_in_the_workers_language(
    worker: Worker, world: World, lang: str, malaysia: str, mexico: str
) -> None:
    """In the list, in search results and on the review page: two factories of one name in
    two countries are told apart (and a report does not go to the other country's desk)."""
    listed = worker.get(f"/{lang}/report").get_data(as_text=True)
    assert f'Penang Circuit Assembly</span> <span class="where">{malaysia}</span>' in listed
    assert f'Tijuana Power Plant</span> <span class="where">{mexico}</span>' in listed
    found = worker.get(f"/{lang}/report?q=penang").get_data(as_text=True)
    assert f'<span class="where">{malaysia}</span>' in found
    assert mexico not in found
    worker.lang = lang
    state = {"facility": str(world.penang.id), "category": ["wages"], "details": "x",
             "contact": "web", "number": ""}
    for step in ("workplace", "what", "details"):
        worker.step(step, **state)
    review = worker.step("contact", **state).get_data(as_text=True)
    assert f'Penang Circuit Assembly</span> <span class="where">{malaysia}</span>' in review


def test_sms_contact_is_sealed_to_the_courier_only(
    worker: Worker, world: World, db: Database, settings: Settings
) -> None:
    worker.report(facility=world.penang, categories=["wages"], details="",
                  contact="sms", number="012-345 6789")
    report = only_report(db)
    assert report.contact_consent and report.contact_sealed is not None
    assert b"60123456789" not in report.contact_sealed
    assert settings.courier_key is not None
    courier = PrivateKey.from_bytes(settings.courier_key)
    assert open_contact(report, courier).number == "+60123456789"
    with pytest.raises(NotARecipient):
        open_sealed(report.contact_sealed, world.union.key, context=contact_context(report.id))


def send_form(worker: Worker, world: World) -> dict[str, Any]:
    """The review page's Send form for a short report, as the browser would post it."""
    worker.get("/en/report")
    state = {"facility": str(world.penang.id), "category": ["wages"], "details": "x",
             "contact": "web", "number": ""}
    review = worker.step("contact", **state).get_data(as_text=True)
    nonce = review.split('name="nonce" value="')[1].split('"')[0]
    return {"step": "review", "go": "send", "nonce": nonce, **state}


def receipt_digits(page: str) -> list[str]:
    return [part.split("</span>")[0] for part in page.split("<span>")[1:]]


def test_pressing_send_twice_stores_one_report_and_shows_the_same_receipt(
    worker: Worker, world: World, db: Database
) -> None:
    send = send_form(worker, world)
    first = worker.post("/en/report", send).get_data(as_text=True)
    second = worker.post("/en/report", send).get_data(as_text=True)
    digits = receipt_digits(first)
    assert len("".join(digits)) == 16
    assert all(f"<span>{d}</span>" in second for d in digits)
    with db.transaction() as session:
        assert len(list(session.scalars(select(Report.id)))) == 1


@pytest.mark.parametrize(("minutes", "swept", "shown"),
                         [(30, True, True), (61, True, False), (61, False, False)])
def test_the_receipt_is_shown_again_for_an_hour_whatever_else_is_swept(
    worker: Worker, world: World, db: Database, minutes: int, swept: bool, shown: bool
) -> None:
    """Send pressed again (a reload, a lost answer) shows the receipt for an hour: a sweep
    30 minutes on (when an SMS reply's ten minutes are long past) leaves it. Later, it says
    the report was sent, without the receipt, and stores nothing; also before the sweep
    has run (the receipt page reads the window itself)."""
    send = send_form(worker, world)
    first = worker.post("/en/report", send).get_data(as_text=True)
    digits = receipt_digits(first)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    with db.transaction() as session:
        if swept:
            assert forget_old_replies(session, now=later) == (0 if shown else 1)
        kept = session.scalars(select(ProcessedInbound)).one()
        assert (kept.keep_until is not None) is (shown or not swept)
        if kept.keep_until is not None:  # as if sent ``minutes`` ago
            kept.keep_until -= dt.timedelta(minutes=minutes)
    again = worker.post("/en/report", send).get_data(as_text=True)
    assert all(f"<span>{d}</span>" in again for d in digits) is shown
    with db.transaction() as session:
        assert len(list(session.scalars(select(Report.id)))) == 1


def before_form(html: str) -> str:
    """The page up to its form (the CSRF token differs between any two pages)."""
    return html.split('name="csrf_token"')[0]


# --- follow-up ---------------------------------------------------------------------------


def plant_reply(db: Database, text: str) -> Report:
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        add_desk_reply(session, report, text, author_account_id=None)
        session.expunge_all()
        return report


@pytest.mark.parametrize("lang", LANGUAGES)
def test_worker_reads_the_desk_reply_with_the_receipt(worker: Worker, world: World,
                                                      db: Database, lang: str) -> None:
    worker.lang = lang
    receipt = worker.report(facility=world.penang, categories=["wages"], details=WORDS[lang])
    plant_reply(db, "We will visit the factory on Monday.")
    worker.get(f"/{lang}/followup")
    spaced = " ".join(receipt[i:i + 4] for i in range(0, 16, 4))
    page = worker.post(f"/{lang}/followup", {"receipt": spaced}).get_data(as_text=True)
    assert "We will visit the factory on Monday." in page
    assert WORDS[lang] not in page  # the worker's own words are sealed to the desks only


def test_receipt_in_arabic_indic_digits_opens_the_thread(worker: Worker, world: World,
                                                         db: Database) -> None:
    worker.lang = "ar"
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    plant_reply(db, "reply-ar-digits")
    arabic = receipt.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    worker.get("/ar/followup")
    assert "reply-ar-digits" in worker.post("/ar/followup", {"receipt": arabic}).get_data(
        as_text=True)


def test_worker_adds_information_sealed_to_the_desk(worker: Worker, world: World,
                                                    db: Database) -> None:
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    worker.get("/en/followup")
    page = worker.add_more(receipt, "They paid half today.")
    assert "Your message was added" in page.get_data(as_text=True)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        [message] = report.messages
        assert message.author is Author.WORKER
        text = open_sealed(message.body_sealed, world.union.key,
                           context=message_context(report.id, message.id))
    assert text == b"They paid half today."


@pytest.fixture
def paused_after_the_look_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message added to a thread pauses right after looking up the thread's last place,
    on the audit chain's lock (which tests.races holds until every request waits)."""
    from intake.reports import service as reports

    looked = reports._next_seq

    def pause_after_the_look_up(session: Session, report: Report) -> int:
        seq = looked(session, report)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
        return seq

    monkeypatch.setattr(reports, "_next_seq", pause_after_the_look_up)


@pytest.mark.usefixtures("paused_after_the_look_up")
def test_two_messages_added_at_the_same_moment_each_get_their_own_place_in_the_thread(
    app: Flask, worker: Worker, world: World, db: Database
) -> None:
    """The worker sends more twice at once (a double click, two phones): each request looks
    up the thread's last place, then saves after it. Each pauses right after its look-up (on
    the audit chain's lock, which tests.races holds until both wait), so both look before
    either saves; still the two messages take places 1 and 2, in turn."""
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    phone = Worker(app.test_client(), environ={"REMOTE_ADDR": "192.0.2.11"})
    for each in (worker, phone):
        each.get("/en/followup")
        each.open_thread(receipt)

    def add(each: Worker, words: str) -> Any:
        return each.post("/en/followup", {"receipt": receipt, "action": "add",
                                          "message": words, "nonce": each.nonce})

    answers = at_once(db.engine, lambda: add(worker, "They paid half today."),
                      lambda: add(phone, "Not the rest."))
    assert [a.status_code for a in answers] == [200, 200]
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert sorted(m.seq for m in report.messages) == [1, 2]


def test_more_words_sent_twice_are_added_once_and_the_second_answer_says_so(
    worker: Worker, world: World, db: Database
) -> None:
    """A double click on Send, or Send pressed again after a slow answer, sends the same
    form twice (the same nonce): the words are added once."""
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    worker.get("/en/followup")
    worker.open_thread(receipt)
    more = {"receipt": receipt, "action": "add", "message": "They paid half today.",
            "nonce": worker.nonce}
    first, second = (worker.post("/en/followup", more) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert "Your message was added to your report" in first.get_data(as_text=True)
    assert "It was not added a second time" in second.get_data(as_text=True)
    with db.transaction() as session:
        assert len(session.scalars(select(Report)).one().messages) == 1


@pytest.mark.usefixtures("paused_after_the_look_up")
def test_more_words_sent_twice_at_the_same_moment_are_added_once(
    app: Flask, worker: Worker, world: World, db: Database
) -> None:
    """Both requests find the form not handled yet, then look up the thread's last place and
    pause there (on the audit chain's lock, which tests.races holds until both wait): the
    second to save finds the first one's record, and adds nothing."""
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    again = Worker(app.test_client(), environ={"REMOTE_ADDR": "192.0.2.11"})
    for each in (worker, again):
        each.get("/en/followup")
    worker.open_thread(receipt)
    more = {"receipt": receipt, "action": "add", "message": "They paid half today.",
            "nonce": worker.nonce}
    answers = at_once(db.engine, lambda: worker.post("/en/followup", more),
                      lambda: again.post("/en/followup", more))
    assert [a.status_code for a in answers] == [200, 200]
    with db.transaction() as session:
        assert len(session.scalars(select(Report)).one().messages) == 1


@pytest.mark.parametrize("nonce", [None, "", "short", "x" * 23 + "!"])
def test_more_words_without_the_forms_nonce_are_refused_kept_and_added_nowhere(
    worker: Worker, world: World, db: Database, nonce: str | None
) -> None:
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    worker.get("/en/followup")
    worker.open_thread(receipt)
    more = {"receipt": receipt, "action": "add", "message": "They paid half today."}
    response = worker.post("/en/followup", more if nonce is None else {**more, "nonce": nonce})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your message was not added. Please press Send again." in page
    assert ">They paid half today.</textarea>" in page
    with db.transaction() as session:
        assert session.scalars(select(Report)).one().messages == []


PAST_RETENTION = dt.timedelta(days=800)  # the desks keep reports 730 days by default
GONE = "This report is no longer kept, so your message was not added."
VERDICT_GONE = "This report is no longer kept, so your answer was not saved."


def assert_told_gone(response: Any, words: str, *, told: str = GONE) -> None:
    """The worker's words were not added, the page says so and shows them back."""
    page = response.get_data(as_text=True)
    assert response.status_code == 404, page
    assert told in page
    assert f">{words}</textarea>" in page


def test_words_sent_while_retention_deletes_the_report_are_refused_and_the_worker_told(
    worker: Worker, world: World, db: Database
) -> None:
    """Retention deletes the report (its time was up) while the worker's words are on the
    way: the request had found the report by its receipt, then waits for the report's row,
    which retention holds; once retention commits, the row is gone. The worker is told the
    report is no longer kept and that the words were not added (not a 500)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    worker.get("/en/followup")
    worker.open_thread(receipt)
    more = {"receipt": receipt, "action": "add", "message": "They paid half today.",
            "nonce": worker.nonce}
    answer = while_retention_deletes(db, lambda: worker.post("/en/followup", more),
                                     today=today() + PAST_RETENTION)
    assert_told_gone(answer, "They paid half today.")
    with db.transaction() as session:
        assert session.scalars(select(Report)).all() == []
        assert session.scalars(select(ReportMessage)).all() == []


def test_words_sent_for_a_report_retention_has_deleted_are_refused_and_the_worker_told(
    worker: Worker, world: World, db: Database
) -> None:
    """The thread page was open when retention deleted the report; Send then finds no report
    for the receipt the page carries: not "check the 16 digits" (the worker typed nothing)
    but that the report is no longer kept."""
    receipt = worker.report(facility=world.penang, categories=["wages"], details="first")
    worker.get("/en/followup")
    worker.open_thread(receipt)
    assert run(db, today=today() + PAST_RETENTION).reports_deleted == 1
    answer = worker.post("/en/followup", {"receipt": receipt, "action": "add",
                                          "message": "They paid half today.",
                                          "nonce": worker.nonce})
    assert_told_gone(answer, "They paid half today.")


def test_worker_gives_a_verdict_when_the_desk_proposes_to_close(
    worker: Worker, world: World, db: Database
) -> None:
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    worker.get("/en/followup")
    before = worker.post("/en/followup", {"receipt": receipt}).get_data(as_text=True)
    assert "Was the problem really fixed?" not in before
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        factories.case_asking_verdict(session, desk_id=world.union.desk.id,
                                      facility_id=world.penang.id, report_id=report.id)
    asked = worker.post("/en/followup", {"receipt": receipt}).get_data(as_text=True)
    assert "Was the problem really fixed?" in asked
    saved = worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                         "verdict": "partly", "comment": "Only some got pay"})
    assert "Your answer was saved" in saved.get_data(as_text=True)
    with db.transaction() as session:
        verdict = session.scalars(select(WorkerVerdict)).one()
        assert verdict.verdict is Verdict.PARTLY and verdict.channel == "web"
        assert verdict.comment_sealed is not None
        assert b"Only some" not in verdict.comment_sealed


def asked_for_a_verdict_long_ago(worker: Worker, world: World, db: Database) -> str:
    """A report whose case asked for the worker's verdict and closed today (retention may
    delete it 800 days on), with its follow-up page open; the receipt."""
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        factories.case_asking_verdict(session, desk_id=world.union.desk.id,
                                      facility_id=world.penang.id,
                                      report_id=report.id).closed_on = today()
    worker.get(f"/{worker.lang}/followup")
    worker.open_thread(receipt)
    return receipt


def test_a_verdict_given_while_retention_deletes_the_report_is_refused_and_the_worker_told(
    worker: Worker, world: World, db: Database
) -> None:
    """The case closed long ago; retention deletes the report while the worker's verdict is
    on the way: nothing is kept, and the page says the report is no longer kept (not a 500
    from the verdict pointing at a deleted report)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    receipt = asked_for_a_verdict_long_ago(worker, world, db)
    answer = while_retention_deletes(
        db, lambda: worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                                 "verdict": "partly", "comment": "Some"}),
        today=today() + PAST_RETENTION)
    assert_told_gone(answer, "Some", told=VERDICT_GONE)
    with db.transaction() as session:
        assert session.scalars(select(WorkerVerdict)).all() == []


def test_a_verdict_for_a_report_retention_has_deleted_is_refused_and_the_worker_told(
    worker: Worker, world: World, db: Database, app: Flask
) -> None:
    """The question page was open when retention deleted the report: the answer finds no
    report for the receipt the page carries. The worker is told the report is no longer kept
    and the answer was not saved (not "check the 16 digits": they typed nothing), in their
    language, with their comment shown back."""
    worker.lang = "es"
    receipt = asked_for_a_verdict_long_ago(worker, world, db)
    assert run(db, today=today() + PAST_RETENTION).reports_deleted == 1
    answer = worker.post("/es/followup", {"receipt": receipt, "action": "verdict",
                                          "verdict": "no", "comment": "Nada cambió"})
    with app.test_request_context(), force_locale("es"):
        told = gettext(VERDICT_GONE)
    assert told != VERDICT_GONE  # the catalog has it
    assert_told_gone(answer, "Nada cambió", told=told)
    with db.transaction() as session:
        assert session.scalars(select(WorkerVerdict)).all() == []


def test_wrong_receipt_gets_the_same_answer_as_a_receipt_that_never_existed(
    worker: Worker, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import intake.reports.service as service

    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    calls: list[str] = []
    original = service.derive_receipt_secrets
    monkeypatch.setattr(service, "derive_receipt_secrets",
                        lambda r, **kw: calls.append(r) or original(r, **kw))
    wrong = ("1" if receipt[0] != "1" else "2") + receipt[1:]
    worker.get("/en/followup")
    one = worker.post("/en/followup", {"receipt": wrong})
    two = worker.post("/en/followup", {"receipt": "0000000000000000"})
    assert one.status_code == two.status_code == 200
    assert before_form(one.get_data(as_text=True)) == before_form(two.get_data(as_text=True))
    assert "could not open a report" in one.get_data(as_text=True)
    assert len(calls) == 2  # Argon2id ran in full for both


@pytest.mark.parametrize(("details", "zawgyi"), [
    (ZAWGYI_WORDS, True), (UNICODE_WORDS, False), ("The line leader kept our pay", False)])
def test_texts_back_are_spelled_as_the_workers_phone_types_burmese(
    worker: Worker, world: World, db: Database, settings: Settings, details: str, zawgyi: bool
) -> None:
    """Words typed in Zawgyi on the form: the texts the desk sends back are in Zawgyi."""
    worker.report(facility=world.penang, categories=["wages"], details=details,
                  contact="sms", number="012-345 6789")
    assert settings.courier_key is not None
    contact = open_contact(only_report(db), PrivateKey.from_bytes(settings.courier_key))
    assert contact.number == "+60123456789" and contact.zawgyi is zawgyi
