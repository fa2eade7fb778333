"""De-identification of case summaries: propose redactions in every supported script, then
apply only the ones the monitor approved (DESIGN: nothing leaves the desk un-reviewed).

Phone numbers come from ``phonenumbers``. For IDs, dates of birth, addresses, rooms and names
no library we know covers our fourteen languages without per-language NLP models, so the rest
is our own: word lists per language (below) feed the table ``RULES``. To teach it a word, add
the word. Names and phone numbers lean to recall (a missed name can get a worker fired; an extra
proposal costs the monitor one click); the other kinds lean to precision. Known gaps: a name
written in lower case with no title, Burmese names, and text in decomposed Unicode (NFD).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import phonenumbers


class Kind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    DATE_OF_BIRTH = "date_of_birth"
    ADDRESS = "address"
    ROOM_OR_LINE = "room_or_line"
    PERSON_NAME = "person_name"


PLACEHOLDERS: Final[Mapping[Kind, str]] = {
    Kind.PHONE: "[phone number]", Kind.EMAIL: "[e-mail]", Kind.ID_NUMBER: "[ID number]",
    Kind.DATE_OF_BIRTH: "[date of birth]", Kind.ADDRESS: "[address]",
    Kind.ROOM_OR_LINE: "[room/line]", Kind.PERSON_NAME: "[name]",
}


@dataclass(frozen=True)
class Proposal:
    """One proposed redaction. ``text`` is the sensitive match: kept out of repr and logs."""

    start: int
    end: int
    kind: Kind
    text: str = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.start}-{self.end}-{self.kind}"


class ProposalMismatch(ValueError):
    """An accepted proposal does not fit the text (edited since), or overlaps another."""


# --- Word lists: add a word or a language here ---------------------------------------------
# Keys are our language codes (intake.i18n). In a word " " matches any spacing and "." is
# optional; words match case-insensitively, and whole words in scripts that use spaces.
Words = Mapping[str, tuple[str, ...]]

ID_WORDS: Final[Words] = {  # followed by a token with digits: the token is the ID
    "en": ("passport", "IC", "MyKad", "NRIC", "ID", "identity card", "employee no",
           "employee number", "employee ID", "staff no", "staff ID", "worker no", "worker ID",
           "badge", "work permit", "permit no"),
    "ms": ("pasport", "kad pengenalan", "no. pekerja", "nombor pekerja", "ID pekerja",
           "no. kakitangan", "permit kerja", "no. KP"),
    "es": ("pasaporte", "número de empleado", "núm. de empleado", "no. de empleado",
           "número de nómina", "nómina", "gafete", "credencial", "CURP", "INE", "RFC", "NSS"),
    "vi": ("hộ chiếu", "CMND", "CCCD", "căn cước", "mã nhân viên", "mã NV", "số thẻ",
           "thẻ nhân viên"),
    "th": ("หนังสือเดินทาง", "พาสปอร์ต", "บัตรประชาชน", "บัตรประจำตัว", "รหัสพนักงาน",
           "บัตรพนักงาน", "เลขบัตร"),
    "zh_Hans": ("护照", "身份证", "工号", "员工号", "员工编号", "工牌", "工卡", "厂牌"),
    "id": ("paspor", "KTP", "NIK", "nomor karyawan", "no. karyawan", "ID karyawan"),
    "fil": ("numero ng empleyado", "SSS", "UMID"),
    "ne": ("राहदानी", "पासपोर्ट", "नागरिकता"), "hi": ("पासपोर्ट", "आधार"),
    "bn": ("পাসপোর্ট", "জাতীয় পরিচয়পত্র"), "my": ("နိုင်ငံကူးလက်မှတ်", "မှတ်ပုံတင်"),
    "ar": ("جواز السفر", "جواز", "رقم الهوية", "الهوية", "رقم الموظف", "الإقامة"),
}
ID_GLUE: Final[Words] = {  # may stand between an ID word and the ID
    "en": ("no.", "number", "num.", "nr.", "ID", "card", "is", "was"),
    "ms": ("nombor", "saya", "ialah", "adalah"), "id": ("nomor", "nomer", "saya", "aku"),
    "es": ("número", "es"),
    "vi": ("số", "là"), "th": ("เลขที่", "หมายเลข", "เลข", "คือ"),
    "zh_Hans": ("号码", "编号", "号", "是", "为"), "fil": ("numero", "ko", "ng", "ay"),
    "hi": ("नंबर", "संख्या"), "ne": ("नम्बर",), "ar": ("رقم",),
}
DOB_WORDS: Final[Words] = {  # vi/th: bare "sinh"/"เกิด" also mean hygiene/"happen": not used
    "en": ("born", "D.O.B.", "date of birth", "birth date", "birthdate", "birthday"),
    "ms": ("tarikh lahir", "lahir"), "id": ("tanggal lahir", "tgl. lahir", "lahir"),
    "es": ("fecha de nacimiento", "nacimiento", "nacido", "nacida", "nací", "nació"),
    "vi": ("ngày sinh", "sinh ngày", "năm sinh", "sinh năm", "sinh vào"),
    "th": ("วันเกิด", "เกิดวันที่", "ปีเกิด", "เกิดปี", "เกิดเมื่อวันที่"),
    "zh_Hans": ("出生日期", "出生于", "出生", "生日"),
    "fil": ("ipinanganak", "kapanganakan"), "hi": ("जन्म तिथि", "जन्मतिथि", "जन्म"),
    "ne": ("जन्म मिति", "जन्म"), "bn": ("জন্ম তারিখ", "জন্ম"), "my": ("မွေးနေ့", "မွေး"),
    "ar": ("تاريخ الميلاد", "مواليد"),
}
MONTHS: Final[Words] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December", "Jan.", "Feb.", "Mar.", "Apr.",
           "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec."),
    "ms": ("Januari", "Februari", "Mac", "Mei", "Jun", "Julai", "Ogos", "Oktober", "Disember"),
    "id": ("Maret", "Juni", "Juli", "Agustus", "Desember"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "setiembre", "octubre", "noviembre", "diciembre"),
    "fil": ("Enero", "Pebrero", "Marso", "Abril", "Hunyo", "Hulyo", "Setyembre", "Oktubre",
            "Nobyembre", "Disyembre"),
    "th": ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
           "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"),
}
STREET_FIRST: Final[Words] = {  # the street word comes before the street name
    "ms": ("jalan", "jln.", "lorong", "lrg.", "lebuh", "persiaran"), "id": ("jl.", "gang", "gg."),
    "es": ("calle", "avenida", "av.", "avda.", "calzada", "privada", "andador", "carretera"),
    "fil": ("kalye",), "vi": ("đường", "phố"),
}
STREET_LAST: Final[Words] = {  # the street word comes after the street name
    "en": ("street", "st.", "road", "rd.", "avenue", "ave.", "lane", "boulevard", "blvd.",
           "highway", "hwy."),
}
ALLEY_WORDS: Final[Words] = {"vi": ("hẻm", "ngõ", "ngách", "kiệt")}  # followed by a number
ROOM_WORDS: Final[Words] = {  # followed by a number or a single capital: room, bed, line
    "en": ("room", "dorm", "dormitory", "hostel", "block", "blk.", "bed", "bunk", "line",
           "station", "workstation"),
    "ms": ("bilik", "katil", "blok", "asrama", "stesen"),
    "es": ("cuarto", "habitación", "dormitorio", "cama", "línea", "linea", "estación", "nave",
           "módulo"),
    "vi": ("phòng", "giường", "chuyền", "dãy"), "id": ("kamar", "ranjang", "lini"),
    "th": ("ห้องพัก", "ห้อง", "ไลน์การผลิต", "ไลน์", "สายการผลิต", "เตียง", "ตึก", "อาคาร"),
    "zh_Hans": ("宿舍", "寝室", "房间", "产线", "生产线", "流水线", "拉线", "工位", "床位", "车间"),
    "fil": ("kuwarto", "kwarto", "silid", "kama", "higaan", "linya", "istasyon"),
    "hi": ("कमरा", "कमरे", "बेड", "लाइन"), "ne": ("कोठा", "बेड", "लाइन"),
    "bn": ("রুম", "কক্ষ", "লাইন"), "my": ("အခန်း", "လိုင်း"), "ar": ("غرفة", "سرير", "خط", "عنبر"),
}
ROOM_GLUE: Final[Words] = {"en": ("no.", "number", "#"), "es": ("núm.", "número"),
                           "ms": ("nombor",), "vi": ("số",), "th": ("ที่",), "zh_Hans": ("第",)}
TITLE_WORDS: Final[Words] = {  # followed by a name (capitalised, or the next word)
    "en": ("Mr.", "Mrs.", "Ms.", "Miss", "Mdm.", "Madam", "Dr.", "Sir", "supervisor", "manager",
           "leader", "foreman", "boss", "agent", "recruiter", "broker", "officer", "guard",
           "director", "owner", "driver", "colleague", "coworker", "co-worker", "friend",
           "worker", "named", "called"),
    "ms": ("Encik", "Puan", "Cik", "Tuan", "Datuk", "Dato", "Haji", "Hajah", "penyelia",
           "pengurus", "ketua", "mandur", "majikan", "ejen", "kawan", "bernama", "abang",
           "kakak"),
    "es": ("Sr.", "Sra.", "Srta.", "señor", "señora", "señorita", "don", "doña", "ingeniero",
           "ingeniera", "Ing.", "licenciado", "licenciada", "Lic.", "jefe", "jefa",
           "supervisora", "gerente", "encargado", "encargada", "líder", "capataz", "compañero",
           "compañera", "llamado", "llamada", "se llama"),
    "vi": ("anh", "chị", "em", "ông", "bà", "cô", "chú", "bác", "quản đốc", "tổ trưởng",
           "trưởng ca", "trưởng chuyền", "trưởng phòng", "giám đốc", "quản lý", "giám sát",
           "bạn", "tên là", "tên"),
    "id": ("Pak", "Bapak", "Bu", "Ibu", "Mas", "Mbak", "Bang", "Kak", "mandor", "atasan",
           "manajer", "teman", "Sdr.", "Sdri."),
    "fil": ("Ginoong", "Gng.", "Ginang", "Binibini", "Bb.", "Aling", "Mang", "Kuya", "Ate",
            "si", "ni", "kay", "kapatas", "amo", "superbisor", "manedyer"),
    "hi": ("श्रीमती", "श्री", "सुपरवाइजर", "मैनेजर", "ठेकेदार"),
    "ne": ("सुपरभाइजर", "म्यानेजर", "साहु"),
    "bn": ("জনাব", "শ্রী", "মিস্টার", "সুপারভাইজার", "ম্যানেজার"),
    "ar": ("السيد", "السيدة", "المشرف", "المشرفة", "المدير", "المديرة", "الكفيل", "أبو"),
    "th": ("คุณ", "หัวหน้างาน", "หัวหน้าไลน์", "หัวหน้า", "ผู้จัดการ", "นางสาว", "นาย", "นาง",
           "พี่", "น้อง", "ชื่อ"),  # see NAME_ENDS
}
NOT_NAMES: Final[Words] = {  # after a title, these are not a name
    "en": ("ID", "IC", "HR", "QC", "OT", "No", "The", "On", "In", "At", "And", "But", "Line",
           "Room", "Block"),
    "hi": ("ने", "को", "से", "का", "की", "के", "में", "पर", "और", "है", "हैं", "था", "थी", "जी"),
    "ne": ("ले", "लाई", "मा", "बाट", "र", "हो", "छ"), "bn": ("কে", "এর", "ও", "আর", "না"),
    "ar": ("في", "من", "على", "عن", "إلى", "أن", "قال"),
}
NAME_ENDS: Final[Words] = {  # Thai has no spaces: a name runs until one of these words
    "th": ("บอก", "ว่า", "ให้", "ได้", "ไม่", "ก็", "เป็น", "จะ", "และ", "ที่", "ซึ่ง", "สั่ง",
           "ด่า", "ตี", "ขู่", "ยึด", "ทำ", "มา", "ไป", "เอา", "ไล่", "กับ", "ของ", "เคย",
           "ชอบ", "พูด", "หัก", "ถูก", "ครับ", "ค่ะ"),
}
NOT_NAME_STARTS: Final[Words] = {  # คุณภาพ is "quality", นายจ้าง "employer", คุณต้อง "you must"
    "th": ("ต้อง", "ภาพ", "สมบัติ", "ค่า", "จ้าง", "งาน", "แผนก", "ฝ่าย", "กะ", "ทีม", "ไลน์",
           "ช่วย", "เอง", "ทุก", "เล่น"),
}
ZH_SURNAMES: Final = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                      "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
                      "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤")  # not 于/向: "at"/"to"
ZH_TITLES: Final = ("主管", "经理", "组长", "老板", "班长", "线长", "拉长", "厂长", "科长",
                    "课长", "部长", "主任", "师傅", "先生", "小姐", "女士", "阿姨", "大姐", "姐",
                    "哥", "总监", "领班", "队长", "老师")  # 王主管, 王小明经理
ZH_NOT_GIVEN: Final = "的了在是和与跟被把给对说让叫末加时日年月天工资钱个上下们也都就还又很何"
PARTICLES: Final = ("bin", "binti", "bt", "de", "del", "dela", "la", "van", "von", "da", "dos",
                    "a/l", "a/p")  # inside a name, lower case

# --- How the words become patterns --------------------------------------------------------

_NO_SPACE_SCRIPT = re.compile(r"[\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u3040-\u30FF"
                              r"\u3400-\u9FFF\uF900-\uFAFF]")  # Thai, Lao, Myanmar, Khmer, CJK
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_UPPER: Final = "".join(ch for ch in map(chr, range(0x41, 0x1F00)) if ch.isupper())
_CAP: Final = rf"[{_UPPER}](?:[^\W\d_]|[\u0300-\u036F])*(?:['’-][^\W\d_]+)*"  # "Lê", "O'Neil"
_SPACE: Final = r"[ \t\u00A0]"


def _word(word: str) -> str:
    """A regex for one listed word: flexible spacing, optional dots, whole-word if spaced."""
    body = r"\s*".join(re.escape(part) for part in word.split()).replace(r"\.", r"\.?")
    first, last = word[0], (word.rstrip(".") or word)[-1]
    if first.isalpha() and not _NO_SPACE_SCRIPT.match(first) and not _ARABIC.match(first):
        body = r"(?<![^\W\d_])" + body  # Arabic words take clitics in front: والمدير
    if last.isalpha() and not _NO_SPACE_SCRIPT.match(last):
        body += r"(?![^\W\d_])"
    return body


def _any(*tables: Words) -> str:
    """One case-insensitive alternation of every word in the tables, longest first."""
    words = {word for table in tables for words in table.values() for word in words}
    return "(?i:" + "|".join(_word(w) for w in sorted(words, key=len, reverse=True)) + ")"


_MONTH = _any(MONTHS)
_DATE = "(?:" + "|".join((
    r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})",  # 12/03/1994, 12.03.94
    r"\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}",  # 1994-03-12
    # 12 March 1994, 12 de marzo de 1994, 12 มีนาคม 2537
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s*(?:de\s+)?{_MONTH},?\s*(?:del?\s+)?\d{{4}}",
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}",  # March 12, 1994
    r"\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm|,|/)?\s*\d{4}",  # 12 tháng 3 năm 1994
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?",  # 1994年3月12日
    r"(?:19|20|25)\d{2}",  # a year alone (25xx: the Thai Buddhist era)
)) + r")(?!\d)"
_BIRTH_GAP = r"[^\d\n.!?;。！？]{0,16}?"  # "born on", "lahir pada": within one sentence
_DOB = rf"{_any(DOB_WORDS)}{_BIRTH_GAP}(?P<v>{_DATE})"
_ZH_DOB = (r"(?P<v>\d{4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?)"
           r"\s*(?:出生|生(?![产活病意气]))")  # 1994年出生; not 生产 (production)

_ID_VALUE = r"(?=[A-Za-z\-/]*\d)[A-Za-z\d](?:[A-Za-z\d\-/]*[A-Za-z\d])?(?![A-Za-z\d])"
_ID_AFTER_WORD = (rf"{_any(ID_WORDS)}[\s:：#\-]*(?:{_any(ID_GLUE)}[\s:：#\-]*){{0,2}}"
                  rf"(?P<v>{_ID_VALUE})")
_MYKAD = r"(?<!\d)\d{6}-\d{2}-\d{4}(?!\d)"
_CURP = r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b"
_CN_RESIDENT_ID = r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])"
_TH_NATIONAL_ID = r"(?<!\d)\d-\d{4}-\d{5}-\d{2}-\d(?!\d)"
_LONG_DIGITS = r"(?<![\w+.,/:-])\d{8,}(?![\w/:]|[.,]\d)"

_PHONE_PART = r"(?:\(\d+\)|\d+)"
_GROUPED_DIGITS = (rf"(?<![\w+.,/:])\+?{_PHONE_PART}(?:(?:\s?[-.]\s?|{_SPACE}){_PHONE_PART})*"
                   r"(?![\w/:]|[.,]\d)")
_EMAIL = r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"

_HOUSE_NO = (r"(?<![\w/-])(?:(?i:no|núm|num|số)\.?\s*|#\s*)?"
             r"\d{1,5}[A-Za-z]?(?:[/-]\d{1,4}[A-Za-z]?)?")
_STREET_NAME = rf"{_CAP}(?:{_SPACE}+(?:(?:de|del|la|las|los){_SPACE}+)?(?!No\b){_CAP}){{0,3}}"
_NUMBER_THEN_STREET = rf"{_HOUSE_NO},?{_SPACE}+{_any(STREET_FIRST)}{_SPACE}+{_STREET_NAME}"
_STREET_THEN_NUMBER = (rf"{_any(STREET_FIRST)}{_SPACE}+{_STREET_NAME},?{_SPACE}*"
                       rf"{_HOUSE_NO}(?![\w/])")
_NUMBER_NAME_STREET = rf"{_HOUSE_NO},?{_SPACE}+(?:{_CAP}{_SPACE}+){{1,3}}{_any(STREET_LAST)}"
_ALLEY = rf"{_any(ALLEY_WORDS)}{_SPACE}*\d+(?:/\d+)*"
_TH_ADDRESS = r"บ้านเลขที่\s*\d+(?:/\d+)?|(?<![\d/])\d+(?:/\d+)?(?=\s*(?:ถนน|ถ\.|ซอย|ซ\.|หมู่))"
_ZH_ADDRESS = r"(?<=[路街巷弄])\d+\s*号(?:\s*\d+\s*(?:号楼|栋|室))*"  # 人民路[123号]

_ROOM_VALUE = r"(?:[A-Za-z]?\d+[A-Za-z]?|[A-Z](?![^\W\d_]))(?:[-/][A-Za-z\d]+)*(?![^\W_])"
_ROOM = rf"{_any(ROOM_WORDS)}\s*(?:{_any(ROOM_GLUE)}\s*)?{_ROOM_VALUE}"
_ZH_UNIT = "(?:号楼|号房|号床|号线|号|栋|幢|楼|层|室|房|床|拉|线)"
_ZH_ROOM = (rf"(?:(?:{_any({'zh_Hans': ROOM_WORDS['zh_Hans']})}|(?<![在上下热连天路电光])线)"
            r"\s*(?:第\s*)?|(?<![A-Za-z\d])(?=[A-Za-z\d]+\s*(?:号楼|栋|幢|号线|号床|号房|室)))"
            rf"[A-Za-z\d]+(?:\s*{_ZH_UNIT})?(?:\s*[A-Za-z\d]+{_ZH_UNIT}?){{0,2}}")  # 宿舍 3号楼 201

_NOT_A_NAME = _any({"en": NOT_NAMES["en"]})
_PARTICLE = _any({"*": tuple(PARTICLES)})  # Ahmad bin Ali, Juan de la Cruz
_LATIN_NAME = (rf"(?!{_NOT_A_NAME}){_CAP}"
               rf"(?:{_SPACE}+(?:{_PARTICLE}{_SPACE}+){{0,2}}(?!{_NOT_A_NAME}){_CAP}){{0,2}}")
_SPACED_LETTERS = r"[\u0600-\u06FF\u0900-\u09FF]"  # Arabic, Devanagari, Bengali
_SPACED_NAME = rf"(?!{_any(NOT_NAMES)}(?!{_SPACED_LETTERS})){_SPACED_LETTERS}+"
_TITLED_NAME = (rf"{_any({k: v for k, v in TITLE_WORDS.items() if k != 'th'})}{_SPACE}+"
                rf"(?P<v>{_LATIN_NAME}|{_SPACED_NAME})")
_TH_NAME = (rf"{_any({'th': TITLE_WORDS['th']})} ?(?!{_any(NAME_ENDS, NOT_NAME_STARTS)})"
            rf"(?P<v>[\u0E00-\u0E7F]{{2,20}}?)(?={_any(NAME_ENDS)}|[^\u0E00-\u0E7F]|$)")
_ZH_NAME = (rf"(?<![任如为几每一])(?P<v>[{ZH_SURNAMES}]"  # not 任何/如何: "any", "how"
            rf"(?:(?![{ZH_NOT_GIVEN}])[\u4e00-\u9fff]){{0,2}}?)(?:{'|'.join(ZH_TITLES)})")
_ZH_NICKNAME = rf"[老小](?P<v>[{ZH_SURNAMES.replace('钱', '')}])"  # 老王, 小李; not 小钱

_MONEY_BEFORE = re.compile(r"(?:RM|Rp|Rs|MYR|IDR|VND|THB|MXN|USD|CNY|RMB|PHP|INR|BDT|NPR"
                           r"|[$₱฿¥₫€£₹৳])\s?$", re.IGNORECASE)
_MONEY_AFTER = re.compile(r"^\s?(?:đ|đồng|VND|baht|บาท|元|块|pesos?|ringgit|rupiah|rupees?"
                          r"|taka)", re.IGNORECASE)
_STARTS_WITH_DATE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}(?!\d)"
                               r"|\d{1,2}[-.]\d{1,2}[-.]\d{4}(?!\d)")


# --- Finders: text in, spans out ------------------------------------------------------------

Span = tuple[int, int]


@dataclass(frozen=True)
class Context:
    country: str | None
    known_names: tuple[str, ...]


Finder = Callable[[str, Context], Iterator[Span]]
Keep = Callable[[str, int, int], bool]


def _regex(pattern: str, *, keep: Keep | None = None) -> Finder:
    """A finder for a regex: the span of its group ``v`` if it has one, else of the match."""
    compiled = re.compile(pattern)
    group = "v" if "v" in compiled.groupindex else 0

    def find(text: str, context: Context) -> Iterator[Span]:
        for match in compiled.finditer(text):
            start, end = match.span(group)
            if start < end and (keep is None or keep(text, start, end)):
                yield start, end
    return find


def _not_money(text: str, start: int, end: int) -> bool:
    return not (_MONEY_BEFORE.search(text[max(0, start - 5):start])
                or _MONEY_AFTER.match(text[end:end + 8]))


def _looks_like_phone(text: str, start: int, end: int) -> bool:
    """9-15 digits that are grouped, start with 0 (a trunk prefix) or "+"; not a date."""
    found = text[start:end]
    digits = len(re.findall(r"\d", found))
    grouped = found.startswith(("+", "0", "(")) or not found.isdigit()
    long_enough = 9 <= digits <= 15 or (found.startswith("+") and digits >= 8)
    return long_enough and grouped and not _STARTS_WITH_DATE.match(found) \
        and _not_money(text, start, end)


def _phone_numbers(text: str, context: Context) -> Iterator[Span]:
    region = (context.country or "ZZ").upper()  # "ZZ": only "+..." numbers
    leniency = phonenumbers.Leniency.VALID
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
        yield match.start, match.end


def _known_names(text: str, context: Context) -> Iterator[Span]:
    """Every whole-word occurrence of each given name, and of each part of a longer name."""
    variants: set[str] = set()
    for name in context.known_names:
        parts = name.split()
        variants.update([" ".join(parts)] if parts else [])
        if len(parts) > 1:
            variants.update(p for p in parts if len(p) >= 3 and p.lower() not in PARTICLES)
    for variant in variants:
        for match in re.finditer(f"(?i:{_word(variant)})", text):
            if match.start() < match.end():
                yield match.span()


# --- The rules: where a match overlaps, the longer wins, then the one listed first ----------


@dataclass(frozen=True)
class Rule:
    kind: Kind
    languages: tuple[str, ...]  # what it was written for; every rule runs on every text
    find: Finder


ALL: Final = ("*",)
RULES: Final[tuple[Rule, ...]] = (
    Rule(Kind.EMAIL, ALL, _regex(_EMAIL)),
    Rule(Kind.ID_NUMBER, tuple(ID_WORDS), _regex(_ID_AFTER_WORD)),
    Rule(Kind.ID_NUMBER, ("ms",), _regex(_MYKAD)),
    Rule(Kind.ID_NUMBER, ("es",), _regex(_CURP)),
    Rule(Kind.ID_NUMBER, ("zh_Hans",), _regex(_CN_RESIDENT_ID)),
    Rule(Kind.ID_NUMBER, ("th",), _regex(_TH_NATIONAL_ID)),
    Rule(Kind.DATE_OF_BIRTH, tuple(DOB_WORDS), _regex(_DOB)),
    Rule(Kind.DATE_OF_BIRTH, ("zh_Hans",), _regex(_ZH_DOB)),
    Rule(Kind.PHONE, ALL, _phone_numbers),
    Rule(Kind.PHONE, ALL, _regex(_GROUPED_DIGITS, keep=_looks_like_phone)),
    Rule(Kind.ID_NUMBER, ALL, _regex(_LONG_DIGITS, keep=_not_money)),
    Rule(Kind.ADDRESS, tuple(STREET_FIRST), _regex(_NUMBER_THEN_STREET)),
    Rule(Kind.ADDRESS, tuple(STREET_FIRST), _regex(_STREET_THEN_NUMBER)),
    Rule(Kind.ADDRESS, tuple(STREET_LAST), _regex(_NUMBER_NAME_STREET)),
    Rule(Kind.ADDRESS, tuple(ALLEY_WORDS), _regex(_ALLEY)),
    Rule(Kind.ADDRESS, ("th",), _regex(_TH_ADDRESS)),
    Rule(Kind.ADDRESS, ("zh_Hans",), _regex(_ZH_ADDRESS)),
    Rule(Kind.ROOM_OR_LINE, tuple(ROOM_WORDS), _regex(_ROOM)),
    Rule(Kind.ROOM_OR_LINE, ("zh_Hans",), _regex(_ZH_ROOM)),
    Rule(Kind.PERSON_NAME, tuple(k for k in TITLE_WORDS if k != "th"), _regex(_TITLED_NAME)),
    Rule(Kind.PERSON_NAME, ("th",), _regex(_TH_NAME)),
    Rule(Kind.PERSON_NAME, ("zh_Hans",), _regex(_ZH_NAME)),
    Rule(Kind.PERSON_NAME, ("zh_Hans",), _regex(_ZH_NICKNAME)),
    Rule(Kind.PERSON_NAME, ALL, _known_names),
)


def propose(text: str, *, country: str | None = None,
            known_names: Sequence[str] = ()) -> list[Proposal]:
    """Proposed redactions for ``text``: sorted by start, never overlapping."""
    context = Context(country, tuple(known_names))
    found = [(start, end, rank, rule.kind) for rank, rule in enumerate(RULES)
             for start, end in rule.find(text, context)]
    return [Proposal(s, e, kind, text[s:e]) for s, e, kind in _join(_resolve(found), text)]


Found = tuple[int, int, Kind]


def _clashing(kept: list[Found], start: int, end: int) -> list[Found]:
    return [k for k in kept if start < k[1] and k[0] < end]


def _resolve(found: list[tuple[int, int, int, Kind]]) -> list[Found]:
    """Where spans overlap keep the longer; on a tie the earlier, then the earlier rule. A
    dropped span of the same kind that sticks out widens the kept one if nothing is in its way.
    """
    kept: list[Found] = []
    dropped: list[Found] = []
    for start, end, _rank, kind in sorted(found, key=lambda f: (f[0] - f[1], f[0], f[2])):
        (dropped if _clashing(kept, start, end) else kept).append((start, end, kind))
    for start, end, kind in dropped:
        clashes = _clashing(kept, start, end)
        others = [k for k in kept if k not in clashes]
        low, high = min(start, *(k[0] for k in clashes)), max(end, *(k[1] for k in clashes))
        if all(k[2] == kind for k in clashes) and not _clashing(others, low, high):
            kept = [*others, (low, high, kind)]
    return sorted(kept)


def _join(kept: list[Found], text: str) -> list[Found]:
    """One span for neighbours of one kind with only spaces between ("Siti" "Aminah")."""
    joined: list[Found] = []
    for start, end, kind in kept:
        if joined and joined[-1][2] == kind and not text[joined[-1][1]:start].strip():
            start = joined.pop()[0]
        joined.append((start, end, kind))
    return joined


def redact(text: str, proposals: Sequence[Proposal], accepted: Collection[str]) -> str:
    """``text`` with each accepted proposal (by id) replaced by its kind's placeholder."""
    chosen = sorted((p for p in proposals if p.id in accepted), key=lambda p: p.start)
    pieces: list[str] = []
    position = 0
    for proposal in chosen:
        if proposal.start < position or text[proposal.start:proposal.end] != proposal.text:
            raise ProposalMismatch(f"proposal {proposal.id} does not fit the text")
        pieces += [text[position:proposal.start], PLACEHOLDERS[proposal.kind]]
        position = proposal.end
    return "".join([*pieces, text[position:]])
