"""Record sheets (one per record kind) and the site registers for a period, as flowables.

A record prints as a *section*: its identity (kind, elevator, time, author,
position in the chain), its body as the kind shows it, every signature (its
own, and those of the records acting on it: the on-site confirmation or
rejection, the corrections), every corrected value with the original beside
it, and the verification lines that ``reports/verifying.py`` reads back
(content hash and chain position, and on a standalone sheet a QR code to the
public ``/verify/<hash>`` page). The same section is used by the one-record
sheet and by the elevator archive; a standalone sheet also prints the whole
lockout or rectification a step belongs to.

Values come from the record's signed content with its corrections applied
(``records.services.effective``); the database rows around it (the lockout,
the finding) are only context. Three builders make every sheet, so that all
kinds print alike: the table of fields (``spec_fields`` into
``layout.fields_table``), the signature block and the corrections block.

Site registers (keys, duty roster and alarm tests, video checks, additions,
inspections, emergency plans and drills) print as tables over a period; each
entry carries its signature and its own verification lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table
from sqlalchemy import and_, or_, select

from elevator_safety.extensions import db
from elevator_safety.handovers import services as handovers
from elevator_safety.legal import services as legal
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import (
    CAUSE_LABELS,
    CHANNEL_LABELS,
    LOCKOUT_STATUS_LABELS,
    Lockout,
)
from elevator_safety.maintenance import services as maintenance
from elevator_safety.patrols import checklists
from elevator_safety.patrols.forms import (
    MISUSE_ACTION_CHOICES,
    RESULT_CHOICES,
    STATUS_SEEN_CHOICES,
)
from elevator_safety.patrols.services import limits_text
from elevator_safety.records.models import (
    FINDING_SOURCE_LABELS,
    FINDING_STATUS_LABELS,
    KIND_LABELS,
    MEANING_LABELS,
    SEVERITY_LABELS,
    Finding,
    Photo,
    Record,
    RecordKind,
)
from elevator_safety.records.photos import photo_path
from elevator_safety.records.services import Effective, effective, flatten
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registers.models import KEY_KIND_LABELS, RegisterEntry, RegisterKind
from elevator_safety.registry.models import LEVEL_LABELS, STATUS_LABELS, Elevator, Site
from elevator_safety.reports.layout import (
    DASH,
    LABEL_GREY,
    WIDTH,
    Field,
    Qr,
    Thumb,
    bi,
    cell,
    data_table,
    day,
    fields_table,
    gap,
    heading,
    layout_table,
    mono_line,
    para,
    styles,
    text_line,
    text_of,
    when,
    widths_of,
)
from elevator_safety.reports.names import KIND_NAMES, REGISTER_NAMES
from elevator_safety.reports.verifying import verify_url

#: Names of the last part of a field's path, for the corrections block.
LEAF_LABELS = {
    "note": bi("备注", "Note"),
    "value": bi("读数", "Reading"),
    "result": bi("结果", "Result"),
    "description": bi("描述", "Description"),
    "remarks": bi("意见", "Remarks"),
    "reason": bi("理由", "Reason"),
    "ok": bi("结论", "Answer"),
    "text": bi("说明", "Text"),
}
#: Photo thumbnails per row, and the size of a record sheet's QR code.
THUMBS_PER_ROW = 4
QR_SIZE = 26 * mm


#: Translated labels by (locale, label): an archive asks for the same few hundreds of times,
#: and each translation lookup costs more than drawing the text. The labels are the
#: packages' module-level lazy strings, alive as long as the process: their id is stable.
_labels: dict[tuple[str, int], str] = {}


def label(mapping: dict[Any, Any], code: Any) -> str:
    """Return a stored code in the reader's language (the code itself when unknown)."""
    if code is None or code == "":
        return DASH
    found = mapping.get(code)
    if found is None:
        return str(code)
    if not isinstance(found, LazyString):
        return str(found)
    key = (str(get_locale()), id(found))
    text = _labels.get(key)
    if text is None:
        text = _labels[key] = str(found)
    return text


def choices(options: Iterable[Any]) -> dict[str, Any]:
    """Return {value: label} of form choices."""
    return {option.value: option.label for option in options}


PATROL_RESULTS = choices(RESULT_CHOICES)
PATROL_MISUSE_ACTIONS = choices(MISUSE_ACTION_CHOICES)
PATROL_STATUS_SEEN = choices(STATUS_SEEN_CHOICES)


def yes_no(value: Any) -> str:
    """Return yes or no in the reader's language (a dash for nothing)."""
    if value is None:
        return DASH
    return _("Yes") if value else _("No")


def at_path(data: Any, path: str) -> Any:
    """Return the value at a dotted path of a body (None when absent)."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


# --- what the sheets of some records need besides the records --------------------------------


@dataclass
class Evidence:
    """Corrections, reviews and photos of a batch of records, loaded in a few queries."""

    corrections: dict[int, list[Record]] = field(default_factory=dict)
    reviews: dict[int, Record] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)

    @classmethod
    def load(cls, records: Sequence[Record]) -> Evidence:
        """Load what the records' sheets need: three queries whatever their number."""
        evidence = cls()
        ids = [r.id for r in records]
        if not ids:
            return evidence
        rows = db.session.scalars(
            select(Record)
            .where(Record.subject_id.in_(ids), Record.kind == RecordKind.correction)
            .order_by(Record.seq)
        )
        for correction in rows:
            assert correction.subject_id is not None  # noqa: S101 - selected by subject
            evidence.corrections.setdefault(correction.subject_id, []).append(correction)
        maintenance_ids = [r.id for r in records if r.kind == RecordKind.maintenance]
        evidence.reviews = maintenance.reviews_of(maintenance_ids)
        hashes = {h for r in records for h in photo_hashes(r.data.get("body"))}
        if hashes:
            evidence.photos = {
                p.sha256: p
                for p in db.session.scalars(select(Photo).where(Photo.sha256.in_(hashes)))
            }
        return evidence


def photo_hashes(body: Any) -> Iterator[str]:
    """Yield the photo hashes a body lists (``photos`` lists and ``photo`` values)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "photos" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            elif key == "photo" and isinstance(value, str):
                yield value
            else:
                yield from photo_hashes(value)
    elif isinstance(body, list):
        for item in body:
            yield from photo_hashes(item)


@dataclass
class Sheet:
    """One record being printed: its content, its corrected body and what surrounds it."""

    record: Record
    data: dict[str, Any]
    eff: Effective
    evidence: Evidence
    zone: str
    standalone: bool

    @classmethod
    def of(cls, record: Record, evidence: Evidence, zone: str, standalone: bool) -> Sheet:
        """Return the sheet of a record with its corrections applied."""
        corrections = evidence.corrections.get(record.id, [])
        return cls(record, record.data, effective(record, corrections), evidence, zone, standalone)

    @property
    def body(self) -> dict[str, Any]:
        """Return the body as signed (before corrections)."""
        return self.data.get("body") or {}

    def get(self, path: str) -> Any:
        """Return a field's current (corrected) value."""
        return at_path(self.eff.body, path)

    def at(self, value: Any) -> str:
        """Return a moment in the site's zone with its offset."""
        return when(value, self.zone)

    def show(self, path: str, fmt: Callable[[Any], str] = text_of) -> str:
        """Return a field as printed; a corrected field also shows its original value."""
        shown = fmt(self.get(path))
        if self.eff.corrected(path):
            original = fmt(self.eff.changes[path][0]["old"])
            return f"{shown}（{bi('已更正', 'corrected')}；{bi('原值', 'original')}: {original}）"
        return shown


#: A field of a spec: label, path in the body, formatter (the sheet's own formatters by name).
Spec = tuple[str, str, Callable[[Any], str] | str]


def spec_fields(sheet: Sheet, specs: Sequence[Spec]) -> list[Field]:
    """Return the fields of a spec as printed (the one table-of-fields builder's input)."""
    out: list[Field] = []
    for title, path, fmt in specs:
        formatter = sheet.at if fmt == "time" else fmt
        assert callable(formatter)  # noqa: S101 - specs name "time" or give a function
        out.append((title, sheet.show(path, formatter)))
    return out


def fields(sheet: Sheet, specs: Sequence[Spec], columns: int = 2) -> Table:
    """Return the table of a spec's fields."""
    return fields_table(spec_fields(sheet, specs), columns)


# --- the shared blocks: signatures, corrections, verification, photos --------------------------


def signature_parts(entry: dict[str, Any], zone: str) -> list[str]:
    """Return a signature as printed: meaning, printed name, organisation, time, reason."""
    return [
        label(MEANING_LABELS, entry.get("meaning")),
        text_of(entry.get("printed_name")),
        text_of(entry.get("organisation")),
        when(entry.get("signed_at"), zone),
        text_of(entry.get("reason")),
    ]


def signature_text(entry: dict[str, Any], zone: str) -> str:
    """Return a signature on one line (register rows)."""
    parts = signature_parts(entry, zone)
    reason = parts.pop()
    return " · ".join(parts) + (
        f" · {bi('理由', 'Reason')}: {reason}" if entry.get("reason") else ""
    )


def signatures_text(data: dict[str, Any], zone: str) -> str:
    """Return every signature of a content on one paragraph."""
    return "；".join(signature_text(s, zone) for s in data.get("signatures") or [])


def signature_block(entries: Sequence[dict[str, Any]], zone: str) -> list[Flowable]:
    """Return the signatures: meaning, printed name, organisation, time with offset, reason."""
    header = [
        bi("签名含义", "Meaning"),
        bi("签名人", "Signed by"),
        bi("单位", "Organisation"),
        bi("签名时间", "Signed at"),
        bi("理由", "Reason"),
    ]
    rows = [signature_parts(s, zone) for s in entries] or [
        [bi("无签名", "No signature"), "", "", "", ""]
    ]
    return [
        heading(bi("签名", "Signatures"), 3),
        data_table(header, rows, (0.16, 0.16, 0.26, 0.2, 0.22)),
    ]


def acting_signatures(sheet: Sheet) -> list[dict[str, Any]]:
    """Return the record's signatures and those of the records acting on it, by time."""
    entries = list(sheet.data.get("signatures") or [])
    acting = list(sheet.evidence.corrections.get(sheet.record.id, []))
    review = sheet.evidence.reviews.get(sheet.record.id)
    if review is not None:
        acting.append(review)
    for other in acting:
        entries += [
            s for s in other.data.get("signatures") or [] if s.get("subject_id") == sheet.record.id
        ]
    return sorted(entries, key=lambda s: str(s.get("signed_at") or ""))


def path_label(sheet: Sheet, path: str) -> str:
    """Return a human name for a corrected field's path (item labels where known)."""
    parts = path.split(".")
    names: list[str] = []
    if len(parts) >= 2 and parts[0] in ("items", "checklist"):
        item = at_path(sheet.body, ".".join(parts[:2]))
        names.append(_item_name(sheet, parts[1], item))
        parts = parts[2:]
    names += [LEAF_LABELS.get(part, part) for part in parts]
    return " › ".join(names) or path


def _item_name(sheet: Sheet, key: str, item: Any) -> str:
    if isinstance(item, dict) and (item.get("item") or item.get("label_zh")):
        if item.get("item"):
            return str(item["item"])
        return handovers.localised(item.get("label_en") or "", item.get("label_zh") or "")
    checklist = checklists.get(
        sheet.body.get("checklist", ""), sheet.body.get("checklist_version", 0)
    )
    found = checklist.item(key) if checklist else None
    return found.label() if found else key


def _plain(value: Any, zone: str) -> str:
    if isinstance(value, bool):
        return yes_no(value)
    return when(value, zone)


def correction_rows(sheet: Sheet) -> list[list[str]]:
    """Return each change of each correction: field, original, new, author, reason, time."""
    return [
        [
            path_label(sheet, path),
            _plain(change["old"], sheet.zone),
            _plain(change["new"], sheet.zone),
            text_of(change["by"]),
            text_of(change["reason"]),
            when(change["at"], sheet.zone),
        ]
        for path, changes in sorted(sheet.eff.changes.items())
        for change in changes
    ]


def corrections_block(sheet: Sheet) -> list[Flowable]:
    """Return every correction as a table (the original values remain visible)."""
    rows = correction_rows(sheet)
    if not rows:
        return []
    header = [
        bi("更正字段", "Field"),
        bi("原值", "Original"),
        bi("更正为", "Corrected to"),
        bi("更正人", "Corrected by"),
        bi("理由", "Reason"),
        bi("更正时间", "Corrected at"),
    ]
    return [
        heading(bi("更正记录（原值保留）", "Corrections (the original values remain)"), 3),
        data_table(header, rows, (0.2, 0.15, 0.15, 0.13, 0.2, 0.17)),
    ]


def corrections_text(sheet: Sheet) -> str:
    """Return every correction on one paragraph (register rows)."""
    return "；".join(
        f"{field}: {old} → {new} · {by} · {bi('理由', 'Reason')}: {reason} · {at}"
        for field, old, new, by, reason, at in correction_rows(sheet)
    )


def verification_lines(content_hash: str, seq: int) -> list[Flowable]:
    """Return the two lines ``reports/verifying.py`` reads back: content hash and position."""
    return [
        mono_line(f"内容哈希 Content hash: {content_hash}"),
        mono_line(f"链位置 Chain position: {seq}"),
    ]


def proof_lines(item: Record | RegisterEntry) -> list[Flowable]:
    """Return the verification lines of a register row: a record's, or a site entry's own.

    Site register entries are in their site's chain, not an elevator's: they print
    with their own labels, so that a reader checking elevator records is not
    misled into looking them up among the records.
    """
    if isinstance(item, Record):
        return verification_lines(item.content_hash, item.seq)
    return [
        mono_line(f"登记哈希 Register entry hash: {item.content_hash}"),
        mono_line(f"登记链位置 Site chain position: {item.seq}"),
    ]


def verification_block(record: Record, with_qr: bool) -> list[Flowable]:
    """Return the verification lines, with a QR code to the public verify page if asked."""
    lines = verification_lines(record.content_hash, record.seq)
    if not with_qr:
        return lines
    url = verify_url(record.content_hash)
    text = [
        *lines,
        gap(3),
        para(
            f"{bi('扫码或访问以下地址核验本记录', 'Scan or open to verify this record')}: {url}",
            styles().small,
        ),
    ]
    table = layout_table(
        [[text, Qr(url, QR_SIZE)]],
        [WIDTH - QR_SIZE - 8, QR_SIZE + 8],
        [
            ("BOX", (0, 0), (-1, -1), 0.4, "black"),
            ("LEFTPADDING", (0, 0), (0, 0), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
        ],
    )
    return [KeepTogether([heading(bi("核验", "Verification"), 3), table])]


def photos_block(hashes: Sequence[str], evidence: Evidence, title: str) -> list[Flowable]:
    """Return photo thumbnails (read when drawn), four per row; a missing file says so."""
    if not hashes:
        return []
    thumbs: list[Any] = []
    for sha in hashes:
        photo = evidence.photos.get(sha)
        path = photo_path(photo) if photo is not None else None
        if photo is None or path is None or not path.exists():
            thumbs.append(cell(f"{bi('照片缺失', 'Photo missing')} {sha[:12]}…", WIDTH / 4))
        else:
            thumbs.append(
                [Thumb(path, photo.width, photo.height), para(sha[:12] + "…", styles().small)]
            )
    rows = [thumbs[i : i + THUMBS_PER_ROW] for i in range(0, len(thumbs), THUMBS_PER_ROW)]
    rows[-1] += [[] for _ in range(THUMBS_PER_ROW - len(rows[-1]))]
    return [heading(title, 3), layout_table(rows, widths_of([0.25] * THUMBS_PER_ROW))]


# --- the record's identity -----------------------------------------------------------------


def kind_title(kind: RecordKind) -> str:
    """Return a record kind's title on paper, bilingual."""
    names = KIND_NAMES.get(kind)
    return bi(*names) if names else label(KIND_LABELS, kind)


def record_title(record: Record) -> str:
    """Return a record's title on paper: its kind and position in the chain."""
    return f"{kind_title(record.kind)} · #{record.seq}"


def identity_fields(sheet: Sheet) -> list[Field]:
    """Return the fields every record prints first."""
    data = sheet.data
    subject = ""
    if sheet.record.subject_id is not None and sheet.record.subject is not None:
        subject = (
            f"{record_title(sheet.record.subject)} · {sheet.at(sheet.record.subject.occurred_at)}"
        )
    found: list[Field] = [
        (bi("发生时间", "Occurred at"), sheet.at(data.get("occurred_at"))),
        (bi("记录时间", "Recorded at"), sheet.at(data.get("recorded_at"))),
        (bi("记录人", "Author"), f"{data.get('author_name')}（{data.get('organisation')}）"),
    ]
    if subject:
        found.append((bi("所涉记录", "Concerns"), subject))
    return found


def elevator_fields(elevator: Elevator) -> list[Field]:
    """Return an elevator's identity: codes, place, company, status."""
    site = elevator.site
    return [
        (bi("设备代码", "Equipment code"), elevator.equipment_code),
        (bi("使用登记证编号", "Registration no."), elevator.registration_no),
        (bi("救援识别码", "Rescue code"), elevator.rescue_code),
        (bi("设备类别", "Kind"), elevator.kind_label),
        (bi("使用单位", "Property company"), site.organisation.name),
        (bi("使用状态", "Status"), label(STATUS_LABELS, elevator.status)),
        (bi("小区/项目", "Site"), site.name),
        (bi("位置", "Location"), elevator.location or DASH),
        (bi("地址", "Address"), site.address),
        (bi("行政区", "District"), f"{site.district_name} ({site.district_code})"),
    ]


def elevator_identity(elevator: Elevator) -> str:
    """Return the one-line identity printed in the page header."""
    place = " ".join(p for p in (elevator.site.name, elevator.location) if p)
    return f"{bi('电梯', 'Elevator')} {elevator.equipment_code} · {place}"


# --- bodies by kind ----------------------------------------------------------------------------


def _patrol_item_row(sheet: Sheet, item: checklists.Item | None, code: str) -> list[Any]:
    path = f"items.{code}"
    entry = sheet.get(path) or {}
    result = sheet.show(f"{path}.result", lambda v: label(PATROL_RESULTS, v))
    if entry.get("result") == "fail" and entry.get("severity") == "serious":
        result += f" · {bi('重大隐患', 'Serious hazard')}"
    reading = ""
    if "value" in entry:
        unit = entry.get("unit") or ""
        limits = limits_text(entry.get("min"), entry.get("max"), unit)
        reading = f"{sheet.show(f'{path}.value')} {unit}".strip()
        reading += f"\n{bi('限值', 'Limits')} {limits}" if limits else ""
    name = item.label() if item else code
    note = (
        sheet.show(f"{path}.note")
        if entry.get("note") or sheet.eff.corrected(f"{path}.note")
        else ""
    )
    return [f"{entry.get('duty') or ''} {name}".strip(), result, reading, note]


def _patrol_checklist(sheet: Sheet) -> list[Flowable]:
    body = sheet.eff.body
    checklist = checklists.get(body.get("checklist", ""), body.get("checklist_version", 0))
    entries: dict[str, Any] = body.get("items") or {}
    order = [item.code for item in checklist.items] if checklist else []
    codes = [c for c in order if c in entries] + sorted(c for c in entries if c not in order)
    rows = [_patrol_item_row(sheet, checklist.item(c) if checklist else None, c) for c in codes]
    failed = [
        ("BACKGROUND", (0, i + 1), (-1, i + 1), LABEL_GREY)
        for i, code in enumerate(codes)
        if (entries[code] or {}).get("result") == "fail"
    ]
    title = checklist.title() if checklist else str(body.get("checklist"))
    header = [
        bi("巡查项目", "Item"),
        bi("结果", "Result"),
        bi("读数", "Reading"),
        bi("备注", "Note"),
    ]
    summary = (
        f"{bi('巡查清单', 'Checklist')}: {title} v{body.get('checklist_version')} · "
        f"{bi('不合格项', 'Failed items')}: {len(failed)}"
    )
    out: list[Flowable] = [
        text_line(summary),
        data_table(header, rows, (0.46, 0.16, 0.16, 0.22), extra=failed),
    ]
    misuse = body.get("misuse")
    if misuse:
        act = checklists.act(misuse.get("act"))
        out += [
            gap(),
            fields_table(
                [
                    (
                        bi("违规乘用行为", "Prohibited act"),
                        act.label() if act else misuse.get("act"),
                    ),
                    (
                        bi("处置", "Action taken"),
                        sheet.show("misuse.action", lambda v: label(PATROL_MISUSE_ACTIONS, v)),
                    ),
                    (bi("经过", "What happened"), sheet.show("misuse.note")),
                ]
            ),
        ]
    if body.get("note") or sheet.eff.corrected("note"):
        out += [
            gap(),
            fields_table([(bi("其他情况", "Other observations"), sheet.show("note"))], 1),
        ]
    hashes = [h for c in codes for h in (entries[c] or {}).get("photos") or []]
    return out + photos_block(hashes, sheet.evidence, bi("现场照片", "Photos"))


def patrol_body(sheet: Sheet) -> list[Flowable]:
    """Return a daily patrol: the checklist with results, readings and notes, or the state found."""
    body = sheet.eff.body
    if body.get("out_of_service"):
        specs: list[Spec] = [
            (
                bi("登记状态", "Registered status"),
                "registry_status",
                lambda v: label(STATUS_LABELS, v),
            ),
            (
                bi("现场情况", "What was found"),
                "status_seen",
                lambda v: label(PATROL_STATUS_SEEN, v),
            ),
            (bi("已张贴停用告示", "Out-of-service notice posted"), "notice_posted", yes_no),
            (bi("备注", "Note"), "note", text_of),
        ]
        return [
            fields(sheet, specs),
            *photos_block(body.get("photos") or [], sheet.evidence, bi("现场照片", "Photos")),
        ]
    if not body.get("checklist"):
        return generic_body(sheet)
    return _patrol_checklist(sheet)


def _review_fields(sheet: Sheet) -> list[Field]:
    review = sheet.evidence.reviews.get(sheet.record.id)
    state = maintenance.state_from(review)
    found: list[Field] = [(bi("确认状态", "Review"), label(maintenance.STATE_LABELS, state))]
    if review is not None:
        body = review.data.get("body") or {}
        found.append(
            (
                bi("确认记录", "Review record"),
                f"{record_title(review)} · {sheet.at(review.occurred_at)}",
            )
        )
        if review.kind == RecordKind.rejection:
            found.append((bi("退回理由", "Reason for rejection"), text_of(body.get("reason"))))
        else:
            found.append((bi("确认意见", "Remarks"), text_of(body.get("remarks"))))
    return found


def _maintenance_items(sheet: Sheet) -> list[Flowable]:
    items = sheet.get("items")
    if not isinstance(items, list) or not items:
        return []
    rows: list[list[Any]] = []
    groups: list[tuple[Any, ...]] = []
    level = None
    for index, item in enumerate(items):
        if item.get("level") != level:
            level = item.get("level")
            groups += [
                ("SPAN", (0, len(rows) + 1), (-1, len(rows) + 1)),
                ("BACKGROUND", (0, len(rows) + 1), (-1, len(rows) + 1), LABEL_GREY),
            ]
            rows.append([maintenance.level_label(level), [], [], []])
        path = f"items.{index}"
        rows.append(
            [
                item.get("code") or "",
                text_of(item.get("item")),
                sheet.show(f"{path}.result", lambda v: label(maintenance.RESULT_LABELS, v)),
                sheet.show(f"{path}.note")
                if item.get("note") or sheet.eff.corrected(f"{path}.note")
                else "",
            ]
        )
    header = [bi("编号", "No."), bi("维保项目", "Item"), bi("结果", "Result"), bi("备注", "Note")]
    return [
        heading(bi("维保项目", "Maintenance items"), 3),
        data_table(header, rows, (0.1, 0.52, 0.14, 0.24), extra=groups),
    ]


def _maintenance_lists(sheet: Sheet) -> list[Flowable]:
    body = sheet.eff.body
    out: list[Flowable] = []
    technicians = [
        [
            t.get("name"),
            t.get("certificate_no"),
            bi("账号", "Account") if t.get("source") == "account" else bi("手填", "Typed"),
        ]
        for t in body.get("technicians") or []
    ]
    header = [bi("维保人员", "Technician"), bi("作业证号", "Certificate no."), bi("来源", "Source")]
    out += [
        heading(bi("到场维保人员", "Technicians present"), 3),
        data_table(header, technicians, (0.4, 0.35, 0.25)),
    ]
    out += _maintenance_items(sheet)
    extra = [
        [e.get("item"), label(maintenance.RESULT_LABELS, e.get("result")), text_of(e.get("note"))]
        for e in body.get("extra_items") or []
    ]
    if extra:
        head = [bi("补充项目", "Item typed"), bi("结果", "Result"), bi("备注", "Note")]
        out += [
            heading(bi("补充项目", "Items typed by the technician"), 3),
            data_table(head, extra, (0.5, 0.2, 0.3)),
        ]
    problems = [
        [label(SEVERITY_LABELS, p.get("severity")), text_of(p.get("description"))]
        for p in body.get("problems") or []
    ]
    if problems:
        head = [bi("严重程度", "Severity"), bi("问题", "Problem")]
        out += [
            heading(bi("发现的问题", "Problems found"), 3),
            data_table(head, problems, (0.2, 0.8)),
        ]
    return out


def maintenance_body(sheet: Sheet) -> list[Flowable]:
    """Return a maintenance visit: times, contractor, technicians, items by level, the review."""
    body = sheet.eff.body
    contract = body.get("contract") or {}
    checklist = body.get("checklist") or {}
    level_fmt: Callable[[Any], str] = maintenance.level_label
    specs: list[Spec] = [
        (bi("保养级别", "Level"), "level", level_fmt),
        (bi("保养日期", "Visit date"), "visit_date", day),
        (bi("到达时间", "Arrival"), "arrival_at", "time"),
        (bi("离开时间", "Departure"), "departure_at", "time"),
    ]
    found = [
        *spec_fields(sheet, specs),
        (bi("维保单位", "Contractor"), contract.get("contractor")),
        (bi("资质证书", "Qualification"), contract.get("qualification_no")),
        (bi("合同编号", "Contract no."), contract.get("contract_no")),
        (
            bi("项目清单", "Item list"),
            f"{text_of(checklist.get('title'))} {text_of(checklist.get('version'))}",
        ),
        *_review_fields(sheet),
    ]
    out: list[Flowable] = [fields_table(found), *_maintenance_lists(sheet)]
    if body.get("parts_replaced"):
        out += [
            gap(),
            fields_table(
                [(bi("更换部件", "Parts replaced"), "\n".join(body["parts_replaced"]))], 1
            ),
        ]
    if body.get("remarks") or sheet.eff.corrected("remarks"):
        out += [gap(), fields_table([(bi("维保意见", "Remarks"), sheet.show("remarks"))], 1)]
    return out + photos_block(list(photo_hashes(body)), sheet.evidence, bi("现场照片", "Photos"))


def review_body(sheet: Sheet) -> list[Flowable]:
    """Return an on-site confirmation or a rejection of a maintenance record."""
    rejected = sheet.record.kind == RecordKind.rejection
    specs: list[Spec] = [
        (bi("结论", "Decision"), "statement", text_of),
        (
            bi("退回理由", "Reason for rejection") if rejected else bi("确认意见", "Remarks"),
            "reason" if rejected else "remarks",
            text_of,
        ),
    ]
    found = [
        *spec_fields(sheet, specs),
        (bi("所涉记录哈希", "Subject record hash"), sheet.data.get("subject_content_hash")),
    ]
    return [fields_table(found, 1)]


def correction_body(sheet: Sheet) -> list[Flowable]:
    """Return a correction: its reason and each field's old and new value."""
    changes = sheet.body.get("changes") or {}
    subject = sheet.record.subject
    rows = [
        [
            path_label(Sheet.of(subject, sheet.evidence, sheet.zone, False), path)
            if subject
            else path,
            _plain(c.get("old"), sheet.zone),
            _plain(c.get("new"), sheet.zone),
        ]
        for path, c in sorted(changes.items())
    ]
    header = [bi("更正字段", "Field"), bi("原值", "Original"), bi("更正为", "Corrected to")]
    return [
        fields_table([(bi("更正理由", "Reason"), sheet.body.get("reason"))], 1),
        gap(),
        data_table(header, rows, (0.4, 0.3, 0.3)),
    ]


def _plan_label(plan: Any) -> str:
    return " · ".join(label(LEVEL_LABELS, v) for v in str(plan or "").split(",") if v) or DASH


def handover_body(sheet: Sheet) -> list[Flowable]:
    """Return a handover step: parties, dates, the inspection checklist and open findings."""
    b = sheet.eff.body
    specs: list[Spec] = [
        (bi("移交步骤", "Step"), "step", lambda v: label(handovers.STEP_LABELS, v)),
        (bi("移交编号", "Handover"), "handover_id", lambda v: f"#{v}"),
        (bi("使用单位", "Property company"), "property_company.name", text_of),
        (bi("原维保单位", "Outgoing contractor"), "outgoing.name", text_of),
        (bi("新维保单位", "Incoming contractor"), "incoming.name", text_of),
        (bi("移交日期", "Handover date"), "handover_date", day),
        (bi("新合同截止", "New contract ends"), "new_contract_end", day),
        (bi("保养级别", "Levels"), "level_plan", _plan_label),
    ]
    rows = [
        [
            handovers.localised(item.get("label_en") or "", item.get("label_zh") or ""),
            sheet.show(f"checklist.{i}.ok", yes_no),
            sheet.show(f"checklist.{i}.note"),
        ]
        for i, item in enumerate(b.get("checklist") or [])
    ]
    findings = [
        [f.get("item"), f.get("duty"), label(SEVERITY_LABELS, f.get("severity")), f.get("owner")]
        for f in b.get("open_findings") or []
    ]
    out: list[Flowable] = [
        fields(sheet, specs),
        gap(),
        fields_table([(bi("移交电梯", "Elevators"), ", ".join(b.get("elevators") or []))], 1),
        heading(bi("移交检查项目", "Handover inspection checklist"), 3),
        data_table(
            [bi("检查项目", "Item"), bi("结论", "Answer"), bi("备注", "Note")],
            rows,
            (0.55, 0.15, 0.3),
        ),
        heading(bi("未关闭的整改", "Open findings"), 3),
    ]
    head = [
        bi("问题", "Problem"),
        bi("职责", "Duty"),
        bi("严重程度", "Severity"),
        bi("整改责任单位", "Owner"),
    ]
    out.append(
        data_table(head, findings, (0.45, 0.1, 0.15, 0.3))
        if findings
        else para(bi("无", "None"), styles().body)
    )
    return out


LOCKOUT_STEP_SPECS: dict[str, list[Spec]] = {
    "opened": [
        (bi("原因", "Cause"), "cause", lambda v: label(CAUSE_LABELS, v)),
        (bi("经过", "What happened"), "description", text_of),
        (bi("被困人数", "People trapped"), "entrapment.trapped_count", text_of),
        (bi("报警时间", "Alarm"), "entrapment.alarm_at", "time"),
        (
            bi("救援时限（分钟）", "Rescue limit (minutes)"),
            "entrapment.rescue_limit_minutes",
            text_of,
        ),
    ],
    "notice_posted": [(bi("备注", "Note"), "note", text_of)],
    "contractor_notified": [
        (bi("通知方式", "Channel"), "channel", lambda v: label(CHANNEL_LABELS, v)),
        (bi("被通知人", "Who was called"), "party", text_of),
        (bi("维保单位", "Contractor"), "contractor", text_of),
    ],
    "contractor_arrived": [(bi("备注", "Note"), "note", text_of)],
    "repaired": [
        (bi("故障及维修", "Found and repaired"), "found", text_of),
        (bi("更换部件", "Parts replaced"), "parts_replaced", lambda v: "\n".join(v or []) or DASH),
        (bi("维修人员", "Technician"), "technician.name", text_of),
        (bi("作业证号", "Certificate no."), "technician.certificate_no", text_of),
    ],
    "rescue_arrived": [
        (bi("报警时间", "Alarm"), "alarm_at", "time"),
        (
            bi("救援用时", "Time to rescue"),
            "elapsed_seconds",
            lambda v: lockouts.clock_text(timedelta(seconds=int(v or 0))),
        ),
        (bi("时限（分钟）", "Limit (minutes)"), "limit_minutes", text_of),
        (bi("是否超时", "Late"), "late", yes_no),
        (bi("超时原因", "Reason for the delay"), "late_reason", text_of),
    ],
    "released": [
        (bi("受伤人数", "People injured"), "injured_count", text_of),
        (bi("伤情", "Injuries"), "injuries", text_of),
    ],
    "returned": [(bi("备注", "Note"), "note", text_of)],
    "cancelled": [(bi("撤销理由", "Reason for the cancellation"), "reason", text_of)],
}


def _lockout_report(sheet: Sheet, lockout: Lockout) -> list[Flowable]:
    """Return the whole lockout: its state, each step with its time, rescue time vs limit."""
    zone = sheet.zone
    elapsed = lockouts.rescue_elapsed(lockout)
    late = lockouts.rescue_late(lockout)
    found: list[Field] = [
        (bi("停用编号", "Lockout"), f"#{lockout.id}"),
        (bi("状态", "Status"), label(LOCKOUT_STATUS_LABELS, lockout.status)),
        (bi("停用时间", "Locked out at"), when(lockout.opened_at, zone)),
        (bi("原因", "Cause"), label(CAUSE_LABELS, lockout.cause)),
    ]
    if lockout.entrapment:
        found += [
            (bi("被困人数", "People trapped"), lockout.trapped_count),
            (bi("报警时间", "Alarm"), when(lockout.alarm_at, zone)),
            (bi("救援到场", "Rescue arrived"), when(lockout.rescue_arrived_at, zone)),
            (bi("解困时间", "Released"), when(lockout.released_at, zone)),
            (bi("救援用时", "Time to rescue"), lockouts.clock_text(elapsed)),
            (bi("时限", "Limit"), f"{lockout.rescue_limit_minutes} {bi('分钟', 'minutes')}"),
            (
                bi("救援是否超时", "Rescue late"),
                (bi("超时", "Late") if late else bi("未超时", "In time"))
                if late is not None
                else DASH,
            ),
            (bi("受伤人数", "People injured"), lockout.injured_count),
        ]
    steps = [
        [
            label(lockouts.STEP_LABELS, r.data["body"].get("step")),
            when(r.occurred_at, zone),
            r.data.get("author_name"),
            f"#{r.seq}",
        ]
        for r in lockouts.records_of(lockout)
    ]
    header = [
        bi("步骤", "Step"),
        bi("时间", "Time"),
        bi("记录人", "Recorded by"),
        bi("链位置", "Position"),
    ]
    return [
        heading(bi("停用全过程", "The whole lockout"), 3),
        fields_table(found),
        gap(),
        data_table(header, steps, (0.34, 0.28, 0.26, 0.12)),
    ]


def lockout_body(sheet: Sheet) -> list[Flowable]:
    """Return a lockout step; a standalone sheet adds the whole lockout with every step."""
    step = sheet.body.get("step")
    specs: list[Spec] = [
        (bi("步骤", "Step"), "step", lambda v: label(lockouts.STEP_LABELS, v)),
        (bi("停用编号", "Lockout"), "lockout_id", lambda v: f"#{v}"),
        *LOCKOUT_STEP_SPECS.get(str(step), []),
    ]
    if step == "opened" and not sheet.body.get("entrapment"):
        specs = specs[:4]
    out: list[Flowable] = [fields(sheet, specs, 1)]
    out += photos_block(sheet.body.get("photos") or [], sheet.evidence, bi("现场照片", "Photos"))
    lockout = db.session.get(Lockout, sheet.body.get("lockout_id") or 0)
    if sheet.standalone and lockout is not None:
        out += _lockout_report(sheet, lockout)
    return out


def _action_meaning(action: Any) -> str:
    """Return a rectification step as what its signature means (完成, 验证, 重新打开)."""
    try:
        meaning = rectifications.ACTION_MEANINGS[rectifications.Action(action)]
    except (KeyError, ValueError):
        return text_of(action)
    return label(MEANING_LABELS, meaning)


def _rectification_notice(sheet: Sheet, finding: Finding) -> list[Flowable]:
    """Return the rectification notice and every step of its closure."""
    zone = sheet.zone
    notice: list[Field] = [
        (bi("整改编号", "Rectification"), f"#{finding.id}"),
        (bi("状态", "Status"), label(FINDING_STATUS_LABELS, finding.status)),
        (bi("问题", "Problem"), finding.item_label),
        (bi("描述", "Description"), finding.description),
        (bi("职责", "Duty"), label(rectifications.DUTY_LABELS, finding.duty)),
        (bi("严重程度", "Severity"), label(SEVERITY_LABELS, finding.severity)),
        (bi("来源", "Source"), label(FINDING_SOURCE_LABELS, finding.source)),
        (bi("整改责任单位", "Owner of the fix"), finding.owner_organisation.name),
        (bi("下达时间", "Opened at"), when(finding.created_at, zone)),
        (bi("整改期限", "Deadline"), when(finding.deadline, zone)),
        (bi("完成时间", "Completed at"), when(finding.completed_at, zone)),
        (bi("验证时间", "Verified at"), when(finding.verified_at, zone)),
    ]
    steps = [
        [
            _action_meaning(item.data["body"].get("action")),
            when(item.occurred_at, zone),
            item.data.get("author_name"),
            text_of(item.data["body"].get("text")),
        ]
        for item in rectifications.evidence_of(finding)
    ]
    header = [bi("步骤", "Step"), bi("时间", "Time"), bi("签名人", "Signed by"), bi("说明", "Text")]
    return [
        heading(bi("整改通知", "Rectification notice"), 3),
        fields_table(notice),
        heading(bi("整改闭环", "Closure"), 3),
        data_table(header, steps, (0.18, 0.24, 0.18, 0.4)),
    ]


def rectification_body(sheet: Sheet) -> list[Flowable]:
    """Return a rectification step; a standalone sheet adds the notice and its whole closure."""
    specs: list[Spec] = [
        (bi("步骤", "Step"), "action", _action_meaning),
        (bi("整改编号", "Rectification"), "finding_id", lambda v: f"#{v}"),
        (bi("问题", "Problem"), "item_label", text_of),
        (bi("职责", "Duty"), "duty", lambda v: label(rectifications.DUTY_LABELS, v)),
        (bi("严重程度", "Severity"), "severity", lambda v: label(SEVERITY_LABELS, v)),
        (bi("整改责任单位", "Owner of the fix"), "owner", text_of),
        (bi("整改期限", "Deadline"), "deadline", "time"),
        (bi("是否逾期", "Overdue"), "overdue", yes_no),
        (bi("说明", "Text"), "text", text_of),
    ]
    out: list[Flowable] = [fields(sheet, specs, 1)]
    out += photos_block(sheet.body.get("photos") or [], sheet.evidence, bi("整改照片", "Photos"))
    finding = db.session.get(Finding, sheet.body.get("finding_id") or 0)
    if sheet.standalone and finding is not None:
        out += _rectification_notice(sheet, finding)
    return out


SIMPLE_SPECS: dict[RecordKind, list[Spec]] = {
    RecordKind.alarm_test: [
        (bi("测试时间", "Tested at"), "tested_at", "time"),
        (bi("值班室应答", "Answered"), "answered", yes_no),
        (bi("应答用时（秒）", "Answered after (s)"), "answered_in_seconds", text_of),
        (bi("应答人", "Answered by"), "answered_by", text_of),
        (bi("通话清晰", "Talk clear"), "talk_clear", yes_no),
        (bi("应答时限（秒）", "Answer limit (s)"), "answer_limit_seconds", text_of),
        (bi("不合格", "Failed"), "failed", yes_no),
        (bi("备注", "Note"), "note", text_of),
    ],
    RecordKind.addition: [
        (bi("类型", "What"), "what", lambda v: label(legal.ADDITION_WHAT_LABELS, v)),
        (bi("描述", "Description"), "description", text_of),
        (bi("位置", "Location"), "location", text_of),
        (bi("安装日期", "Installed on"), "installed_on", day),
        (bi("安装单位", "Installed by"), "installer", text_of),
        (bi("重量（千克）", "Weight (kg)"), "weight_kg", text_of),
        (bi("已安全评审", "Reviewed"), "review.reviewed", yes_no),
        (bi("评审同意", "Approved"), "review.approved", yes_no),
        (bi("评审人", "Reviewer"), "review.reviewer", text_of),
        (bi("评审意见", "Review note"), "review.note", text_of),
        (bi("备注", "Note"), "note", text_of),
    ],
    RecordKind.inspection: [
        (bi("类型", "Kind"), "type", lambda v: label(legal.INSPECTION_TYPE_LABELS, v)),
        (bi("检验日期", "Date of the test"), "inspected_on", day),
        (bi("检验机构", "Inspection body"), "inspection_body", text_of),
        (bi("报告编号", "Report no."), "report_no", text_of),
        (bi("检验结论", "Result"), "result", legal.result_label),
        (bi("下次检验", "Next test due"), "next_due", day),
        (bi("备注", "Note"), "note", text_of),
    ],
    RecordKind.misuse: [
        (bi("违规行为", "Prohibited act"), "act", lambda v: legal.act_label(v)),
        (bi("处置", "Action taken"), "action", lambda v: label(legal.MISUSE_ACTION_LABELS, v)),
        (bi("经过", "What happened"), "note", text_of),
    ],
}


def simple_body(sheet: Sheet) -> list[Flowable]:
    """Return a kind whose body is a list of fields (alarm test, addition, inspection, misuse)."""
    out: list[Flowable] = [fields(sheet, SIMPLE_SPECS[sheet.record.kind], 1)]
    items = sheet.body.get("items")
    if sheet.record.kind == RecordKind.inspection and items:
        rows = [
            [sheet.show(f"items.{i}.description"), label(SEVERITY_LABELS, it.get("severity"))]
            for i, it in enumerate(items)
        ]
        out += [
            heading(bi("需整改项目", "Items to rectify"), 3),
            data_table([bi("项目", "Item"), bi("严重程度", "Severity")], rows, (0.8, 0.2)),
        ]
    return out + photos_block(
        sheet.body.get("photos") or [], sheet.evidence, bi("现场照片", "Photos")
    )


def generic_body(sheet: Sheet) -> list[Flowable]:
    """Return every field of a body as corrected (kinds without a layout of their own)."""
    pairs: list[Field] = [(path, sheet.show(path)) for path, _value in flatten(sheet.body)]
    return [fields_table(pairs, 1)] if pairs else []


BODIES: dict[RecordKind, Callable[[Sheet], list[Flowable]]] = {
    RecordKind.patrol: patrol_body,
    RecordKind.maintenance: maintenance_body,
    RecordKind.confirmation: review_body,
    RecordKind.rejection: review_body,
    RecordKind.correction: correction_body,
    RecordKind.handover: handover_body,
    RecordKind.lockout: lockout_body,
    RecordKind.rectification: rectification_body,
    RecordKind.alarm_test: simple_body,
    RecordKind.addition: simple_body,
    RecordKind.inspection: simple_body,
    RecordKind.misuse: simple_body,
}


def record_section(sheet: Sheet) -> list[Flowable]:
    """Return one record as printed: identity, body, signatures, corrections, verification."""
    return [
        heading(record_title(sheet.record), 2),
        fields_table(identity_fields(sheet), 3),
        gap(),
        *BODIES.get(sheet.record.kind, generic_body)(sheet),
        *signature_block(acting_signatures(sheet), sheet.zone),
        *corrections_block(sheet),
        gap(3),
        *verification_block(sheet.record, with_qr=sheet.standalone),
    ]


def record_sheet_flowables(record: Record) -> list[Flowable]:
    """Return the one-record sheet: the elevator's identity, then the record with its QR code."""
    elevator = record.elevator
    sheet = Sheet.of(record, Evidence.load([record]), elevator.site.timezone, standalone=True)
    return [
        para(kind_title(record.kind), styles().title),
        fields_table(elevator_fields(elevator)),
        gap(6),
        *record_section(sheet),
    ]


# --- site registers ------------------------------------------------------------------------------


def site_fields(site: Site) -> list[Field]:
    """Return a site's identity: name, company, address, district."""
    return [
        (bi("小区/项目", "Site"), site.name),
        (bi("使用单位", "Property company"), site.organisation.name),
        (bi("地址", "Address"), site.address),
        (bi("行政区", "District"), f"{site.district_name} ({site.district_code})"),
    ]


def site_identity(site: Site) -> str:
    """Return the one-line identity of a site printed in the page header."""
    return f"{bi('小区', 'Site')} {site.name} · {site.organisation.name}"


def local_bounds(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants of the start of ``start`` and the end of ``end`` in a zone."""
    tz = ZoneInfo(zone)
    first = datetime.combine(start, time.min, tz).astimezone(UTC)
    last = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return first, last


@dataclass
class Register:
    """One register's title, columns and row: from a site entry, or from a record's Sheet."""

    title: str
    header: list[str]
    fractions: tuple[float, ...]
    row: Callable[[Any, str], list[Any]]


def _key_row(entry: RegisterEntry, zone: str) -> list[Any]:
    body = entry.data["body"]
    what = bi("领用", "Issued") if entry.kind == RegisterKind.key_issue else bi("归还", "Returned")
    kind = label(KEY_KIND_LABELS, body.get("key_kind")) if body.get("key_kind") else ""
    return [
        when(entry.occurred_at, zone),
        what,
        f"{body.get('key_code')} {kind}".strip(),
        body.get("holder"),
        body.get("certificate_no"),
        text_of(body.get("purpose") or body.get("note")),
    ]


def _shift_row(entry: RegisterEntry, zone: str) -> list[Any]:
    body = entry.data["body"]
    if entry.kind == RegisterKind.roster_withdrawal:
        return [
            when(body.get("starts_at"), zone),
            when(body.get("ends_at"), zone),
            body.get("person"),
            bi("撤销", "Withdrawn"),
            text_of(body.get("reason")),
        ]
    return [
        when(entry.starts_at, zone),
        when(entry.ends_at, zone),
        body.get("person"),
        text_of(body.get("phone")),
        text_of(body.get("place")),
    ]


def _video_row(entry: RegisterEntry, zone: str) -> list[Any]:
    body = entry.data["body"]
    return [
        when(entry.occurred_at, zone),
        f"{body.get('cameras_working')} / {body.get('cameras_total')}",
        f"{body.get('retention_days')} / {body.get('retention_required_days')}",
        day(entry.on_date),
        text_of(body.get("note")),
    ]


def _drill_row(entry: RegisterEntry, zone: str) -> list[Any]:
    body = entry.data["body"]
    if entry.kind == RegisterKind.emergency_plan:
        return [
            day(entry.on_date),
            bi("应急预案", "Emergency plan"),
            text_of(body.get("approved_by")),
            f"{body.get('title')} {body.get('version') or ''}".strip(),
            text_of(body.get("summary")),
            DASH,
        ]
    return [
        day(entry.on_date),
        bi("应急演练", "Drill"),
        body.get("organiser"),
        text_of(body.get("scenario")),
        text_of(body.get("participants")),
        yes_no(entry.ok),
    ]


def _alarm_row(sheet: Sheet, _zone: str) -> list[Any]:
    return [
        sheet.data.get("equipment_code"),
        sheet.show("tested_at", sheet.at),
        sheet.show("answered", yes_no),
        sheet.show("answered_in_seconds"),
        sheet.show("talk_clear", yes_no),
        sheet.show("failed", lambda v: bi("不合格", "Failed") if v else bi("合格", "Passed")),
    ]


def _addition_row(sheet: Sheet, _zone: str) -> list[Any]:
    return [
        sheet.data.get("equipment_code"),
        sheet.show("installed_on", day),
        sheet.show("what", lambda v: label(legal.ADDITION_WHAT_LABELS, v)),
        sheet.show("description"),
        sheet.show("location"),
        sheet.show("review.approved", yes_no),
    ]


def _inspection_row(sheet: Sheet, _zone: str) -> list[Any]:
    return [
        sheet.data.get("equipment_code"),
        sheet.show("inspected_on", day),
        sheet.show("type", lambda v: label(legal.INSPECTION_TYPE_LABELS, v)),
        sheet.show("inspection_body"),
        sheet.show("report_no"),
        sheet.show("result", legal.result_label),
        sheet.show("next_due", day),
    ]


REGISTER_LAYOUTS: dict[str, list[tuple[Register, tuple[Any, ...]]]] = {
    "keys": [
        (
            Register(
                bi("特种钥匙及工具领用登记", "Keys and tools log"),
                [
                    bi("时间", "Time"),
                    bi("事项", "Entry"),
                    bi("钥匙/工具", "Key or tool"),
                    bi("持有人", "Holder"),
                    bi("证书编号", "Certificate"),
                    bi("用途/备注", "Purpose or note"),
                ],
                (0.17, 0.1, 0.2, 0.15, 0.15, 0.23),
                _key_row,
            ),
            (RegisterKind.key_issue, RegisterKind.key_return),
        )
    ],
    "roster": [
        (
            Register(
                bi("值班安排", "Duty roster"),
                [
                    bi("开始", "Starts"),
                    bi("结束", "Ends"),
                    bi("值班人", "Person"),
                    bi("电话", "Phone"),
                    bi("地点/理由", "Place or reason"),
                ],
                (0.2, 0.2, 0.18, 0.17, 0.25),
                _shift_row,
            ),
            (RegisterKind.roster_shift, RegisterKind.roster_withdrawal),
        ),
        (
            Register(
                bi("紧急报警装置测试", "Emergency alarm tests"),
                [
                    bi("设备代码", "Equipment code"),
                    bi("测试时间", "Tested at"),
                    bi("应答", "Answered"),
                    bi("用时（秒）", "Seconds"),
                    bi("通话清晰", "Talk clear"),
                    bi("结论", "Result"),
                ],
                (0.22, 0.2, 0.12, 0.14, 0.14, 0.18),
                _alarm_row,
            ),
            (RecordKind.alarm_test,),
        ),
    ],
    "video": [
        (
            Register(
                bi("视频监控检查", "Video retention checks"),
                [
                    bi("检查时间", "Checked at"),
                    bi("正常/总数", "Working / total"),
                    bi("保存天数/要求", "Days kept / required"),
                    bi("最早录像", "Oldest footage"),
                    bi("备注", "Note"),
                ],
                (0.2, 0.15, 0.2, 0.15, 0.3),
                _video_row,
            ),
            (RegisterKind.video_check,),
        )
    ],
    "additions": [
        (
            Register(
                bi("加装及广告登记", "Additions and advertising"),
                [
                    bi("设备代码", "Equipment code"),
                    bi("安装日期", "Installed on"),
                    bi("类型", "What"),
                    bi("描述", "Description"),
                    bi("位置", "Location"),
                    bi("评审同意", "Approved"),
                ],
                (0.2, 0.13, 0.13, 0.26, 0.16, 0.12),
                _addition_row,
            ),
            (RecordKind.addition,),
        )
    ],
    "inspections": [
        (
            Register(
                bi("定期检验及自行检测", "Inspections and self-tests"),
                [
                    bi("设备代码", "Equipment code"),
                    bi("检验日期", "Date"),
                    bi("类型", "Kind"),
                    bi("检验机构", "Body"),
                    bi("报告编号", "Report no."),
                    bi("结论", "Result"),
                    bi("下次检验", "Next due"),
                ],
                (0.18, 0.12, 0.14, 0.18, 0.14, 0.12, 0.12),
                _inspection_row,
            ),
            (RecordKind.inspection,),
        )
    ],
    "drills": [
        (
            Register(
                bi("应急预案及演练", "Emergency plans and drills"),
                [
                    bi("日期", "Date"),
                    bi("类型", "Kind"),
                    bi("组织/批准", "Organiser or approver"),
                    bi("场景/标题", "Scenario or title"),
                    bi("参与人员/摘要", "Participants or summary"),
                    bi("按计划完成", "As planned"),
                ],
                (0.12, 0.12, 0.18, 0.22, 0.24, 0.12),
                _drill_row,
            ),
            (RegisterKind.emergency_plan, RegisterKind.drill),
        )
    ],
}


def _register_entries(site: Site, kinds: tuple[Any, ...], start: date, end: date) -> list[Any]:
    """Return the entries (site register entries or elevator records) of a register's period."""
    if isinstance(kinds[0], RegisterKind):
        first, last = local_bounds(start, end, site.timezone)
        in_period = and_(RegisterEntry.occurred_on >= start, RegisterEntry.occurred_on <= end)
        if RegisterKind.roster_shift in kinds:
            in_period = or_(
                in_period, and_(RegisterEntry.starts_at < last, RegisterEntry.ends_at > first)
            )
        return list(
            db.session.scalars(
                select(RegisterEntry)
                .where(RegisterEntry.site_id == site.id, RegisterEntry.kind.in_(kinds), in_period)
                .order_by(RegisterEntry.occurred_at, RegisterEntry.seq)
            )
        )
    return list(
        db.session.scalars(
            select(Record)
            .join(Elevator, Record.elevator_id == Elevator.id)
            .where(
                Elevator.site_id == site.id,
                Record.kind.in_(kinds),
                Record.occurred_on >= start,
                Record.occurred_on <= end,
            )
            .order_by(Record.occurred_at, Record.id)
        )
    )


def _proof(entry: Record | RegisterEntry, sheet: Sheet | None, zone: str) -> list[Flowable]:
    """Return what follows a register row: signatures, corrections, verification lines."""
    text = f"{bi('签名', 'Signature')}: {signatures_text(entry.data, zone)}"
    if sheet is not None and sheet.eff.changes:
        text += f"\n{bi('更正', 'Corrections')}: {corrections_text(sheet)}"
    return [para(text, styles().small), *proof_lines(entry)]


def _register_table(register: Register, entries: Sequence[Any], zone: str) -> Table:
    """Return a register's rows, each followed by its signatures and verification lines."""
    evidence = Evidence.load([e for e in entries if isinstance(e, Record)])
    rows: list[list[Any]] = []
    spans: list[tuple[Any, ...]] = []
    for entry in entries:
        sheet = Sheet.of(entry, evidence, zone, False) if isinstance(entry, Record) else None
        rows.append(register.row(sheet or entry, zone))
        rows.append([_proof(entry, sheet, zone)] + [[] for _ in register.header[1:]])
        r = len(rows)
        spans += [("SPAN", (0, r), (-1, r)), ("LINEABOVE", (0, r), (-1, r), 0.2, LABEL_GREY)]
    return data_table(register.header, rows, register.fractions, extra=spans)


def register_flowables(site: Site, register: str, start: date, end: date) -> Iterator[Flowable]:
    """Yield a register's document body: the site, the period, then each table."""
    yield para(register_title(register), styles().title)
    yield fields_table(
        [*site_fields(site), (bi("期间", "Period"), f"{start.isoformat()} – {end.isoformat()}")]
    )
    for layout, kinds in REGISTER_LAYOUTS[register]:
        entries = _register_entries(site, kinds, start, end)
        yield heading(layout.title, 1)
        if entries:
            yield _register_table(layout, entries, site.timezone)
        else:
            yield para(bi("本期间无记录", "Nothing recorded in this period"), styles().body)


def register_title(register: str) -> str:
    """Return the title of a register's document."""
    return bi(*REGISTER_NAMES[register])
