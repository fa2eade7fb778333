"""Demo data: two desks, monitors, buyers, fictional facilities, contracts and SMS numbers.

Every key and password is generated fresh. Logins cannot be re-derived from the database
(passwords only exist as Argon2id-wrapped keys), so the first run writes them to
``instance/demo-logins.json`` (0600, after the data is committed) and a second run prints
the same logins from there instead of loading a second copy. Demo data is for trying the
software, never for production.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.hierarchy import Argon2Profile
from intake.accounts.models import AccountStatus, Desk, Role, SmsNumber
from intake.accounts.service import add_active_member, create_account, create_desk
from intake.errors import IntakeError
from intake.settings import write_private_file
from intake.supplychain.models import BuyerOrg, Contract, Coverage, Facility, Supplier

LOGINS_FILE = "demo-logins.json"
UNION_DESK = "Electronics Workers Union of Malaysia (demo desk)"
NGO_DESK = "Centro de Apoyo Laboral (demo desk)"

# (name, country, poster code, sector, worker band, supplier)
FACILITIES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Penang Circuit Assembly Sdn Bhd", "MY", "MY4821", "Electronics", "1000-4999", "Kestrel"),
    ("Kulim Wafer Test Plant", "MY", "MY5307", "Semiconductors", "500-999", "Kestrel"),
    ("Senai Cable Harness Factory", "MY", "MY6140", "Electronics", "100-499", "Harbour"),
    ("Shah Alam Display Modules", "MY", "MY7712", "Electronics", "1000-4999", "Harbour"),
    ("Tijuana Power Supply Plant 2", "MX", "MX2045", "Electronics", "1000-4999", "Norte"),
    ("Ciudad Juárez Connector Works", "MX", "MX3318", "Electronics", "500-999", "Norte"),
    ("Guadalajara Board Assembly", "MX", "MX4490", "Electronics", "1000-4999", "Jalisco"),
    ("Reynosa Battery Packs", "MX", "MX5263", "Batteries", "100-499", "Jalisco"),
    ("Ayutthaya Hard Drive Components", "TH", "TH1187", "Electronics", "1000-4999", "Chao"),
    ("Chonburi Sensor Factory", "TH", "TH2254", "Electronics", "500-999", "Chao"),
    ("Bac Ninh Phone Assembly", "VN", "VN3021", "Electronics", "5000+", "Red River"),
    ("Hai Phong Camera Modules", "VN", "VN4176", "Electronics", "1000-4999", "Red River"),
)

# Names workers use that the map does not write, by poster code: Chinese, Nepali and Burmese
# workers in Malaysia, Thai and Burmese ones in Thailand, Vietnamese with and without marks.
OTHER_NAMES: dict[str, list[str]] = {
    "MY4821": ["槟城电路装配厂", "पेनाङ सर्किट कारखाना", "ပီနန်ဆားကစ်စက်ရုံ",
               "Kilang Litar Pulau Pinang"],
    "MY5307": ["居林晶圆测试厂"],
    "TH1187": ["โรงงานชิ้นส่วนฮาร์ดดิสก์อยุธยา"],
    "TH2254": ["โรงงานเซ็นเซอร์ชลบุรี", "ချွန်ဘူရီ ဆင်ဆာစက်ရုံ"],
    "VN3021": ["Nhà máy lắp ráp điện thoại Bắc Ninh"],
    "VN4176": ["Nhà máy camera Hải Phòng"],
}

SUPPLIERS = {
    "Kestrel": ("Kestrel Components Ltd", "MY"),
    "Harbour": ("Harbour Electronics Trading", "MY"),
    "Norte": ("Norte Manufacturing Services", "MX"),
    "Jalisco": ("Jalisco EMS Group", "MX"),
    "Chao": ("Chao Phraya Precision", "TH"),
    "Red River": ("Red River Devices JSC", "VN"),
}

SMS_NUMBERS = (("+60326000100", "MY", "en"), ("+525550000100", "MX", "es"))

MONITORS = (
    ("aminah@union.demo.example", "Aminah (union desk)", UNION_DESK),
    ("rajesh@union.demo.example", "Rajesh (union desk)", UNION_DESK),
    ("lucia@ngo.demo.example", "Lucía (NGO desk)", NGO_DESK),
)

BUYERS = (
    ("City of Westhaven Council (demo)", "procurement@westhaven.demo.example", True),
    ("Northfield University (demo)", "ethics@northfield.demo.example", False),
)


class DemoLoginsMissing(IntakeError):
    """Demo data is in the database but the logins file that goes with it is gone."""


@dataclass(frozen=True)
class DemoResult:
    created: bool
    logins: dict[str, Any]


def load_demo(
    session: Session, *, instance: Path, secret_key: bytes, profile: Argon2Profile
) -> DemoResult:
    """Load the demo data once; on later runs return the logins saved by the first run."""
    logins_path = instance / LOGINS_FILE
    if session.scalar(select(Desk.id).where(Desk.name == UNION_DESK)) is not None:
        if not logins_path.exists():
            raise DemoLoginsMissing(
                f"demo data is already loaded but {logins_path} is missing; "
                "start from an empty database to get new demo logins"
            )
        return DemoResult(created=False, logins=_saved_logins(logins_path))

    facilities = _load_supply_chain(session)
    desks = {
        UNION_DESK: create_desk(session, name=UNION_DESK, country="MY", profile=profile,
                                is_fallback=True),
        NGO_DESK: create_desk(session, name=NGO_DESK, country="MX", profile=profile),
    }
    for facility in facilities:
        desk_name = {"MY": UNION_DESK, "MX": NGO_DESK}.get(facility.country)
        if desk_name is not None:
            session.add(Coverage(desk_id=desks[desk_name].desk.id, facility_id=facility.id))

    accounts: list[dict[str, Any]] = []
    admin = create_account(session, email="admin@demo.example", display_name="Platform admin",
                           role=Role.ADMIN, status=AccountStatus.ACTIVE,
                           secret_key=secret_key, profile=profile)
    admin.account.totp_enrolled = True  # demo logins print the TOTP secret instead of a QR code
    accounts.append(_login(admin.account.email, "admin", admin.password, admin.totp_secret))
    for email, name, desk_name in MONITORS:
        new = create_account(session, email=email, display_name=name, role=Role.MONITOR,
                             status=AccountStatus.ACTIVE, secret_key=secret_key, profile=profile)
        new.account.totp_enrolled = True
        created_desk = desks[desk_name]
        add_active_member(session, desk=created_desk.desk, desk_key=created_desk.private_key,
                          account=new.account)
        accounts.append(_login(email, "monitor", new.password, new.totp_secret, desk=desk_name))

    buyers = _load_buyers(session, facilities)
    for buyer in buyers:
        email = buyer.contact_email or ""
        new = create_account(session, email=email, display_name=buyer.name, role=Role.BUYER,
                             status=AccountStatus.ACTIVE, buyer_org_id=buyer.id,
                             secret_key=secret_key, profile=profile)
        new.account.totp_enrolled = True
        accounts.append(_login(email, "buyer", new.password, new.totp_secret, buyer=buyer.name))

    for number, country, language in SMS_NUMBERS:
        session.add(SmsNumber(number=number, country=country, default_language=language))
    session.flush()

    logins = {
        "accounts": accounts,
        "facilities": [
            {"name": f.name, "country": f.country, "poster_code": f.poster_code}
            for f in facilities
        ],
        "sms_numbers": [
            {"number": n, "country": c, "default_language": lang} for n, c, lang in SMS_NUMBERS
        ],
        "desks": [
            {"name": name, "recovery_secret": d.recovery_secret} for name, d in desks.items()
        ],
    }
    return DemoResult(created=True, logins=logins)


def save_logins(instance: Path, logins: dict[str, Any]) -> Path:
    """Write the logins once the demo data is committed (0600; never overwritten)."""
    path = instance / LOGINS_FILE
    path.unlink(missing_ok=True)
    write_private_file(path, json.dumps(logins, ensure_ascii=False, indent=2).encode())
    return path


def _saved_logins(path: Path) -> dict[str, Any]:
    """The logins the first run saved, or DemoLoginsMissing if the file is not what it wrote."""
    try:
        logins: dict[str, Any] = json.loads(path.read_text("utf-8"))
        format_logins(logins)  # every field the logins are printed with is there
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        raise DemoLoginsMissing(
            f"demo data is already loaded but {path} is damaged; "
            "start from an empty database to get new demo logins"
        ) from None
    return logins


def _login(email: str, role: str, password: str, totp: str, **where: str) -> dict[str, Any]:
    return {"role": role, "email": email, "password": password, "totp_secret": totp, **where}


def _load_supply_chain(session: Session) -> list[Facility]:
    suppliers = {}
    for key, (name, country) in SUPPLIERS.items():
        suppliers[key] = Supplier(name=name, country=country)
        session.add(suppliers[key])
    session.flush()
    facilities = []
    for name, country, code, sector, band, supplier in FACILITIES:
        facility = Facility(name=name, country=country, poster_code=code, sector=sector,
                            worker_band=band, supplier_id=suppliers[supplier].id,
                            other_names=OTHER_NAMES.get(code))
        session.add(facility)
        facilities.append(facility)
    session.flush()
    return facilities


def _load_buyers(session: Session, facilities: list[Facility]) -> list[BuyerOrg]:
    buyers = [BuyerOrg(name=name, contact_email=email, share_identity=share)
              for name, email, share in BUYERS]
    session.add_all(buyers)
    session.flush()
    start = dt.date(2025, 1, 1)
    city, university = buyers
    for index, facility in enumerate(facilities):
        # The city buys from every facility; the university from every other one, so
        # half of the facilities have two buyers who can act together.
        session.add(Contract(buyer_id=city.id, supplier_id=facility.supplier_id,
                             facility_id=facility.id, product_category="IT hardware",
                             starts_on=start, ends_on=dt.date(2028, 12, 31)))
        if index % 2 == 0:
            session.add(Contract(buyer_id=university.id, supplier_id=facility.supplier_id,
                                 facility_id=facility.id, product_category="Laptops",
                                 starts_on=start, ends_on=None))
    session.flush()
    return buyers


def format_logins(logins: dict[str, Any]) -> str:
    """The logins as text for a person at a terminal."""
    lines = ["Demo logins (fresh random passwords; add the TOTP secret to an authenticator app):"]
    for account in logins["accounts"]:
        where = account.get("desk") or account.get("buyer") or ""
        lines.append(f"  {account['role']:<8} {account['email']:<36} password {account['password']}"
                     f"  totp {account['totp_secret']}  {where}".rstrip())
    lines.append("Desk recovery secrets (print and keep offline in real use):")
    lines.extend(f"  {d['name']}: {d['recovery_secret']}" for d in logins.get("desks", []))
    lines.append("Facilities and their poster codes:")
    lines.extend(
        f"  {f['poster_code']}  {f['name']} ({f['country']})" for f in logins["facilities"]
    )
    lines.append("Inbound SMS numbers:")
    lines.extend(f"  {n['number']} ({n['country']}, starts in {n['default_language']})"
                 for n in logins["sms_numbers"])
    return "\n".join(lines)
