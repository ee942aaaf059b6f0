"""X-04 (issue #12): fault codes stay in the data and reports, people see the catalogue's names — Chinese in zh,
English in en; a catalogue name typed (or picked) at QC is stored as its code."""

from __future__ import annotations

from app.core.db import fetch
from app.core.faults import fault_name, to_code
from app.rma import services as svc
from tests.rma.factories import BENCH, make_rma


def test_names_and_codes_both_ways():
    assert to_code("硬盘报错") == "HDD-ERR" and to_code("hard disk error") == "HDD-ERR" and to_code("no-power") == "NO-POWER"
    assert to_code("主板烧毁") == "主板烧毁"  # not in the catalogue: kept as typed
    assert fault_name("NO-POWER") == "不开机（无电源）" and fault_name("主板烧毁") == "主板烧毁"


async def test_qc_stores_the_code_of_a_typed_chinese_name():
    rma_id = await make_rma("registered")
    rma = await svc.get_rma(rma_id)
    await svc.qc(BENCH, rma_id, rma["version"], fault_code="反复重启", fault_confirmed="开机后反复重启")
    assert (await svc.get_rma(rma_id))["fault_code"] == "REBOOT"


async def test_pages_show_fault_names_not_codes(login_as):
    rma_id = await make_rma("waiting")  # QC'd with NO-POWER by the factory
    rma = await svc.get_rma(rma_id)
    assert rma["fault_code"] == "NO-POWER"
    zh = await login_as("bench")
    for url in (f"/bench/{rma_id}", f"/bench/{rma_id}/card"):
        page = (await zh.get(url)).text
        assert "不开机（无电源）" in page and "NO-POWER" not in page, url
    if rma["device_id"]:
        page = (await zh.get(f"/devices/{rma['device_id']}")).text
        events = await fetch("SELECT fault_code FROM device_event WHERE device_id = {}", rma["device_id"])
        if any(e["fault_code"] == "NO-POWER" for e in events):
            assert "NO-POWER" not in page and "不开机（无电源）" in page
    en = await login_as("bench", lang="en")
    page = (await en.get(f"/bench/{rma_id}/card")).text
    assert "No power" in page and "NO-POWER" not in page
