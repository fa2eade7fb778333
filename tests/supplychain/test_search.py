"""A worker finds their workplace by the name they use for it: the map's name misspelled,
typed without accents, or another name in their own script (``Facility.other_names``)."""

from __future__ import annotations

import pytest

from intake.db import Database
from intake.reports.burmese import zawgyi_spelling
from intake.supplychain import service
from tests import factories

PENANG_ZH = "槟城电路装配厂"
PENANG_NE = "पेनाङ सर्किट कारखाना"
PENANG_MY = "ပီနန်ဆားကစ်စက်ရုံ"
CHONBURI_TH = "โรงงานเซ็นเซอร์ชลบุรี"
AYUTTHAYA_TH = "โรงงานชิ้นส่วนฮาร์ดดิสก์อยุธยา"


@pytest.fixture
def names(db: Database) -> dict[str, int]:
    """Facilities named as a worker would name them, by their poster codes."""
    with db.transaction() as session:
        made = [
            factories.facility(session, name="Penang Circuit Assembly Sdn Bhd", code="MY4821",
                               other_names=[PENANG_ZH, PENANG_NE, PENANG_MY]),
            factories.facility(session, name="Kulim Wafer Test Plant", code="MY5307",
                               other_names=["居林晶圆测试厂"]),
            factories.facility(session, name="Chonburi Sensor Factory", country="TH",
                               code="TH2254", other_names=[CHONBURI_TH]),
            factories.facility(session, name="Ayutthaya Hard Drive Components", country="TH",
                               code="TH1187", other_names=[AYUTTHAYA_TH]),
            factories.facility(session, name="Rayong Electronics", country="TH",
                               code="TH5119", other_names=["โรงงานอิเล็กทรอนิกส์ระยอง"]),
            factories.facility(session, name="Lamphun Electronics", country="TH",
                               code="TH5120", other_names=["โรงงานอิเล็กทรอนิกส์ลำพูน"]),
            factories.facility(session, name="Ciudad Juárez Connector Works", country="MX",
                               code="MX3318"),
            factories.facility(session, name="Công ty Điện tử Đà Nẵng", country="VN",
                               code="VN5501"),
            factories.facility(session, name="Bac Ninh Phone Assembly", country="VN",
                               code="VN3021",
                               other_names=["Nhà máy lắp ráp điện thoại Bắc Ninh"]),
        ]
        return {f.poster_code: f.id for f in made}


def found(db: Database, text: str) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        return [(w.poster_code, w.known_as) for w in service.search(session, text)]


@pytest.mark.parametrize(("typed", "code", "known_as"), [
    ("槟城电路", "MY4821", PENANG_ZH),  # part of the name, as workers shorten it
    ("槟城电路装配厂", "MY4821", PENANG_ZH),
    ("पेनाङ सर्किट", "MY4821", PENANG_NE),
    ("ပီနန်ဆားကစ်", "MY4821", PENANG_MY),
    ("居林晶圆", "MY5307", "居林晶圆测试厂"),
    ("ชลบุรี", "TH2254", CHONBURI_TH),
    ("อยุธยา", "TH1187", AYUTTHAYA_TH),
    ("nha may dien thoai bac ninh", "VN3021", "Nhà máy lắp ráp điện thoại Bắc Ninh"),
])
def test_a_workplace_is_found_by_another_name_in_the_workers_script(
        db: Database, names: dict[str, int], typed: str, code: str, known_as: str) -> None:
    assert found(db, typed)[0] == (code, known_as)


def test_the_maps_name_is_found_as_before_and_says_so(db: Database,
                                                       names: dict[str, int]) -> None:
    assert found(db, "penang circit")[0] == ("MY4821", None)
    with db.transaction() as session:
        best = service.search(session, "penang circit")[0]
        assert best.called == "Penang Circuit Assembly Sdn Bhd"
        other = service.search(session, "槟城电路")[0]
        assert (other.name, other.called) == ("Penang Circuit Assembly Sdn Bhd", PENANG_ZH)


def test_a_workplace_found_by_several_of_its_names_is_listed_once(
        db: Database, names: dict[str, int]) -> None:
    # "Penang" is in the map's name and, as पेनाङ, not: typed in both scripts, each name of
    # MY4821 scores, but the list names the workplace once, by its best.
    codes = [code for code, _ in found(db, "Penang पेनाङ सर्किट 槟城")]
    assert codes.count("MY4821") == 1


def test_accents_need_not_be_typed(db: Database, names: dict[str, int]) -> None:
    assert found(db, "juarez connector")[0] == ("MX3318", None)
    assert found(db, "Ciudad Juárez")[0] == ("MX3318", None)


@pytest.mark.parametrize(("typed", "code"), [
    ("โรงงานอยุธยา", "TH1187"), ("โรงงานชลบุรี", "TH2254"), ("โรงงานลำพูน", "TH5120"),
    ("ลำพูน อิเล็กทรอนิกส์", "TH5120"), ("ระยอง", "TH5119")])
def test_thai_names_sharing_the_word_factory_are_told_apart(
        db: Database, names: dict[str, int], typed: str, code: str) -> None:
    """Thai does not space its words, and four of these names begin with โรงงาน (factory).
    A worker writes that word and the place: the place decides. Scored as whole runs of
    letters (vowel signs kept), the shared word outweighed the place."""
    assert found(db, typed)[0][0] == code


def test_a_vietnamese_name_is_found_typed_without_its_marks(db: Database,
                                                             names: dict[str, int]) -> None:
    """An SMS keyboard has no đ or ẵ (and each one costs a UCS-2 text): six of fifteen
    letters differ, too many for a match unless the marks are set aside."""
    assert found(db, "dien tu da nang")[0] == ("VN5501", None)


def test_burmese_typed_in_zawgyi_finds_the_name_kept_in_unicode(
        db: Database, names: dict[str, int]) -> None:
    typed = zawgyi_spelling("ပီနန်ဆားကစ်စက်ရုံ")
    assert typed != PENANG_MY
    assert found(db, typed)[0] == ("MY4821", PENANG_MY)


def test_a_name_in_a_script_no_workplace_is_named_in_finds_nothing(
        db: Database, names: dict[str, int]) -> None:
    assert found(db, "مصنع بينانج") == []
    assert found(db, "深圳富士康") == []
