"""Bulk generator of a realistic city: companies, sites, elevators, contracts, users, history.

Per elevator it writes ``days`` days of daily patrols (日常巡查) and half-monthly
maintenance visits (维护保养; the first visit in the window is an annual one, so
every level is covered) each confirmed on site (现场监督确认) the next morning.
A few patrols are missed and a few visits stay unconfirmed, so the compliance
engine has something to find.

The records are the same as ``records.services.append`` writes: the same
content shape, canonical JSON, content hashes, chain hashes and signatures, so
``records.services.verify`` accepts them. They are written with SQLAlchemy Core
``insert()`` in batches (executemany) with ids allocated here, which is what
makes 100,000 elevators × 30 days possible at all: ``append`` would take a
chain lock, read the head and audit per record.

Each site also gets its register chain as a kept register looks: a 24-hour
duty shift for each day from two days ago to ROSTER_AHEAD_DAYS ahead, a video
retention check ten days ago and the site's emergency drill within the last
six months; each contractor drilled 40 days ago; each safety officer holds a
certificate valid for years; every elevator's alarm is tested every
ALARM_TEST_EVERY_DAYS days (a record in its chain). Entries are built by
``registers.chain.entry_content``, so ``registers.chain.verify_sites`` accepts
them. What stays for the rules to find: missed patrols and unconfirmed visits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.maintenance import items as maintenance_items
from elevator_safety.maintenance.services import CONFIRMED, CONFIRMED_STATEMENT
from elevator_safety.patrols import checklists
from elevator_safety.records.canonical import (
    GENESIS,
    chain_hash,
    json_text,
    normalise,
    sha256_hex,
)
from elevator_safety.records.models import Meaning, Record, RecordKind, Signature
from elevator_safety.registers.chain import entry_content, scope
from elevator_safety.registers.models import (
    Certificate,
    CertificateKind,
    RegisterEntry,
    RegisterKind,
)
from elevator_safety.registry.models import (
    FULL_LEVEL_PLAN,
    Contract,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    InspectionResult,
    MaintenanceLevel,
    Site,
)

ZONE = "Asia/Shanghai"
ELEVATORS_PER_SITE = 8
SITES_PER_COMPANY = 100
#: Districts the sites are spread over (round robin).
DISTRICTS = 16
ELEVATORS_PER_OFFICER = 50
ELEVATORS_PER_CONTRACTOR = 500
TECHNICIANS_PER_CONTRACTOR = 6
#: Share of patrols missed and of maintenance visits left unconfirmed.
MISSED_PATROL_RATE = 0.02
UNCONFIRMED_RATE = 0.03
BATCH = 5000
#: The password of every generated account.
PASSWORD = "bench-password"  # noqa: S105 - benchmark accounts on a throw-away database

Progress = Callable[[int], None]
#: Plain Core tables: executemany without the ORM bulk layer.
RECORDS = cast(Table, Record.__table__)
SIGNATURES = cast(Table, Signature.__table__)
ENTRIES = cast(Table, RegisterEntry.__table__)
CERTIFICATES = cast(Table, Certificate.__table__)
#: Days of duty roster written ahead of today (the roster rule looks 7 days ahead).
ROSTER_AHEAD_DAYS = 9
#: Every elevator's emergency alarm is tested this often (the rule's interval is 30 days).
ALARM_TEST_EVERY_DAYS = 20


@dataclass
class Summary:
    """What a generation wrote."""

    organisations: int = 0
    register_entries: int = 0
    users: int = 0
    sites: int = 0
    elevators: int = 0
    contracts: int = 0
    records: int = 0
    signatures: int = 0


def _next_id(model: Any) -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def _reset_sequences(models: list[Any]) -> None:
    """On PostgreSQL, move each id sequence past the ids written here."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - model names
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


def _patrol_body(kind: ElevatorKind) -> dict[str, Any]:
    """A patrol body as submit_patrol writes it, every item passed."""
    checklist = checklists.current_for(kind.value)
    entries: dict[str, dict[str, Any]] = {}
    for item in checklist.items_for(kind.value):
        entry: dict[str, Any] = {"duty": item.duty, "note": None, "photos": []}
        if item.is_reading:
            low, high = checklists.limits(item)
            if low is not None and high is not None:
                value = (low + high) / 2
            else:
                value = low if low is not None else (high if high is not None else Decimal(20))
            entry |= {
                "value": str(value),
                "unit": item.unit,
                "min": str(low) if low is not None else None,
                "max": str(high) if high is not None else None,
                "result": "pass",
            }
        else:
            entry["result"] = "pass"
        entry["severity"] = None
        entries[item.code] = entry
    return normalise(
        {
            "checklist": checklist.id,
            "checklist_version": checklist.version,
            "elevator_kind": kind.value,
            "out_of_service": False,
            "items": entries,
            "misuse": None,
            "note": None,
        }
    )


def _maintenance_items(kind: ElevatorKind) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    item_list = maintenance_items.list_for(kind)
    checklist = {
        "id": item_list.id,
        "title": item_list.title,
        "status": item_list.status,
        "version": item_list.version,
    }
    by_level = {
        level.value: [
            {
                "code": item.code,
                "level": item.level.value,
                "item": item.text,
                "result": "done",
                "note": None,
            }
            for item in item_list.for_level(level)
        ]
        for level in MaintenanceLevel
    }
    return checklist, by_level


@dataclass
class _People:
    officer: dict[str, Any]
    technicians: list[dict[str, Any]]
    contract: dict[str, Any]
    contractor: dict[str, Any]


class _Writer:
    """Accumulates record and signature rows with their ids and flushes them in batches."""

    def __init__(self) -> None:
        self.record_id = _next_id(Record)
        self.signature_id = _next_id(Signature)
        self.records: list[dict[str, Any]] = []
        self.signatures: list[dict[str, Any]] = []
        self.written_records = 0
        self.written_signatures = 0

    def flush(self) -> None:
        if self.records:
            db.session.execute(insert(RECORDS), self.records)
            self.written_records += len(self.records)
        if self.signatures:
            db.session.execute(insert(SIGNATURES), self.signatures)
            self.written_signatures += len(self.signatures)
        self.records, self.signatures = [], []

    def add(
        self,
        elevator: dict[str, Any],
        seq: int,
        prev: str,
        kind: RecordKind,
        author: dict[str, Any],
        occurred_at: datetime,
        body: dict[str, Any],
        *,
        meaning: Meaning,
        level: str | None = None,
        subject: tuple[int, str, str] | None = None,
    ) -> tuple[int, str, str, str]:
        """Add one record signed by its author.

        ``subject`` is (id, content hash, body hash) of the record signed. Return
        (id, content hash, chain hash, body hash) of the new record.
        """
        record_id = self.record_id
        self.record_id += 1
        recorded_at = occurred_at + timedelta(minutes=3)
        zone = ZoneInfo(elevator["zone"])
        occurred_on = occurred_at.astimezone(zone).date()
        # Built from JSON types only (``body`` is already normalised), so json_text
        # gives exactly canonical_json's text without its walk.
        base = {
            "kind": kind.value,
            "elevator_id": elevator["id"],
            "equipment_code": elevator["equipment_code"],
            "occurred_at": _stamp(occurred_at),
            "occurred_on": occurred_on.isoformat(),
            "author_id": author["id"],
            "author_name": author["name"],
            "organisation_id": author["organisation_id"],
            "organisation": author["organisation"],
            "subject_id": subject[0] if subject else None,
            "subject_content_hash": subject[1] if subject else None,
            "level": level,
            "body": body,
            "recorded_at": _stamp(recorded_at),
        }
        own_hash = sha256_hex(json_text(base))
        signed_hash = own_hash if subject is None else subject[2]
        entry = {
            "signer_id": author["id"],
            "printed_name": author["name"],
            "organisation": author["organisation"],
            "meaning": meaning.value,
            "reason": None,
            "signed_at": base["recorded_at"],
            "subject_id": subject[0] if subject else None,
            "content_hash": signed_hash,
        }
        content = json_text(base | {"signatures": [entry]})
        content_hash = sha256_hex(content)
        link = chain_hash(prev, content_hash, elevator["id"], seq)
        self.records.append(
            {
                "id": record_id,
                "elevator_id": elevator["id"],
                "seq": seq,
                "kind": kind,
                "subject_id": subject[0] if subject else None,
                "level": level,
                "occurred_at": occurred_at,
                "occurred_on": occurred_on,
                "author_id": author["id"],
                "organisation_id": author["organisation_id"],
                "content": content,
                "content_hash": content_hash,
                "prev_hash": prev,
                "chain_hash": link,
                "idempotency_key": None,
                "created_at": recorded_at,
            }
        )
        self.signatures.append(
            {
                "id": self.signature_id,
                "record_id": record_id,
                "subject_id": subject[0] if subject else record_id,
                "signer_id": author["id"],
                "printed_name": author["name"],
                "organisation_name": author["organisation"],
                "meaning": meaning,
                "reason": None,
                "signed_at": recorded_at,
                "content_hash": signed_hash,
            }
        )
        self.signature_id += 1
        if len(self.records) >= BATCH:
            self.flush()
        return record_id, content_hash, link, own_hash


def _stamp(moment: datetime) -> str:
    """Return a UTC datetime as canonical.py writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def generate(
    elevators: int,
    days: int,
    *,
    seed: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
    districts: int = DISTRICTS,
    sites_per_company: int = SITES_PER_COMPANY,
) -> Summary:
    """Write a city of ``elevators`` elevators with ``days`` days of history up to ``now``.

    Sites are spread over ``districts`` districts (round robin) and
    ``sites_per_company`` sites belong to each property company (one district
    and one company of 20,000 elevators: ``districts=1, sites_per_company=2500``).
    Commits once per 1,000 elevators; ``progress(n)`` is called with the number of
    elevators just finished.
    """
    if elevators < 1 or days < 1 or districts < 1 or sites_per_company < 1:
        raise ValueError("elevators, days, districts and sites per company must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    now = (now or now_utc()).replace(microsecond=0)
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    summary = Summary()
    holder = User(name="bench", role=Role.technician)
    holder.set_password(PASSWORD)
    password_hash = holder.password_hash
    tag = f"{seed}-{int(now.timestamp())}"

    org_id, user_id = _next_id(Organisation), _next_id(User)
    site_id, elevator_id, contract_id = _next_id(Site), _next_id(Elevator), _next_id(Contract)
    n_sites = -(-elevators // ELEVATORS_PER_SITE)
    n_companies = -(-n_sites // sites_per_company)
    n_contractors = -(-elevators // ELEVATORS_PER_CONTRACTOR)

    organisations: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []

    def user(org: dict[str, Any], role: Role, label: str, cert: str | None = None) -> dict:
        nonlocal user_id
        row = {
            "id": user_id,
            "organisation_id": org["id"],
            "name": f"{label} {user_id}",
            "email": f"bench-{tag}-{user_id}@bench.invalid",
            "password_hash": password_hash,
            "role": role,
            "active": True,
            "certificate_no": cert,
            "organisation": org["name"],
        }
        user_id += 1
        users.append(row)
        return row

    companies: list[dict[str, Any]] = []
    for index in range(n_companies):
        org = {
            "id": org_id,
            "name": f"基准物业 {tag} #{index + 1}",
            "kind": OrgKind.property_company,
        }
        org_id += 1
        organisations.append(org)
        user(org, Role.admin, "管理员")
        user(org, Role.safety_director, "安全总监")
        companies.append({"org": org, "officers": []})
    contractors: list[dict[str, Any]] = []
    for index in range(n_contractors):
        org = {
            "id": org_id,
            "name": f"基准维保 {tag} #{index + 1}",
            "kind": OrgKind.contractor,
            "qualification_no": f"TS{index + 1:07d}",
            "qualification_expires": today + timedelta(days=700),
        }
        org_id += 1
        organisations.append(org)
        manager = user(org, Role.contractor_manager, "维保经理")
        technicians = [
            user(org, Role.technician, "维保工", cert=f"T{org['id']:05d}{n:03d}")
            for n in range(TECHNICIANS_PER_CONTRACTOR)
        ]
        contractors.append({"org": org, "technicians": technicians, "manager": manager})

    sites: list[dict[str, Any]] = []
    elevator_rows: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    people: list[_People] = []
    registered = _local(first_day - timedelta(days=1), 9, 0, zone)
    for index in range(elevators):
        site_index = index // ELEVATORS_PER_SITE
        company = companies[site_index // sites_per_company]
        if index % ELEVATORS_PER_SITE == 0:
            sites.append(
                {
                    "id": site_id,
                    "organisation_id": company["org"]["id"],
                    "name": f"基准小区 {site_index + 1}",
                    "address": f"基准路 {site_index + 1} 号",
                    "district_code": f"3101{site_index % districts + 1:02d}",
                    "district_name": f"区 {site_index % districts + 1}",
                    "is_city": True,
                    "timezone": ZONE,
                }
            )
            site_id += 1
        if index % ELEVATORS_PER_OFFICER == 0:
            company["officers"].append(user(company["org"], Role.safety_officer, "安全员"))
        officer = company["officers"][-1]
        sites[-1].setdefault("officer", officer)
        contractor = contractors[index // ELEVATORS_PER_CONTRACTOR]
        contractor.setdefault("site", sites[-1])
        pair = (index // 2) % (TECHNICIANS_PER_CONTRACTOR // 2) * 2
        due = today + timedelta(days=rng.randint(40, 360))
        row = {
            "id": elevator_id,
            "site_id": sites[-1]["id"],
            "equipment_code": f"BX{seed % 100:02d}{elevator_id:09d}",
            "registration_no": f"梯{elevator_id:08d}",
            "kind": ElevatorKind.traction,
            "building": f"{index % ELEVATORS_PER_SITE + 1} 号楼",
            "acceptance_date": today - timedelta(days=rng.randint(400, 5000)),
            "last_inspection_date": due - timedelta(days=365),
            "last_inspection_result": InspectionResult.passed,
            "next_inspection_due": due,
            "use_sign_valid_until": due,
            "safety_officer_id": officer["id"],
            "status": ElevatorStatus.in_service,
            "zone": ZONE,
            # Registered before its history: the rules look back only as far as
            # an elevator was registered (a patrol is not due before).
            "created_at": registered,
        }
        elevator_id += 1
        elevator_rows.append(row)
        contract = {
            "id": contract_id,
            "elevator_id": row["id"],
            "contractor_id": contractor["org"]["id"],
            "contract_no": f"HT{contract_id:08d}",
            "start_date": today - timedelta(days=200),
            "end_date": today + timedelta(days=rng.randint(60, 500)),
            "level_plan": FULL_LEVEL_PLAN,
        }
        contract_id += 1
        contracts.append(contract)
        people.append(
            _People(officer, contractor["technicians"][pair : pair + 2], contract, contractor)
        )

    def plain(rows: list[dict[str, Any]], drop: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k not in drop} for row in rows]

    _insert(Organisation, organisations)
    _insert(User, plain(users, ("organisation",)))
    _insert(Site, plain(sites, ("officer",)))
    _insert(Elevator, plain(elevator_rows, ("zone",)))
    _insert(Contract, contracts)
    _reset_sequences([Organisation, User, Site, Elevator, Contract])
    summary.register_entries = _registers(sites, contractors, now, today, rng)
    _certificates([u for u in users if u["role"] == Role.safety_officer], today)
    _reset_sequences([RegisterEntry, Certificate])
    db.session.commit()
    summary.organisations, summary.users = len(organisations), len(users)
    summary.sites, summary.elevators, summary.contracts = (
        len(sites),
        len(elevator_rows),
        len(contracts),
    )

    patrol_body = _patrol_body(ElevatorKind.traction)
    checklist, items_by_level = _maintenance_items(ElevatorKind.traction)
    writer = _Writer()
    for done, (row, who) in enumerate(zip(elevator_rows, people, strict=True), start=1):
        _history(
            row,
            who,
            writer,
            rng,
            first_day,
            days,
            now,
            zone,
            patrol_body,
            checklist,
            items_by_level,
        )
        if done % 1000 == 0 or done == len(elevator_rows):
            writer.flush()
            _reset_sequences([Record, Signature])
            db.session.commit()
            if progress is not None:
                progress(1000 if done % 1000 == 0 else done % 1000)
    summary.records, summary.signatures = writer.written_records, writer.written_signatures
    return summary


def _entry(
    site: dict[str, Any],
    seq: int,
    prev: str,
    entry_id: int,
    kind: RegisterKind,
    author: dict[str, Any],
    occurred_at: datetime,
    body: dict[str, Any],
    **columns: Any,
) -> dict[str, Any]:
    """Return the row of one register entry signed by its author (see append_entry)."""
    typed = {"subject_id": None, "key_id": None, "starts_at": None, "ends_at": None}
    typed |= {"on_date": None, "ok": None} | columns
    occurred_on = occurred_at.astimezone(ZoneInfo(site["timezone"])).date()
    recorded_at = occurred_at + timedelta(minutes=2)
    base = {
        "kind": kind.value,
        "site_id": site["id"],
        "site": site["name"],
        "occurred_at": occurred_at,
        "occurred_on": occurred_on,
        "author_id": author["id"],
        "author_name": author["name"],
        "organisation_id": author["organisation_id"],
        "organisation": author["organisation"],
        "subject_content_hash": None,
        "body": body,
        "recorded_at": recorded_at,
    } | typed
    signer = (author["id"], author["name"], author["organisation"], Meaning.recorded, None)
    content, content_hash = entry_content(base, [signer], recorded_at)
    return {
        "id": entry_id,
        "site_id": site["id"],
        "seq": seq,
        "kind": kind,
        "occurred_at": occurred_at,
        "occurred_on": occurred_on,
        "author_id": author["id"],
        "organisation_id": author["organisation_id"],
        "content": content,
        "content_hash": content_hash,
        "prev_hash": prev,
        "chain_hash": chain_hash(prev, content_hash, scope(site["id"]), seq),
        "idempotency_key": None,
        "created_at": recorded_at,
    } | typed


Planned = tuple[datetime, RegisterKind, dict[str, Any], dict[str, Any], dict[str, Any]]


def _drill(author: dict[str, Any], kind: str, day: date, zone: ZoneInfo) -> Planned:
    body = {
        "organiser": author["organisation"],
        "organiser_kind": kind,
        "scenario": "困人救援演练",
        "participants": author["name"],
        "elevators": [],
        "lessons": "",
    }
    return (
        _local(day, 15, 0, zone),
        RegisterKind.drill,
        author,
        body,
        {"on_date": day, "ok": True},
    )


def _site_plan(
    site: dict[str, Any],
    contractor: dict[str, Any] | None,
    now: datetime,
    today: date,
    rng: random.Random,
) -> list[Planned]:
    """Return a site's register entries (time, kind, author, body, typed columns) in time order.

    ``contractor``: a contractor whose drill is recorded at this site.
    """
    zone = ZoneInfo(site["timezone"])
    officer = site["officer"]
    entered = now - timedelta(days=3)
    plan: list[Planned] = []
    for offset in range(-2, ROSTER_AHEAD_DAYS + 1):
        start = datetime.combine(today + timedelta(days=offset), time(), zone).astimezone(UTC)
        duty = {"person": officer["name"], "phone": None, "place": "值班室"}
        shift = {"starts_at": start, "ends_at": start + timedelta(days=1)}
        plan.append((entered, RegisterKind.roster_shift, officer, duty, shift))
    video = {
        "cameras_total": 4,
        "cameras_working": 4,
        "retention_days": 35,
        "retention_required_days": 30,
        "note": None,
    }
    checked = _local(today - timedelta(days=10), 10, 0, zone)
    footage = {"on_date": today - timedelta(days=45), "ok": True}
    plan.append((checked, RegisterKind.video_check, officer, video, footage))
    plan.append(_drill(officer, "site", today - timedelta(days=rng.randint(10, 170)), zone))
    if contractor is not None:
        plan.append(_drill(contractor["manager"], "contractor", today - timedelta(days=40), zone))
    plan.sort(key=lambda item: item[0])
    return plan


def _registers(
    sites: list[dict[str, Any]],
    contractors: list[dict[str, Any]],
    now: datetime,
    today: date,
    rng: random.Random,
) -> int:
    """Write every site's register chain (with each contractor's drill); return the count."""
    entry_id = _next_id(RegisterEntry)
    rows: list[dict[str, Any]] = []
    drills = {c["site"]["id"]: c for c in contractors if "site" in c}
    written = 0
    for site in sites:
        prev = GENESIS
        plan = _site_plan(site, drills.get(site["id"]), now, today, rng)
        for seq, (when, kind, author, body, columns) in enumerate(plan, start=1):
            row = _entry(site, seq, prev, entry_id, kind, author, when, body, **columns)
            prev = row["chain_hash"]
            rows.append(row)
            entry_id += 1
        if len(rows) >= BATCH:
            db.session.execute(insert(ENTRIES), rows)
            written, rows = written + len(rows), []
    if rows:
        db.session.execute(insert(ENTRIES), rows)
        written += len(rows)
    return written


def _certificates(officers: list[dict[str, Any]], today: date) -> None:
    """Give every safety officer a safety-management certificate valid for years."""
    first = _next_id(Certificate)
    rows = [
        {
            "id": first + n,
            "user_id": officer["id"],
            "kind": CertificateKind.safety_officer,
            "number": f"A{officer['id']:010d}",
            "issuer": "市场监督管理局",
            "issued_on": today - timedelta(days=400),
            "expires_on": today + timedelta(days=1000 + officer["id"] % 400),
            "created_at": now_utc(),
            "updated_at": now_utc(),
        }
        for n, officer in enumerate(officers)
    ]
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(CERTIFICATES), rows[start : start + BATCH])


def _events(
    row: dict[str, Any],
    rng: random.Random,
    first_day: date,
    days: int,
    now: datetime,
    zone: ZoneInfo,
) -> Iterator[tuple[datetime, str, int]]:
    """Yield (time, what, visit number) of one elevator's history, in time order."""
    found: list[tuple[datetime, str, int]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if rng.random() >= MISSED_PATROL_RATE:
            found.append((_local(day, 8 + rng.randint(0, 2), rng.randint(0, 59), zone), "p", 0))
    for visit, offset in enumerate(range(row["id"] % 15, days, 15)):
        day = first_day + timedelta(days=offset)
        found.append((_local(day, 14, rng.randint(0, 59), zone), "m", visit))
        if rng.random() >= UNCONFIRMED_RATE:
            found.append(
                (_local(day + timedelta(days=1), 11, rng.randint(0, 59), zone), "c", visit)
            )
    for offset in range(row["id"] % ALARM_TEST_EVERY_DAYS, days, ALARM_TEST_EVERY_DAYS):
        day = first_day + timedelta(days=offset)
        found.append((_local(day, 16, rng.randint(0, 59), zone), "a", 0))
    found.sort()
    return (event for event in found if event[0] <= now)


def _history(
    row: dict[str, Any],
    who: _People,
    writer: _Writer,
    rng: random.Random,
    first_day: date,
    days: int,
    now: datetime,
    zone: ZoneInfo,
    patrol_body: dict[str, Any],
    checklist: dict[str, Any],
    items_by_level: dict[str, list[dict]],
) -> None:
    prev = GENESIS
    visits: dict[int, tuple[int, str, str]] = {}
    technician = who.technicians[0]
    contract, contractor = who.contract, who.contractor["org"]
    events = _events(row, rng, first_day, days, now, zone)
    for seq, (moment, what, visit) in enumerate(events, start=1):
        if what == "p":
            _, _, prev, _ = writer.add(
                row,
                seq,
                prev,
                RecordKind.patrol,
                who.officer,
                moment,
                patrol_body,
                meaning=Meaning.submitted,
            )
        elif what == "a":
            tested = {
                "tested_at": _stamp(moment),
                "answered": True,
                "answered_in_seconds": 20,
                "answered_by": who.officer["name"],
                "talk_clear": True,
                "answer_limit_seconds": 60,
                "failed": False,
                "note": None,
            }
            _, _, prev, _ = writer.add(
                row,
                seq,
                prev,
                RecordKind.alarm_test,
                who.officer,
                moment,
                tested,
                meaning=Meaning.recorded,
            )
        elif what == "m":
            level = (MaintenanceLevel.annual if visit == 0 else MaintenanceLevel.half_monthly).value
            local_day = moment.astimezone(zone).date()
            departure = moment + timedelta(minutes=50)
            body = {
                "level": level,
                "visit_date": local_day,
                "arrival_at": moment,
                "departure_at": departure,
                "timezone": ZONE,
                "contract": {
                    "id": contract["id"],
                    "contract_no": contract["contract_no"],
                    "contractor_id": contractor["id"],
                    "contractor": contractor["name"],
                    "qualification_no": contractor["qualification_no"],
                    "level_plan": contract["level_plan"],
                },
                "technicians": [
                    {
                        "user_id": tech["id"],
                        "name": tech["name"],
                        "certificate_no": tech["certificate_no"],
                        "source": "account",
                    }
                    for tech in who.technicians
                ],
                "checklist": checklist,
                "items": items_by_level[level],
                "extra_items": [],
                "parts_replaced": [],
                "problems": [],
                "photos": [],
                "remarks": None,
            }
            body = normalise(body)
            record_id, content, prev, own = writer.add(
                row,
                seq,
                prev,
                RecordKind.maintenance,
                technician,
                moment,
                body,
                meaning=Meaning.submitted,
                level=level,
            )
            visits[visit] = (record_id, content, own)
        else:
            subject = visits[visit]
            _, _, prev, _ = writer.add(
                row,
                seq,
                prev,
                RecordKind.confirmation,
                who.officer,
                moment,
                {"decision": CONFIRMED, "statement": CONFIRMED_STATEMENT, "remarks": None},
                meaning=Meaning.confirmed,
                subject=subject,
            )
