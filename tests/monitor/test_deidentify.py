"""The de-identification pass proposes what a monitor must consider redacting, in every
supported script, and ``redact`` replaces only what the monitor accepted."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.cases.deidentify import (
    PLACEHOLDERS,
    Kind,
    Proposal,
    ProposalMismatch,
    propose,
    redact,
)

PHONE, EMAIL, ID, DOB = Kind.PHONE, Kind.EMAIL, Kind.ID_NUMBER, Kind.DATE_OF_BIRTH
ADDRESS, ROOM, NAME = Kind.ADDRESS, Kind.ROOM_OR_LINE, Kind.PERSON_NAME

Row = tuple[str, str | None, list[tuple[Kind, str]]]

EN: list[Row] = [
    ("Supervisor Lim took my passport A1234567.", "MY", [(NAME, "Lim"), (ID, "A1234567")]),
    ("Mr. Tan and Mrs Wong shouted; Ms. Garcia saw it", None,
     [(NAME, "Tan"), (NAME, "Wong"), (NAME, "Garcia")]),
    ("manager Ahmad bin Ali and leader Kumar", None, [(NAME, "Ahmad bin Ali"), (NAME, "Kumar")]),
    ("supervisor Tan took the passport of worker 17", None, [(NAME, "Tan")]),
    ("Mr TAN and the HR Manager Lee", None, [(NAME, "TAN"), (NAME, "Lee")]),
    ("worker no 17 and worker ID 4471", None, [(ID, "17"), (ID, "4471")]),
    ("born 1994; birthday March 12, 1994", None, [(DOB, "1994"), (DOB, "March 12, 1994")]),
    ("Call +60 12-345 6789 or siti.a@example.com", None,
     [(PHONE, "+60 12-345 6789"), (EMAIL, "siti.a@example.com")]),
    ("WhatsApp 0123456789 or 013 456 7890", None,
     [(PHONE, "0123456789"), (PHONE, "013 456 7890")]),
    ("my employee no: E-20931, badge 4471", None, [(ID, "E-20931"), (ID, "4471")]),
    ("NRIC S1234567D and work permit no. 0123456", None, [(ID, "S1234567D"), (ID, "0123456")]),
    ("I was born on 12 March 1994 in Kathmandu", None, [(DOB, "12 March 1994")]),
    ("DOB: 03/12/1998", None, [(DOB, "03/12/1998")]),
    ("We sleep in dormitory room 12B, bed 4", None, [(ROOM, "room 12B"), (ROOM, "bed 4")]),
    ("I work on Line B-2, station 12", None, [(ROOM, "Line B-2"), (ROOM, "station 12")]),
    ("He lives at 12 Main Street near the gate", None, [(ADDRESS, "12 Main Street")]),
    ("On 3 March we worked 14 hours and were paid RM 1,500.", "MY", []),
    ("The line for the iPhone 15 ran 4 hours of overtime on 2024-03-15 10:30.", None, []),
    ("I am 17 years old and was born in a village.", None, []),
    ("The supervisor shouted at the line leader. The manager said no.", None, []),
    ("We were paid 12500000 VND for 26 days", "VN", []),
]
MS: list[Row] = [
    ("Encik Ahmad ambil pasport saya, no. pekerja 88123", "MY", [(NAME, "Ahmad"), (ID, "88123")]),
    ("Puan Siti dan Cik Aminah tinggal di bilik 3", None,
     [(NAME, "Siti"), (NAME, "Aminah"), (ROOM, "bilik 3")]),
    ("IC saya 900101-14-5678", None, [(ID, "900101-14-5678")]),
    ("Alamat: No. 12, Jalan Ampang", None, [(ADDRESS, "No. 12, Jalan Ampang")]),
    ("tarikh lahir 12/03/1994", None, [(DOB, "12/03/1994")]),
    ("hubungi saya 012-345 6789", "MY", [(PHONE, "012-345 6789")]),
    ("Kami bekerja 14 jam pada 3 Mac dan gaji RM 1,500 sahaja", "MY", []),
]
ES: list[Row] = [
    ("El Sr. Pérez y el señor López nos gritaron", "MX", [(NAME, "Pérez"), (NAME, "López")]),
    ("el ingeniero Ramírez y el jefe Juan", None, [(NAME, "Ramírez"), (NAME, "Juan")]),
    ("el Sr. José Luis Hernández y don Pedro", None,
     [(NAME, "José Luis Hernández"), (NAME, "Pedro")]),
    ("teléfono (55) 1234-5678", "MX", [(PHONE, "(55) 1234-5678")]),
    ("la supervisora María me quitó el pasaporte G12345678", None,
     [(NAME, "María"), (ID, "G12345678")]),
    ("mi CURP es GARC850312HDFRRL09", None, [(ID, "GARC850312HDFRRL09")]),
    ("número de empleado: 4471, gafete 2231", None, [(ID, "4471"), (ID, "2231")]),
    ("fecha de nacimiento: 12 de marzo de 1994", None, [(DOB, "12 de marzo de 1994")]),
    ("nacida el 05/11/2001", None, [(DOB, "05/11/2001")]),
    ("vivo en Calle Hidalgo 123", None, [(ADDRESS, "Calle Hidalgo 123")]),
    ("dormimos en el cuarto 5, trabajo en la línea 3", None,
     [(ROOM, "cuarto 5"), (ROOM, "línea 3")]),
    ("llámame al 55 1234 5678", "MX", [(PHONE, "55 1234 5678")]),
    ("el 3 de marzo trabajamos 14 horas y nos pagaron $1,500 pesos", "MX", []),
]
VI: list[Row] = [
    ("anh Minh và chị Lan bị ông Hùng phạt", None, [(NAME, "Minh"), (NAME, "Lan"), (NAME, "Hùng")]),
    ("bà Mai, quản đốc Tuấn và tổ trưởng Hải", None,
     [(NAME, "Mai"), (NAME, "Tuấn"), (NAME, "Hải")]),
    ("ông Nguyễn Văn Hùng", None, [(NAME, "Nguyễn Văn Hùng")]),
    ("Anh ấy nói sẽ phạt. Chị em công nhân rất sợ.", "VN", []),
    ("nhà ở ngõ 12, hẻm 45/6", None, [(ADDRESS, "ngõ 12"), (ADDRESS, "hẻm 45/6")]),
    ("công ty giữ hộ chiếu C1234567 của tôi", None, [(ID, "C1234567")]),
    ("số CCCD 001203004567", None, [(ID, "001203004567")]),
    ("mã nhân viên: NV2031", None, [(ID, "NV2031")]),
    ("ngày sinh: 12/03/1994", None, [(DOB, "12/03/1994")]),
    ("sinh ngày 12 tháng 3 năm 1994", None, [(DOB, "12 tháng 3 năm 1994")]),
    ("tôi ở phòng 204, làm chuyền 5", None, [(ROOM, "phòng 204"), (ROOM, "chuyền 5")]),
    ("nhà số 12 đường Lê Lợi", None, [(ADDRESS, "số 12 đường Lê Lợi")]),
    ("gọi 0912 345 678", "VN", [(PHONE, "0912 345 678")]),
    ("ngày 3/4/2024 đi vệ sinh bị phạt 150.000 đồng", "VN", []),
    ("lương 5.000.000đ, tăng ca 4 giờ", "VN", []),
]
TH: list[Row] = [
    ("คุณสมชายบอกให้ทำโอที", None, [(NAME, "สมชาย")]),
    ("หัวหน้าสมศรีด่าพวกเรา", None, [(NAME, "สมศรี")]),
    ("นายจ้างยึดหนังสือเดินทาง AA1234567 ไว้", None, [(ID, "AA1234567")]),
    ("รหัสพนักงาน 20931", None, [(ID, "20931")]),
    ("บัตรประชาชนเลขที่ 1-1012-34567-89-1", None, [(ID, "1-1012-34567-89-1")]),
    ("วันเกิด 12/03/2537", None, [(DOB, "12/03/2537")]),
    ("พักห้อง 12 ทำงานไลน์ 2", None, [(ROOM, "ห้อง 12"), (ROOM, "ไลน์ 2")]),
    ("โทร 081-234-5678", "TH", [(PHONE, "081-234-5678")]),
    ("บ้านเลขที่ 45/2 ถนนสุขุมวิท", None, [(ADDRESS, "บ้านเลขที่ 45/2")]),
    ("คุณภาพงานไม่ดี หัวหน้างานบอกให้ทำงาน 14 ชั่วโมง", "TH", []),
    ("เกิดอุบัติเหตุวันที่ 3/4/2024 ได้ค่าแรง 350 บาท", "TH", []),
]
ZH_HANS: list[Row] = [
    ("王主管和李经理扣了我们的工资", None, [(NAME, "王"), (NAME, "李")]),
    ("老王和小李都在", None, [(NAME, "王"), (NAME, "李")]),
    ("张组长、陈老板、刘班长都知道", None, [(NAME, "张"), (NAME, "陈"), (NAME, "刘")]),
    ("小李说王小明主管拿走了护照号码E12345678", None,
     [(NAME, "李"), (NAME, "王小明"), (ID, "E12345678")]),
    ("我的工号：20931", None, [(ID, "20931")]),
    ("身份证110101199003071234", None, [(ID, "110101199003071234")]),
    ("出生日期：1994年3月12日", None, [(DOB, "1994年3月12日")]),
    ("我1994年出生", None, [(DOB, "1994年")]),
    ("住在宿舍 3号楼 201，在产线 3 工作", None, [(ROOM, "宿舍 3号楼 201"), (ROOM, "产线 3")]),
    ("线 7 的工人", None, [(ROOM, "线 7")]),
    ("家在人民路123号", None, [(ADDRESS, "123号")]),
    ("电话 138 1234 5678", "CN", [(PHONE, "138 1234 5678")]),
    ("3月3号加班14小时，周末加班长达12小时，工资1500元", "CN", []),
    ("任何主管都不能扣工资，2024年3月生产线停了", "CN", []),
]
ID_: list[Row] = [
    ("Pak Budi dan Bu Sri menahan paspor saya B1234567", "ID",
     [(NAME, "Budi"), (NAME, "Sri"), (ID, "B1234567")]),
    ("NIK 3201234567890001", None, [(ID, "3201234567890001")]),
    ("tanggal lahir 17-08-1995", None, [(DOB, "17-08-1995")]),
    ("saya tinggal di kamar 7, Jl. Merdeka No. 45", None,
     [(ROOM, "kamar 7"), (ADDRESS, "Jl. Merdeka No. 45")]),
    ("hubungi 0812-3456-7890", "ID", [(PHONE, "0812-3456-7890")]),
    ("kami lembur 4 jam setiap hari, gaji Rp 3.500.000", "ID", []),
]
FIL: list[Row] = [
    ("Mang Jose at Kuya Ben ang nagbanta", None, [(NAME, "Jose"), (NAME, "Ben")]),
    # A title inside a run of capitalised words goes with the name: over-redact, never leak.
    ("Nagalit si Ginoong Cruz kay Aling Nena", None,
     [(NAME, "Ginoong Cruz"), (NAME, "Aling Nena")]),
    ("ang pasaporte ko ay P1234567A", None, [(ID, "P1234567A")]),
    ("nakatira sa kuwarto 3, linya 2", None, [(ROOM, "kuwarto 3"), (ROOM, "linya 2")]),
    ("tawagan ako sa 0917 123 4567", "PH", [(PHONE, "0917 123 4567")]),
    ("ipinanganak noong 12/03/1999", None, [(DOB, "12/03/1999")]),
    ("Nagtrabaho kami ng 14 oras noong 3 Marso", "PH", []),
]
OTHERS: list[Row] = [  # hi, ne, bn, ar, my
    ("सुपरवाइजर रमेश ने मेरा पासपोर्ट K1234567 ले लिया", None,
     [(NAME, "रमेश"), (ID, "K1234567")]),
    ("मैनेजर ने कहा कि जन्म तिथि 12/03/1994 लिखो", None, [(DOB, "12/03/1994")]),
    ("मेरो राहदानी नम्बर P1234567 हो", None, [(ID, "P1234567")]),
    ("জনাব করিম আমার পাসপোর্ট নিয়েছে", None, [(NAME, "করিম")]),
    ("المشرف أحمد أخذ جواز السفر", None, [(NAME, "أحمد")]),
    ("السيد محمد والمدير علي", None, [(NAME, "محمد"), (NAME, "علي")]),  # و clings to the title
    ("أسكن في غرفة 12", None, [(ROOM, "غرفة 12")]),
    ("အခန်း 12", None, [(ROOM, "အခန်း 12")]),
]
TABLES = {"en": EN, "ms": MS, "es": ES, "vi": VI, "th": TH, "zh_Hans": ZH_HANS, "id": ID_,
          "fil": FIL, "others": OTHERS}
ROWS = [pytest.param(*row, id=f"{lang}-{n}") for lang, rows in TABLES.items()
        for n, row in enumerate(rows)]

MIXED = ("Mr. Tan (+60 12-345 6789, tan@example.com) took passport A1234567 from Siti, "
         "born 12/03/1994, room 12B, Line B-2, 12 Jalan Ampang. 王主管 知道. คุณสมชาย รู้")


def kinds_and_texts(text: str, country: str | None) -> Counter[tuple[Kind, str]]:
    return Counter((p.kind, p.text) for p in propose(text, country=country))


@pytest.mark.parametrize(("text", "country", "expected"), ROWS)
def test_proposes_exactly_the_sensitive_spans(text: str, country: str | None,
                                              expected: list[tuple[Kind, str]]) -> None:
    assert kinds_and_texts(text, country) == Counter(expected)


@pytest.mark.parametrize(("country", "national", "international"), [
    ("MY", "012-345 6789", "+60 12-345 6789"),
    ("MX", "55 1234 5678", "+52 55 1234 5678"),
    ("TH", "081-234-5678", "+66 81 234 5678"),
    ("VN", "0912 345 678", "+84 912 345 678"),
    ("CN", "138 1234 5678", "+86 138 1234 5678"),
])
def test_phone_numbers_are_found_in_national_and_international_form(
        country: str, national: str, international: str) -> None:
    text = f"call {national} or {international} tonight"
    assert kinds_and_texts(text, country) == Counter([(PHONE, national), (PHONE, international)])


@pytest.mark.parametrize("country", [None, "MY", "MX"])
def test_international_numbers_are_found_whatever_the_country(country: str | None) -> None:
    assert kinds_and_texts("WhatsApp +84 912 345 678", country) == Counter(
        [(PHONE, "+84 912 345 678")])


def test_digits_grouped_with_spaces_or_dashes_are_a_phone_without_a_country() -> None:
    assert kinds_and_texts("my number 0 1 2 3 4 5 6 7 8 9", None) == Counter(
        [(PHONE, "0 1 2 3 4 5 6 7 8 9")])


def test_known_names_are_found_in_every_occurrence_whole_word_any_case() -> None:
    text = "Siti Aminah reported. SITI was moved; siti's room-mate from Sitiawan saw Aminah."
    found = [(p.kind, p.text) for p in propose(text, known_names=["Siti Aminah"])]
    assert found == [(NAME, "Siti Aminah"), (NAME, "SITI"), (NAME, "siti"), (NAME, "Aminah")]


def test_known_names_are_found_inside_unspaced_scripts() -> None:
    found = [p.text for p in propose("วันนี้มาลีถูกด่า มาลีร้องไห้", known_names=["มาลี"])]
    assert found == ["มาลี", "มาลี"]


def test_proposals_are_sorted_never_overlap_and_round_trip() -> None:
    text = MIXED
    proposals = propose(text, country="MY", known_names=["Siti", "Tan"])
    assert len(proposals) >= 10
    assert proposals == sorted(proposals, key=lambda p: p.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(proposals))
    assert all(text[p.start:p.end] == p.text for p in proposals)


def test_the_longer_span_wins_when_rules_overlap() -> None:
    # The number is a phone for phonenumbers but an ID by its keyword; the address holds a name.
    assert kinds_and_texts("employee no 0123456789", "MY") == Counter([(ID, "0123456789")])
    assert kinds_and_texts("12 Jalan Siti Aminah", None) == Counter(
        [(ADDRESS, "12 Jalan Siti Aminah")])


def test_repr_of_a_proposal_never_shows_the_matched_text() -> None:
    proposal = propose("passport A1234567")[0]
    assert "A1234567" not in repr(proposal) and "A1234567" not in str(proposal)
    assert proposal.text == "A1234567"


def test_proposal_id_is_offsets_and_kind() -> None:
    assert Proposal(3, 9, Kind.PHONE, "secret").id == "3-9-phone"


def test_redact_replaces_accepted_proposals_and_keeps_rejected_ones() -> None:
    text = "Mr. Tan took passport A1234567 in room 12B"
    name, passport, room = propose(text)
    redacted = redact(text, [name, passport, room], accepted={name.id, room.id})
    assert redacted == "Mr. [name] took passport A1234567 in [room/line]"


def test_redact_with_nothing_accepted_returns_the_text_unchanged() -> None:
    assert redact(MIXED, propose(MIXED), accepted=()) == MIXED


def test_every_kind_has_a_placeholder() -> None:
    assert set(PLACEHOLDERS) == set(Kind)
    text = "Mr. Tan +60 12-345 6789 tan@example.com"
    everything = propose(text)
    assert redact(text, everything, {p.id for p in everything}) == (
        "Mr. [name] [phone number] [e-mail]")


def test_redact_refuses_a_proposal_for_an_edited_text() -> None:
    proposal = propose("passport A1234567")[0]
    with pytest.raises(ProposalMismatch):
        redact("passport B7654321", [proposal], {proposal.id})


def test_redact_refuses_overlapping_accepted_proposals() -> None:
    first, second = Proposal(0, 5, NAME, "Siti "), Proposal(4, 10, NAME, " Amin")
    with pytest.raises(ProposalMismatch):
        redact("Siti Aminah", [first, second], {first.id, second.id})


@given(st.text(), st.lists(st.text(max_size=12), max_size=3),
       st.sampled_from([None, "MY", "MX", "TH", "VN", "CN", "XX"]))
def test_propose_never_raises_and_returns_sorted_disjoint_spans(
        text: str, names: list[str], country: str | None) -> None:
    proposals = propose(text, country=country, known_names=names)
    for proposal in proposals:
        assert 0 <= proposal.start < proposal.end <= len(text)
        assert text[proposal.start:proposal.end] == proposal.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(proposals))


@given(st.text(alphabet=st.sampled_from("0123456789 +-()/.:王主管คุณ Mr.Tanroom@")))
def test_propose_never_raises_on_digit_and_punctuation_soup(text: str) -> None:
    proposals = propose(text, country="MY")
    assert all(a.end <= b.start for a, b in itertools.pairwise(proposals))
