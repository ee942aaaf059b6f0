"""Does the loaner fit? (issue #12.11) Warnings only — the keeper may still lend what is at hand.

* check-out: the loaner's model or kind (video recorder, camera, switch …) against the customer's
  device — read through app.customers.api (the device register), or the RMA's unit through app.rma.api;
* check-in: the linked case is still open (the customer's own unit is not back) or the notice has
  not been recalled (R-LOAN-01).

The loaner's kind is read from its catalogue name and model (parts carry no system); the device's
from its register entry (`kind`, `system`), or from its product name when the register has none.
"""

from __future__ import annotations

import app.customers.api as customers
from app.core.i18n import _
from app.core.i18n import lazy_gettext as _l
from app.loaners.services import _base
from app.loaners.services._base import get_rma

# Catalogue words → device kind (the register's `kind` codes); longest, most specific words first.
KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("程控交换机", "pbx"), ("电话交换机", "pbx"), ("录像机", "cctv_host"), ("NVR", "cctv_host"), ("DVR", "cctv_host"),
    ("解码器", "cctv_aux"), ("监视器", "cctv_aux"), ("摄像机", "camera"), ("摄像头", "camera"), ("球机", "camera"),
    ("报警主机", "alarm_host"), ("报警控制", "alarm_host"), ("探测器", "detector"), ("交换机", "switch"),
    ("服务器", "server"), ("电脑", "pc"), ("功放", "amplifier"), ("音箱", "speaker"), ("考勤", "attendance"),
    ("门禁", "door_controller"),
)
KIND_SYSTEM = {"camera": "cctv", "cctv_host": "cctv", "cctv_aux": "cctv", "alarm_host": "intrusion",
               "detector": "intrusion", "switch": "network", "server": "network", "pc": "network", "pbx": "telephone",
               "amplifier": "broadcast", "speaker": "broadcast", "attendance": "onecard", "door_controller": "onecard"}
KIND_LABELS = {"camera": _l("camera"), "cctv_host": _l("video recorder"), "cctv_aux": _l("video decoder or monitor"),
               "alarm_host": _l("alarm control panel"), "detector": _l("detector"), "switch": _l("network switch"),
               "server": _l("server"), "pc": _l("computer"), "pbx": _l("telephone exchange"), "amplifier": _l("amplifier"),
               "speaker": _l("speaker"), "attendance": _l("time clock"), "door_controller": _l("door controller")}


def kind_of(*texts: str | None) -> str:
    """The device kind a catalogue name / model reads as ("" when no word is known)."""
    text = " ".join(t for t in texts if t).upper()
    return next((kind for word, kind in KIND_WORDS if word.upper() in text), "")


def _same_model(a: str, b: str) -> bool:
    norm = lambda s: "".join((s or "").upper().split())  # noqa: E731
    return norm(a) == norm(b)


def fit_warnings(loaner: dict, device: dict | None) -> list[str]:
    """Pure: what does not match between the loaner (`model`, `part_name`) and the customer's device
    (`model`, `product_name`, `kind`, `system`, `serial`). An empty list: it fits, or nothing to compare."""
    if not device:
        return []
    l_model, d_model = str(loaner.get("model") or ""), str(device.get("model") or "")
    l_kind = kind_of(loaner.get("part_name"), l_model)
    d_kind = device.get("kind") if device.get("kind") in KIND_SYSTEM else kind_of(device.get("product_name"), d_model)
    d_system = device.get("system") if device.get("system") not in (None, "", "other") else KIND_SYSTEM.get(d_kind, "")
    what = d_model or str(device.get("product_name") or "")
    if l_kind and d_kind and l_kind != d_kind:
        return [_("The loaner is a %(loaner)s (%(model)s) but the customer's device is a %(device)s (%(device_model)s): "
                  "check that it can stand in before lending it.", loaner=KIND_LABELS[l_kind], model=l_model or "—",
                  device=KIND_LABELS[d_kind], device_model=what or "—")]
    if l_kind and d_system and KIND_SYSTEM[l_kind] != d_system:
        return [_("The loaner (%(model)s) belongs to another system than the customer's device (%(device_model)s): "
                  "check that it can stand in before lending it.", model=l_model or "—", device_model=what or "—")]
    if l_model and d_model and not _same_model(l_model, d_model):
        return [_("The loaner's model %(model)s is not the model of the customer's device (%(device_model)s).",
                  model=l_model, device_model=d_model)]
    return []


async def case_device(device_serial: str = "", case_type: str = "", case_id: int | str | None = None) -> dict | None:
    """The customer's device: the register's entry for the serial, else the RMA's unit (model, product name)."""
    serial = (device_serial or "").strip()
    if serial:
        device = await customers.lookup_device(serial)
        if device is not None:
            return device
    if case_type == "rma" and str(case_id or "").strip().isdigit():
        rma = await get_rma(int(case_id))
        if rma:
            if rma.get("device_id"):
                device = await customers.get_device(int(rma["device_id"]))
                if device is not None:
                    return device
            return {"model": rma.get("model") or "", "product_name": rma.get("product_name") or "",
                    "serial": rma.get("serial") or "", "kind": "", "system": ""}
    return None


async def checkout_fit(unit: dict | None, device_serial: str = "", case_type: str = "",
                       case_id: int | str | None = None) -> list[str]:
    """Check-out form: warnings for the unit about to be lent (none when no unit or no device is known)."""
    if not unit:
        return []
    return fit_warnings(unit, await case_device(device_serial, case_type, case_id))


async def loan_fit(loan: dict) -> list[str]:
    """A booked loan: the same warnings, from what the loan recorded."""
    device = await case_device(loan.get("device_serial") or "", loan.get("case_type") or "", loan.get("case_id"))
    if device is None and loan.get("device_model"):
        device = {"model": loan["device_model"], "product_name": "", "kind": "", "system": ""}
    return fit_warnings(loan, device)


async def checkin_warnings(loan: dict | None, recall_ref: str = "") -> list[str]:
    """Check-in: the linked case still open, the notice not recalled (warnings, not refusals)."""
    if not loan or loan.get("status") != "out":
        return []
    warnings: list[str] = []
    if loan["case_type"] == "rma" and loan.get("case_id") and _base._rma_services() is not None:
        rma = await get_rma(int(loan["case_id"]))
        if rma is not None and not rma.get("is_finished"):
            warnings.append(_("Repair %(number)s is still open (%(status)s): the customer's own unit is not back yet.",
                              number=rma.get("number") or loan["case_label"], status=rma.get("status_label") or ""))
    elif loan["case_type"] == "ticket" and not loan.get("case_finished_at"):
        warnings.append(_("Service ticket %(ref)s is not marked finished yet.", ref=loan["case_label"]))
    if not loan.get("recall_ref") and not (recall_ref or "").strip():
        warnings.append(_("The spare-replacement notice has not been recalled: enter the dispatch slip that "
                          "reinstalled the customer's unit, or recall it later."))
    return warnings
