"""Camera scanning where the browser offers it (issue #12, "Phones and paper"): every scan box gets a camera
button when BarcodeDetector (or the vendored decoder) is there; a decoded code fills the field and is submitted
like Enter. The camera and the detector are stubbed in the page (add_init_script): CI has no camera."""

from __future__ import annotations

import pytest

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

FAKE_CAMERA = """
(() => {
  window.__scanValue = null;
  window.__tracksStopped = 0;
  const media = {
    enumerateDevices: async () => [{ kind: "videoinput", deviceId: "fake", label: "fake camera", groupId: "g" }],
    getUserMedia: async () => {
      const canvas = document.createElement("canvas");
      canvas.width = 64; canvas.height = 48;
      canvas.getContext("2d").fillRect(0, 0, 64, 48);
      const stream = canvas.captureStream(5);
      stream.getTracks().forEach((t) => { const stop = t.stop.bind(t); t.stop = () => { window.__tracksStopped += 1; stop(); }; });
      return stream;
    },
  };
  Object.defineProperty(navigator, "mediaDevices", { value: media, configurable: true });
  window.BarcodeDetector = class {
    static async getSupportedFormats() { return ["code_128", "qr_code"]; }
    async detect() { return window.__scanValue ? [{ rawValue: window.__scanValue, format: "code_128" }] : []; }
  };
})();
"""

NO_CAMERA = """
(() => {
  delete window.BarcodeDetector;
  Object.defineProperty(navigator, "mediaDevices", { value: undefined, configurable: true });
})();
"""


def test_camera_scan_fills_the_loaner_box_and_submits_like_enter(page, live_server, shots):
    page.add_init_script(FAKE_CAMERA)
    sign_in(page, live_server, "warehouse")
    page.goto(live_server + "/loaners")
    box = page.locator("#loaner-scan")
    button = page.locator(".scan-camera-wrap:has(#loaner-scan) .scan-camera-button")
    button.wait_for(state="visible")
    assert button.get_attribute("aria-label") == "用摄像头扫码" and button.evaluate("b => b.tagName") == "BUTTON"

    # keyboard: the button is reached by Tab from the field and opened with Enter; Escape closes, focus comes back
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('scan-camera-button')")
    page.keyboard.press("Enter")
    dialog = page.locator("#scan-camera-panel")
    dialog.wait_for(state="visible")
    assert dialog.get_attribute("role") == "dialog" and "请将摄像头对准条码或二维码" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.id") == "loaner-scan"
    assert page.evaluate("window.__tracksStopped") >= 1  # the camera is released

    # a detection fills the field and submits it, as the Enter of a hand scanner would
    button.click()
    dialog.wait_for(state="visible")
    page.screenshot(path=str(shots / "scan-camera-open.png"))
    with page.expect_request(lambda r: "/loaners/go?q=BP-SCAN-0001" in r.url):
        page.evaluate("window.__scanValue = 'BP-SCAN-0001'")
    page.wait_for_load_state()
    page.screenshot(path=str(shots / "scan-camera-submitted.png"), full_page=True)


@pytest.mark.parametrize("username, url, selector", [
    ("bench", "/bench", "#rma-scan"),
    ("warehouse", "/loaners/checkout", "#f-serial"),
])
def test_every_scan_box_offers_the_camera(page, live_server, username, url, selector):
    page.add_init_script(FAKE_CAMERA)
    sign_in(page, live_server, username)
    page.goto(live_server + url)
    page.locator(f".scan-camera-wrap:has({selector}) .scan-camera-button").wait_for(state="visible")


def test_camera_scan_on_the_board_opens_the_card_search(page, live_server):
    page.add_init_script(FAKE_CAMERA)
    sign_in(page, live_server, "bench")
    page.goto(live_server + "/bench")
    page.locator(".scan-camera-wrap:has(#rma-scan) .scan-camera-button").click()
    page.locator("#scan-camera-panel").wait_for(state="visible")
    with page.expect_request(lambda r: "/bench/scan?q=SN-CAM-42" in r.url):
        page.evaluate("window.__scanValue = 'SN-CAM-42'")
    assert page.locator("#live").inner_text() in ("", "已扫描：SN-CAM-42")


def test_no_camera_no_button(page, live_server):
    page.add_init_script(NO_CAMERA)
    sign_in(page, live_server, "warehouse")
    page.goto(live_server + "/loaners")
    page.wait_for_timeout(500)
    assert page.locator(".scan-camera-button").count() == 0
    assert page.locator("#loaner-scan").is_visible()
