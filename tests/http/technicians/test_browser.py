"""End to end in Debian's headless Chromium on a phone-sized screen (360x740): sign in, pick
the demo site, pair a phone that booted unpaired, watch it come up without a reload while it
boots over real HTTP, then swap it for one whose label the fake camera shows.

Screenshots land in the test's folder; PROVISIONER_SCREENSHOTS=docs/screenshots keeps them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from provisioner.store import get_store
from tests.conftest import import_demo, make_app, token_for
from tests.http.technicians.label import write_y4m
from tests.phones.conftest import pair, serve
from tests.phones.http_client import fetch

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OLD_MAC, NEW_MAC = "805ec0abcdef", "805ec0112233"
UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:ab:cd:ef"
NEW_UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:11:22:33"
PHONE_LAN = {"X-Forwarded-For": "192.0.2.40"}  # the office's address, through one proxy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    """The demo on a real HTTP server behind one trusted proxy hop."""
    folder = tmp_path_factory.mktemp("browser")
    app = make_app(folder, PHONE_MISS_LIMIT=50, PROXY_HOPS=1)
    import_demo(app)
    url, thread, http_server = serve(app)
    yield url, app
    http_server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)
    get_store(app).dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Chromium at 360x740, its camera a video of the new phone's box label."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed: run scripts/setup --test")
    folder = tmp_path_factory.mktemp("chromium")
    label = write_y4m(folder / "label.y4m", NEW_MAC.upper())
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={folder / 'profile'}",
        "--window-size=360,740",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={label}",
        "--lang=nl",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl,en"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(360, 740)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True},
    )
    yield driver
    driver.quit()


def shoot(driver: WebDriver, name: str, folder: Path) -> None:
    """A 360x740 PNG of what the technician sees; kept under docs/ when asked."""
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    keep = os.environ.get("PROVISIONER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def wait_for(driver: WebDriver, css: str, seconds: float = 5):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(
        lambda d: d.find_element(By.CSS_SELECTOR, css)
    )


def test_pair_watch_and_swap_on_a_phone_sized_screen(
    server: tuple[str, Flask], browser: WebDriver, tmp_path: Path
) -> None:
    url, app = server
    status, _, _ = fetch(url, f"/p/{OLD_MAC}.cfg", UA, headers=PHONE_LAN)
    assert status == 200  # the unpaired phone got the bootstrap and is now "discovered"

    browser.get(url + "/t/")
    wait_for(browser, "#token").send_keys(token_for(app, "technician"))
    shoot(browser, "1-sign-in", tmp_path)
    browser.find_element(By.ID, "sign-in").click()

    wait_for(browser, "#site-search").send_keys("amster")
    shoot(browser, "2-sites", tmp_path)
    browser.find_element(By.CSS_SELECTOR, "#site-list li:not([hidden]) a").click()

    card = wait_for(browser, f'#discovered-here li[data-mac="{OLD_MAC}"]')
    assert "Yealink T46U" in card.text and "192.0.2.40" in card.text
    shoot(browser, "3-site", tmp_path)
    card.find_element(By.CSS_SELECTOR, "a.button").click()

    check = wait_for(browser, "#mac-check")
    assert "Yealink" in check.text
    browser.find_element(By.CSS_SELECTOR, 'input[name="extension"][value="240"]').click()
    browser.find_element(By.ID, "pair-submit").click()
    conflict = wait_for(browser, "#conflict")  # the demo's other phone carries 240
    assert "80:5e:c0:12:34:56" in conflict.text
    shoot(browser, "4-pair-conflict", tmp_path)
    browser.find_element(By.ID, "shared").click()
    browser.find_element(By.ID, "pair-submit").click()

    wait_for(browser, '#state[data-stage="waiting"]')
    browser.execute_script("window.notReloaded = true;")
    shoot(browser, "5-waiting", tmp_path)
    status, body, _ = fetch(url, f"/p/{OLD_MAC}.cfg", UA, headers=PHONE_LAN)
    assert status == 200 and b"account.1.user_name = 240" in body
    wait_for(browser, "#provisioned", seconds=2)  # one poll a second: within two seconds
    assert browser.execute_script("return window.notReloaded === true;")
    shoot(browser, "6-provisioned", tmp_path)

    # Without the served barcode library the scan below would only time out: say why instead.
    scanner, _, _ = fetch(url, "/t/static/vendor/barcode-detector.js", UA, headers=PHONE_LAN)
    assert scanner == 200, "the barcode library is missing: run bash scripts/technician-assets"
    browser.find_element(By.ID, "swap").click()
    wait_for(browser, "#new_mac-scan").click()
    WebDriverWait(browser, 10, poll_frequency=0.1).until(
        lambda d: d.find_element(By.ID, "new_mac").get_attribute("value") == "80:5E:C0:11:22:33"
    )
    # Linux Chromium has no BarcodeDetector: the library we serve read the label.
    assert browser.execute_script(
        "return 'BarcodeDetector' in window || !!window.BarcodeDetectionAPI;"
    )
    shoot(browser, "7-swap-scanned", tmp_path)
    browser.find_element(By.ID, "swap-submit").click()
    assert "80:5e:c0:11:22:33" in wait_for(browser, "#confirm-text").text
    browser.find_element(By.ID, "confirm").click()
    wait_for(browser, '#state[data-stage="waiting"]')
    assert "80:5e:c0:11:22:33" in browser.find_element(By.CSS_SELECTOR, "h1").text

    _, old_body, _ = fetch(url, f"/p/{OLD_MAC}.cfg", UA, headers=PHONE_LAN)
    assert b"account.1.user_name = 240" not in old_body  # the old phone gets no secret
    _, new_body, _ = fetch(url, f"/p/{NEW_MAC}.cfg", NEW_UA, headers=PHONE_LAN)
    assert b"account.1.user_name = 240" in new_body
    wait_for(browser, "#provisioned", seconds=3)
    shoot(browser, "8-swapped", tmp_path)


def sign_in_once(browser: WebDriver, url: str, app: Flask) -> None:
    """Sign in unless this browser's session already is (the tests share one browser)."""
    browser.get(url + "/t/")
    if browser.find_elements(By.ID, "token"):
        browser.find_element(By.ID, "token").send_keys(token_for(app, "technician"))
        browser.find_element(By.ID, "sign-in").click()
        wait_for(browser, "#site-search")


def test_labels_brands_and_a_second_tap_in_the_browser(
    server: tuple[str, Flask], browser: WebDriver, tmp_path: Path
) -> None:
    url, app = server
    sign_in_once(browser, url, app)
    site = url + "/t/site/demo/Kantoor%20Amsterdam"
    browser.get(site + "/pair")
    wait_for(browser, "#mac")
    # A QR code's text as printed on boxes: the label "MAC" is not the first octet.
    read = "return [arguments[0]].map(macFromText)[0];"
    assert browser.execute_script(read, "MAC:80:5E:C0:11:22:33") == "805ec0112233"
    assert browser.execute_script(read, "SN:4711 MAC:805EC0112233") == "805ec0112233"
    assert browser.execute_script(read, "AC:80:5E:C0:11:22:33") is None  # seven octets
    # A valid MAC of a brand we do not provision is a warning, not green.
    field = browser.find_element(By.ID, "mac")
    field.send_keys("00:11:22:33:44:55")
    check = browser.find_element(By.ID, "mac-check")
    assert check.get_attribute("class").split() == ["check", "warn"], check.text
    field.clear()
    field.send_keys("80:5E:C0:44:55:66")
    assert check.get_attribute("class").split() == ["check", "ok"], check.text
    shoot(browser, "9-pair-mac-check", tmp_path)

    # A second tap while the first confirmation is on its way sends nothing.
    mac = "805ec0445566"
    with get_store(app).transaction() as session:
        from provisioner.pairing import service
        from provisioner.security.secrets import get_secret_box

        service.pair(session, get_secret_box(app), "demo", mac, "241", "test", 30)
    browser.get(f"{site}/phones/{mac}/unpair")
    wait_for(browser, "#confirm")
    sent = browser.execute_script(
        """
        var form = document.querySelector("form[data-once]"), sent = 0;
        form.addEventListener("submit", function (event) {
          if (!event.defaultPrevented) sent += 1;
          event.preventDefault();  // stay on the page to count
        });
        var button = document.getElementById("confirm");
        form.requestSubmit(button);
        form.requestSubmit(button);
        return sent;
        """
    )
    assert sent == 1
    WebDriverWait(browser, 5, poll_frequency=0.1).until(
        lambda d: d.find_element(By.ID, "confirm").get_attribute("disabled") is not None
    )
    browser.get(f"{site}/phones/{mac}/unpair")  # a fresh page: one real tap
    wait_for(browser, "#confirm").click()
    notice = wait_for(browser, "#site-search, .notice")
    assert "80:5e:c0:44:55:66 is ontkoppeld" in browser.page_source, notice.text


def test_the_fold_of_phones_from_elsewhere_stays_as_left_across_refreshes(
    server: tuple[str, Flask], browser: WebDriver, tmp_path: Path
) -> None:
    url, app = server
    behind_nat = {"X-Forwarded-For": "203.0.113.9"}  # outside the site's 192.0.2.0/24
    first, second = "805ec0aa0101", "805ec0aa0102"  # unpaired: no other test pairs them
    agent = "Yealink SIP-T46U 108.86.0.90 {}"
    fetch(url, f"/p/{first}.cfg", agent.format(first), headers=behind_nat)
    sign_in_once(browser, url, app)
    browser.get(url + "/t/site/demo/Kantoor%20Amsterdam")
    fold = wait_for(browser, "#discovered-elsewhere-fold")
    if not browser.execute_script("return arguments[0].open;", fold):
        fold.find_element(By.TAG_NAME, "summary").click()  # open when nothing booted here
    fold.find_element(By.TAG_NAME, "summary").click()  # the technician folds it away
    assert browser.execute_script("return arguments[0].open;", fold) is False
    fetch(url, f"/p/{second}.cfg", agent.format(second), headers=behind_nat)
    WebDriverWait(browser, 10, poll_frequency=0.2).until(  # the part polls every 3 s
        lambda d: d.find_elements(By.CSS_SELECTOR, f'li[data-mac="{second}"]')
    )
    refreshed = browser.find_element(By.ID, "discovered-elsewhere-fold")
    assert browser.execute_script("return arguments[0].open;", refreshed) is False
    shoot(browser, "10-site-elsewhere-folded", tmp_path)


def test_a_typed_mac_that_booted_brings_the_model_its_phone_announced(
    server: tuple[str, Flask], browser: WebDriver, tmp_path: Path
) -> None:
    url, app = server
    booted, never = "805ec0bb0101", "805ec0bb0102"
    sign_in_once(browser, url, app)
    browser.get(url + "/t/site/demo/Kantoor%20Amsterdam/pair")
    field, model = wait_for(browser, "#mac"), browser.find_element(By.ID, "model")
    said = browser.find_element(By.ID, "model-source")
    # It boots after the form was loaded: what it announced is asked for as the MAC is typed.
    agent = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:bb:01:01"
    assert fetch(url, f"/p/{booted}.cfg", agent, headers=PHONE_LAN)[0] == 200
    field.send_keys("80:5E:C0:BB:01:01")
    chosen = lambda d: model.get_attribute("value") == "yealink:T54W"  # noqa: E731
    WebDriverWait(browser, 5, poll_frequency=0.1).until(chosen)
    assert (
        said.text
        == "Gekozen uit het eigen verzoek van de telefoon: hij meldde zich als Yealink T54W."
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", model)
    shoot(browser, "11-pair-model-announced", tmp_path)
    # A MAC that never asked undoes the automatic choice; a choice by hand stays.
    field.clear()
    field.send_keys(never)
    WebDriverWait(browser, 5, poll_frequency=0.1).until(lambda d: said.text == "")
    assert model.get_attribute("value") == ""
    Select(model).select_by_value("yealink:T46U")
    field.clear()
    field.send_keys(booted)  # a choice by hand is not even asked about
    asked = "return performance.getEntriesByType('resource').filter(function (entry) {"
    asked += " return entry.name.indexOf('announced?mac=') >= 0; }).length;"
    assert browser.execute_script(asked) == 2  # for the two MACs typed before
    assert model.get_attribute("value") == "yealink:T46U" and said.text == ""


def test_an_extension_search_without_a_hit_says_so(
    server: tuple[str, Flask], browser: WebDriver
) -> None:
    url, app = server
    sign_in_once(browser, url, app)
    browser.get(url + "/t/site/demo/Kantoor%20Amsterdam/pair")
    search = wait_for(browser, "#extension-search")
    none = browser.find_element(By.ID, "extension-none")
    assert not none.is_displayed()
    search.send_keys("Xander $&")
    assert none.text == "Geen toestel gevonden voor ‘Xander $&’. Zoek op naam of nummer."
    assert not browser.find_elements(By.CSS_SELECTOR, "#extension-list li:not([hidden])")
    search.clear()
    search.send_keys("fati")
    assert not none.is_displayed()
    shown = browser.find_elements(By.CSS_SELECTOR, "#extension-list li:not([hidden])")
    assert [item.text.split()[:2] for item in shown] == [["243", "Fatima"]]


# Every tap target on the page narrower or lower than 44 px (a checkbox's target is its label;
# a label without a control in it is a caption), as "<element...> WIDTHxHEIGHT".
SMALL_TARGETS = """
var small = [];
var targets = "a[href], button, summary, select, input, label";
document.querySelectorAll(targets).forEach(function (element) {
  if (element.matches("input[type=hidden], .hidden-label")) return;
  if (element.matches("label") && !element.querySelector("input")) return;
  if (element.matches("input[type=checkbox]") && element.closest("label")) return;
  var box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) return;  // not shown
  if (box.width < 44 || box.height < 44) {
    var size = Math.round(box.width) + "x" + Math.round(box.height);
    small.push(element.outerHTML.slice(0, 70) + " " + size);
  }
});
return small;
"""


def test_every_tap_target_is_at_least_44_px_square(
    server: tuple[str, Flask], browser: WebDriver
) -> None:
    url, app = server
    mac = "805ec0bb0201"
    pair(app, mac, "yealink", "T46U", "243")
    sign_in_once(browser, url, app)
    site = url + "/t/site/demo/Kantoor%20Amsterdam"
    pages = {
        "sites": (url + "/t/", "#site-search"),
        "site": (site + "/", "#pair-other"),
        "pair": (site + "/pair", "#pair-submit"),
        "phone": (f"{site}/phones/{mac}", "#swap"),
        "swap": (f"{site}/phones/{mac}/swap", "#swap-submit"),
        "unpair": (f"{site}/phones/{mac}/unpair", "#confirm"),
        "not found": (url + "/t/site/demo/Nergens/", ".problem"),
    }
    small = {}
    for name, (address, ready) in pages.items():
        browser.get(address)
        wait_for(browser, ready)
        small[name] = browser.execute_script(SMALL_TARGETS)
    browser.get(f"{site}/phones/{mac}/swap")
    wait_for(browser, "#new_mac").send_keys("80:5E:C0:BB:02:02")
    browser.find_element(By.ID, "swap-submit").click()
    wait_for(browser, "#confirm")
    small["swap confirmation"] = browser.execute_script(SMALL_TARGETS)
    assert small == dict.fromkeys(small, [])


def test_live_updates_back_off_while_offline_and_resume(
    server: tuple[str, Flask], browser: WebDriver, tmp_path: Path
) -> None:
    url, app = server
    mac = "805ec0bb0301"
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:bb:03:01"
    pair(app, mac, "yealink", "T46U", "242")
    sign_in_once(browser, url, app)
    browser.get(f"{url}/t/site/demo/Kantoor%20Amsterdam/phones/{mac}")
    wait_for(browser, '#state[data-stage="waiting"]')
    # Twice as long after each failure, up to at most, and never giving up.
    delays = browser.execute_script(
        "return [1, 2, 5, 6, 50, 5000].map(function (n) { return retryDelay(1000, n, 30000); });"
    )
    assert delays == [2000, 4000, 30000, 30000, 30000, 30000]
    # The same, faster: a 100 ms interval backing off to at most 400 ms.
    browser.execute_script(
        "var part = document.getElementById('live');"
        "part.dataset.every = '100'; part.dataset.most = '400'; window.notReloaded = true;"
    )
    live = browser.find_element(By.ID, "live")
    browser.execute_cdp_cmd("Network.enable", {})
    offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    try:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": True})
        note = wait_for(browser, "p.offline")
        WebDriverWait(browser, 10, poll_frequency=0.1).until(  # past the old five and stop
            lambda d: int(live.get_attribute("data-failures") or 0) >= 8 and note.is_displayed()
        )
        assert note.text == "Geen verbinding met de server. Probeert het vanzelf opnieuw…"
        shoot(browser, "12-live-offline", tmp_path)
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    assert fetch(url, f"/p/{mac}.cfg", agent, headers=PHONE_LAN)[0] == 200
    wait_for(browser, "#provisioned", seconds=5)
    WebDriverWait(browser, 5, poll_frequency=0.1).until(lambda d: not note.is_displayed())
    assert live.get_attribute("data-failures") == "0"
    assert browser.execute_script("return window.notReloaded === true;")


def test_sign_out_says_so(server: tuple[str, Flask], browser: WebDriver, tmp_path: Path) -> None:
    url, app = server
    sign_in_once(browser, url, app)
    wait_for(browser, "form.inline button").click()
    notice = wait_for(browser, ".notice[role=status]")
    assert notice.text == "Je bent afgemeld."
    assert browser.find_elements(By.ID, "token")
    assert browser.execute_script(SMALL_TARGETS) == []
    shoot(browser, "13-signed-out", tmp_path)
    browser.refresh()
    wait_for(browser, "#token")
    assert not browser.find_elements(By.CSS_SELECTOR, ".notice")  # said once
