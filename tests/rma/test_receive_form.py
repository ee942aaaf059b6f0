"""#12.10: the receive form refuses a serial already in repair with a link to its open RMA, and takes unboxing photos
from the phone camera (file input) instead of typed file names."""

from __future__ import annotations

import pytest

from app.core.db import fetch
from app.core.errors import DomainError
from app.rma import services as svc
from seed.factories import unique
from tests.rma.factories import BENCH, make_device_for_rma, make_rma

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _count(sql: str, *args) -> int:
    return int((await fetch(sql, *args))[0]["n"])


async def test_serial_already_on_the_bench_refused_with_link():
    """A unit already in the building is not received twice; the refusal names its RMA and links to it."""
    rma_id = await make_rma("repairing")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.receive(BENCH, svc.IntakeInput(serial=rma["serial"].lower(), fault_reported="又坏了"))
    assert exc.value.status == 400 and rma["number"] in exc.value.errors["serial"]
    assert exc.value.link == f"/bench/{rma_id}"
    assert await _count("SELECT COUNT(*) AS n FROM rma WHERE serial = {}", rma["serial"]) == 1


async def test_shipped_unit_may_come_back():
    """Once shipped the unit is no longer in the building: a new return of it is received."""
    rma_id = await make_rma("shipped")
    rma = await svc.get_rma(rma_id)
    new_id, _number = await svc.receive(BENCH, svc.IntakeInput(serial=rma["serial"], fault_reported="又坏了"))
    assert new_id != rma_id


async def test_receive_with_photos_stores_them():
    """Photos taken on the form are stored with the new RMA, one audit row each."""
    _device, serial = await make_device_for_rma()
    rma_id, _n = await svc.receive(BENCH, svc.IntakeInput(serial=serial, fault_reported="不开机", appearance="ok"),
                                   [("IMG_1.jpg", JPEG), ("IMG_2.png", PNG)])
    rows = await svc.photos(rma_id)
    assert [r["original_name"] for r in rows] == ["IMG_1.jpg", "IMG_2.png"]
    assert [r["content_type"] for r in rows] == ["image/jpeg", "image/png"]
    assert await _count("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'rma.photo_added' AND entity_id = {}",
                        str(rma_id)) == 2


async def test_receive_with_a_bad_photo_writes_nothing():
    """A file that is not a JPEG/PNG refuses the whole intake before anything is written."""
    _device, serial = await make_device_for_rma()
    before = await _count("SELECT COUNT(*) AS n FROM rma_photo")
    with pytest.raises(DomainError) as exc:
        await svc.receive(BENCH, svc.IntakeInput(serial=serial, fault_reported="不开机"),
                          [("IMG_1.jpg", JPEG), ("fake.jpg", b"<html>not an image</html>")])
    assert exc.value.status == 400 and "fake.jpg" in exc.value.errors["photo"]
    assert await _count("SELECT COUNT(*) AS n FROM rma WHERE serial = {}", serial) == 0
    assert await _count("SELECT COUNT(*) AS n FROM rma_photo") == before


# --- over HTTP ----------------------------------------------------------------------------------------------------

async def test_receive_page_offers_camera_upload(login_as):
    client = await login_as("bench")
    page = (await client.get("/bench/receive")).text
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="f-photo" name="photo" accept="image/*" capture="environment" multiple' in page
    assert 'name="photos"' not in page  # no typed file names any more


async def test_receive_http_with_photos_and_empty_input(login_as):
    client = await login_as("desk")
    _device, serial = await make_device_for_rma()
    r = await client.post_form("/bench/receive", {"serial": serial, "fault_reported": "不开机"},
                               files=[("photo", ("IMG_9.jpg", JPEG, "image/jpeg"))])
    assert r.status_code == 303
    rma_id = (await fetch("SELECT id FROM rma WHERE serial = {}", serial))[0]["id"]
    assert len(await svc.photos(rma_id)) == 1
    _device, serial2 = await make_device_for_rma()
    r = await client.post_form("/bench/receive", {"serial": serial2, "fault_reported": "不开机"},
                               files=[("photo", ("", b"", "application/octet-stream"))])  # nothing chosen
    assert r.status_code == 303
    rma2 = (await fetch("SELECT id FROM rma WHERE serial = {}", serial2))[0]["id"]
    assert await svc.photos(rma2) == []


async def test_receive_http_bad_photo_400_nothing_written(login_as):
    client = await login_as("bench")
    _device, serial = await make_device_for_rma()
    r = await client.post_form("/bench/receive", {"serial": serial, "fault_reported": "不开机"},
                               files=[("photo", ("a.jpg", b"GIF89a....", "image/jpeg"))])
    assert r.status_code == 400 and 'id="f-photo-error"' in r.text
    assert not await fetch("SELECT id FROM rma WHERE serial = {}", serial)


async def test_receive_http_serial_in_repair_links_to_it(login_as):
    rma_id = await make_rma("waiting")
    serial = (await svc.get_rma(rma_id))["serial"]
    client = await login_as("bench")
    r = await client.post_form("/bench/receive", {"serial": serial, "fault_reported": "x"})
    assert r.status_code == 400 and f'<a href="/bench/{rma_id}">' in r.text.split('id="open-rma-link"')[1][:200]
    assert await _count("SELECT COUNT(*) AS n FROM rma WHERE serial = {}", serial) == 1


async def test_receive_http_refused_role_with_photo(login_as):
    client = await login_as("finance")
    serial = unique("FINP").upper()
    r = await client.post_form("/bench/receive", {"serial": serial, "customer_name": "x", "fault_reported": "x"},
                               files=[("photo", ("IMG.jpg", JPEG, "image/jpeg"))])
    assert r.status_code == 403 and not await fetch("SELECT id FROM rma WHERE serial = {}", serial)


async def test_unbox_step_points_to_camera_upload_not_typed_names(login_as):
    """The unboxing step (board card and RMA page) asks for no typed file names; the RMA page's photo panel
    takes the phone camera."""
    rma_id = await make_rma("received")
    client = await login_as("bench")
    inline = (await client.get(f"/bench/{rma_id}/form/unbox")).text
    assert 'name="photos"' not in inline and f'href="/bench/{rma_id}#photos"' in inline
    page = (await client.get(f"/bench/{rma_id}")).text
    assert 'name="photos"' not in page and 'href="#photos"' in page and 'id="photos"' in page
    assert 'name="photo" accept="image/*" capture="environment" multiple' in page
