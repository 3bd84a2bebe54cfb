"""The web board in a real headless browser, on real parts: the spec scenario goes through the
Kafka broker into `leakwatch worker`; `leakwatch sink` stores `refusals.classified` and
serves the page from the same process; a QA lead's correction in the page goes to
`refusals.reviewed`, the worker folds it, and the card changes. What a person reads is
asserted as text."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.simulator import spec_scenario as spec
from tests.e2e.spec_numbers import EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK
from tests.support.browser import require_browser, start_browser, stop_browser
from tests.support.kafka_io import produce_scenario
from tests.support.servers import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.browser]

TOKEN = "board-test-token"
HELD_BACK = "A-005"  # its QA review is left to the person in the browser


def rub(value: int) -> str:
    """How a person reads roubles on the board, written out here, not taken from the code."""
    return "₽" + f"{value:,}".replace(",", " ")


@pytest.fixture
def stack(kafka, tmp_path):
    require_browser()
    # A fresh broker answers NOT_COORDINATOR for a while: the worker's start retries it
    # (pin_start_offsets, LEAKWATCH_STARTUP_DEADLINE_S), so the test does not wait for it.
    # A generous classifier deadline: on a loaded machine the embedded engine can take long.
    # The board is the sink's: the process that owns ClickHouse serves the page.
    worker = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000",
                                     classifier_batch_deadline_s="600", web_token=TOKEN, web_refresh_s="1")
    try:
        worker.start(timeout_s=400)  # the classifier loads its model first; this machine is shared
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def browser():
    driver = start_browser()
    yield driver
    stop_browser(driver)


def wait_until(check, timeout_s: float = 180.0, every_s: float = 1.0, what: str = ""):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # the element is being swapped by htmx, the API not up yet
            last = exc
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}: last {last!r}")


def _fresh(driver, css: str, act):
    """`act(element)`, again when htmx swapped the element in between (live refresh)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for attempt in range(10):
        try:
            return act(driver.find_element(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            if attempt == 9:
                raise
            time.sleep(0.2)


def text(driver, css: str) -> str:
    return _fresh(driver, css, lambda e: e.text.strip())


def click(driver, css: str) -> None:
    _fresh(driver, css, lambda e: e.click())


def screenshots_dir(tmp_path: Path) -> Path:
    where = Path(os.environ.get("LEAKWATCH_SCREENSHOT_DIR") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_board_shows_the_spec_numbers_and_a_review_changes_the_card(stack, browser, kafka, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    worker = board = stack  # `board.url` is the sink's address
    sc = spec.build()
    sc.reviews = [r for r in sc.reviews if r.deal_id != HELD_BACK]
    produce_scenario(kafka.bootstrap, worker.topic_prefix, sc)
    day1, day2 = spec.DAY1.isoformat(), spec.DAY2.isoformat()

    # The pipeline is through when day 2 has its numbers and the held-back deal waits for review.
    wait_until(lambda: {k: board.get("/api/cards", **{"from": day2})["card2"][k] for k in EXPECTED_DAY2}
               == EXPECTED_DAY2, 900, 2, what="day 2 on the board")
    wait_until(lambda: [r["deal_id"] for r in board.get("/api/review-queue", **{"from": day1})] == [HELD_BACK],
               timeout_s=300, what="the held-back deal in the queue")
    shots = screenshots_dir(tmp_path)

    # Read-only views are open on loopback; reviews need the token: log in as a QA lead.
    browser.get(f"{board.url}/login")
    browser.find_element(By.ID, "login-reviewer").send_keys("Мария (ОКК)")
    browser.find_element(By.ID, "login-token").send_keys(TOKEN)
    browser.find_element(By.ID, "login-submit").click()
    wait_until(lambda: text(browser, "#reviewer") == "Мария (ОКК)", 20, 0.3, "logged in")

    # Card 2 on day 2: «Утечка дня» ₽1 248 700 on 47 cases; «Не дожали…» ₽612 000, 49%, 18; 30 of 47 hot.
    browser.get(f"{board.url}/?from={day2}&to={day2}")
    assert text(browser, "#leak-rub") == rub(EXPECTED_DAY2["leak_rub"])
    assert text(browser, "#leak-cases") == str(EXPECTED_DAY2["cases"])
    assert text(browser, "#main-leak") == MAIN_LEAK["leak"]
    assert text(browser, "#main-leak-numbers") == (
        f"{rub(MAIN_LEAK['leak_rub'])} · {MAIN_LEAK['leak_pct']}% · {MAIN_LEAK['cases']} случаев")
    assert text(browser, "#hot") == f"{EXPECTED_DAY2['hot_cases']} из {EXPECTED_DAY2['cases']}"
    assert text(browser, "#main-stage") == "Выставлен счёт"
    leak_row = f'#by-leak tr[data-leak="{MAIN_LEAK["leak"]}"] td.value'
    assert text(browser, leak_row) == rub(MAIN_LEAK["leak_rub"])
    assert text(browser, "#cases-count") == str(EXPECTED_DAY2["cases"])
    browser.save_screenshot(str(shots / "board-day2-sum.png"))

    # The Сумма / Количество switch redraws the leak bars by count.
    click(browser, '#metric input[value="count"]')
    wait_until(lambda: text(browser, leak_row) == str(MAIN_LEAK["cases"]), 20, 0.3, "bars by count")
    # Drill-down: one leak's cases.
    click(browser, f'#by-leak tr[data-leak="{MAIN_LEAK["leak"]}"] a')
    wait_until(lambda: text(browser, "#cases-count") == str(MAIN_LEAK["cases"]), 20, 0.3, "drill-down")
    browser.save_screenshot(str(shots / "board-day2-count-drilldown.png"))

    # Day 1 with one refusal still «Условный отказ»: the AI's verdict waits in the queue.
    browser.get(f"{board.url}/?from={day1}&to={day1}")
    row = f"#review-{HELD_BACK}"
    assert text(browser, "#queue-count") == "1"
    assert text(browser, f"{row} .deal") == HELD_BACK
    before_confirmed = text(browser, "#confirmed")
    assert before_confirmed.startswith("Проверено ОКК: 43 из ")
    browser.save_screenshot(str(shots / "board-day1-before-review.png"))

    # The QA lead corrects the verdict to the true labels.
    truth = sc.refusals[HELD_BACK]
    browser.find_element(By.CSS_SELECTOR, f"{row} details summary").click()
    target = browser.find_element(By.CSS_SELECTOR, f'{row} input[name="target"]')
    if not target.is_selected():
        target.click()
    Select(browser.find_element(By.CSS_SELECTOR, f'{row} select[name="reason"]')).select_by_value(truth.reason.value)
    Select(browser.find_element(By.CSS_SELECTOR, f'{row} select[name="kind"]')).select_by_value(truth.kind.value)
    Select(browser.find_element(By.CSS_SELECTOR, f'{row} select[name="leak"]')).select_by_value(truth.leak.value)
    hot = browser.find_element(By.CSS_SELECTOR, f'{row} input[name="hot"]')
    if hot.is_selected() != truth.hot:
        hot.click()
    browser.find_element(By.CSS_SELECTOR, f'{row} input[name="comment"]').send_keys("Клиент ждал счёт")
    browser.find_element(By.CSS_SELECTOR, f"{row} button.correct").click()
    wait_until(lambda: "Отправлено" in text(browser, row), 20, 0.3, "the review sent")

    # Through the broker and the worker, the card changes: card 1 shows the design's numbers.
    wait_until(lambda: text(browser, "#confirmed") == "Проверено ОКК: 44 из 44", 300, 0.5, "the card to change")
    assert text(browser, "#total-refusals") == str(EXPECTED_DAY1["total"])
    assert text(browser, "#salvageable") == str(EXPECTED_DAY1["salvageable"])
    assert text(browser, "#salvageable-pct") == f"{EXPECTED_DAY1['salvageable_pct']}%"
    assert text(browser, "#potential-lost") == rub(EXPECTED_DAY1["potential_lost_rub"])
    browser.save_screenshot(str(shots / "board-day1-after-review.png"))
    click(browser, "#queue .refresh")
    wait_until(lambda: text(browser, "#queue-count") == "0", 20, 0.3, "the queue to empty")

    # The stored verdict is the QA lead's.
    queue = board.get("/api/review-queue", **{"from": day1})
    assert queue == []
    cases = {c["deal_id"]: c for c in board.get("/api/cases", **{"from": day1})}
    assert cases[HELD_BACK]["status"] == "confirmed" and cases[HELD_BACK]["leak"] == truth.leak.value
