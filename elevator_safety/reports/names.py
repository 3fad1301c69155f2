"""The names of the documents on paper: light, so that pages can name them without ReportLab.

The PDF libraries (ReportLab, pyHanko, pypdf, with Pillow and segno) take
about 40 MB in a process; they are loaded where a document is made
(``render``, ``signing``), not by every process that builds the app
(docs/performance.md).
"""

from __future__ import annotations

from elevator_safety.records.models import RecordKind

#: Names of the record kinds on paper (Chinese, English).
KIND_NAMES: dict[RecordKind, tuple[str, str]] = {
    RecordKind.patrol: ("日常巡查记录", "Daily patrol record"),
    RecordKind.maintenance: ("维护保养记录", "Maintenance record"),
    RecordKind.confirmation: ("现场监督确认", "On-site confirmation"),
    RecordKind.rejection: ("维保记录退回", "Rejection of a maintenance record"),
    RecordKind.correction: ("更正记录", "Correction"),
    RecordKind.handover: ("移交检查记录", "Handover inspection record"),
    RecordKind.lockout: ("停用与困人报告", "Lockout and entrapment report"),
    RecordKind.rectification: ("整改通知与闭环", "Rectification notice and closure"),
    RecordKind.alarm_test: ("紧急报警装置测试记录", "Emergency alarm test"),
    RecordKind.addition: ("加装及广告记录", "Addition or advertising"),
    RecordKind.inspection: ("检验检测报告", "Inspection report"),
    RecordKind.misuse: ("违规乘用记录", "Misuse incident"),
}
#: Site registers that print for a period, in the contract's order, with their names.
REGISTER_NAMES: dict[str, tuple[str, str]] = {
    "keys": ("特种钥匙及工具登记", "Keys and tools log"),
    "roster": ("值班及报警测试登记", "Duty roster and alarm tests"),
    "video": ("视频监控检查登记", "Video retention checks"),
    "additions": ("加装及广告登记", "Additions and advertising"),
    "inspections": ("检验检测登记", "Inspections and self-tests"),
    "drills": ("应急预案及演练登记", "Emergency plans and drills"),
}
REGISTERS = tuple(REGISTER_NAMES)
