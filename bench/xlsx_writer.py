"""Before/after for the XLSX writer (issue #12): `PYTHONPATH=. python bench/xlsx_writer.py` — 10,000 device rows
through openpyxl write-only (the old app/core/xlsx.py) and through the streamed writer."""
import datetime as dt, time, io, random
from decimal import Decimal
from openpyxl import Workbook
from app.core import xlsx
rng = random.Random(1)
rows = [[f"SN{rng.randrange(10**9):09d}", "海康", "网络摄像机", f"DS-2CD{rng.randrange(9999)}", "视频监控",
         f"客户{rng.randrange(3000)}有限公司", "一号楼", dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700)),
         dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(700)), rng.randrange(3)] for _ in range(10000)]
header = ["序列号", "品牌", "产品", "型号", "系统", "客户", "安装位置", "验收", "保修至", "延保"]
def old():
    wb = Workbook(write_only=True); ws = wb.create_sheet("设备"); ws.append(header)
    for r in rows: ws.append(r)
    b = io.BytesIO(); wb.save(b); return b.getvalue()
def new():
    return xlsx.workbook([("设备", header, rows)])
for name, fn in (("openpyxl write-only (before)", old), ("core streamed writer (now)", new)):
    best = min((lambda t0: (fn(), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
    print(f"{name}: {best*1000:.0f} ms for 10,000 devices")
