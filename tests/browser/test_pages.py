"""The sandbox hosted invoice page in a real browser: open an add-on's paymentUrl, click
"Pay now", and the request is paid and provisioning."""

from __future__ import annotations

import time
from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Plan
from tests.support.server import running_server


def email(name: str) -> dict[str, str]:
    return {"requestedChannelType": "email", "firstName": name, "lastName": "Hopper",
            "email": f"{name.lower()}@example.com"}  # fmt: skip


def test_paying_on_the_hosted_invoice_page_moves_the_add_on_to_provisioning(
    database_url: str, browser: webdriver.Chrome
) -> None:
    env = {"TUCO_SANDBOX_PROVISION_SECONDS": "3600"}  # stays provisioning while we look
    with running_server(database_url, env=env) as base_url:
        services = build(Settings(database_url=database_url, create_tables=False))
        try:
            services.workspaces.create("acme", Plan.MINI, "Acme", True)
            key = services.keys.create("acme")
        finally:
            services.close()
        with httpx.Client(base_url=base_url, trust_env=False, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as api:  # fmt: skip
            assert api.post("/api/line-requests", json=email("Included")).status_code == 201
            added = api.post("/api/line-requests", json=email("Addon"))
            assert added.status_code == 201, added.text
            answer: dict[str, Any] = added.json()
            assert answer["status"] == "awaiting_payment"
            request_id, url = answer["line"]["_id"], answer["paymentUrl"]
            assert url.startswith(base_url)

            browser.get(url)
            assert "Status: open" in browser.find_element(By.TAG_NAME, "body").text
            button = browser.find_element(By.XPATH, "//button[normalize-space()='Pay now']")
            button.click()
            WebDriverWait(browser, 20).until(
                ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Status: paid")
            )
            assert not browser.find_elements(By.TAG_NAME, "button")  # nothing left to pay

            deadline = time.monotonic() + 20
            while True:
                line = api.get(f"/api/line-requests/{request_id}").json()
                if line["status"] == "provisioning" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)  # polling a condition with a deadline
            assert line["status"] == "provisioning", line
            assert line["line"]["paymentStatus"] == "paid"
