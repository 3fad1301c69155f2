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

Register chains (rosters, drills, video checks, keys) are not generated: the
site-level rules therefore raise their alerts for every site.
"""

from __future__ import annotations

import json
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
    normalise,
    sha256_hex,
)
from elevator_safety.records.models import Meaning, Record, RecordKind, Signature
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


@dataclass
class Summary:
    """What a generation wrote."""

    organisations: int = 0
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
        # Built from JSON types only (``body`` is already normalised), so json.dumps with
        # the canonical settings gives exactly canonical_json's text without its walk.
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
        own_hash = sha256_hex(_canonical(base))
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
        content = _canonical(base | {"signatures": [entry]})
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


def _canonical(plain: dict[str, Any]) -> str:
    """canonical_json of content that holds JSON types only."""
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def generate(
    elevators: int,
    days: int,
    *,
    seed: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Write a city of ``elevators`` elevators with ``days`` days of history up to ``now``.

    Commits once per 1,000 elevators; ``progress(n)`` is called with the number of
    elevators just finished.
    """
    if elevators < 1 or days < 1:
        raise ValueError("elevators and days must be at least 1")
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
    n_companies = -(-n_sites // SITES_PER_COMPANY)
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
        user(org, Role.contractor_manager, "维保经理")
        technicians = [
            user(org, Role.technician, "维保工", cert=f"T{org['id']:05d}{n:03d}")
            for n in range(TECHNICIANS_PER_CONTRACTOR)
        ]
        contractors.append({"org": org, "technicians": technicians})

    sites: list[dict[str, Any]] = []
    elevator_rows: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    people: list[_People] = []
    for index in range(elevators):
        site_index = index // ELEVATORS_PER_SITE
        company = companies[site_index // SITES_PER_COMPANY]
        if index % ELEVATORS_PER_SITE == 0:
            sites.append(
                {
                    "id": site_id,
                    "organisation_id": company["org"]["id"],
                    "name": f"基准小区 {site_index + 1}",
                    "address": f"基准路 {site_index + 1} 号",
                    "district_code": f"3101{site_index % 16 + 1:02d}",
                    "district_name": f"区 {site_index % 16 + 1}",
                    "is_city": True,
                    "timezone": ZONE,
                }
            )
            site_id += 1
        if index % ELEVATORS_PER_OFFICER == 0:
            company["officers"].append(user(company["org"], Role.safety_officer, "安全员"))
        officer = company["officers"][-1]
        contractor = contractors[index // ELEVATORS_PER_CONTRACTOR]
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
    _insert(Site, sites)
    _insert(Elevator, plain(elevator_rows, ("zone",)))
    _insert(Contract, contracts)
    _reset_sequences([Organisation, User, Site, Elevator, Contract])
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
