"""/docs in a real browser: Swagger UI (served by the service, no other host) renders and
lists every operation of /openapi.json."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.databases import sqlite_url
from tests.support.server import running_server


def test_the_docs_page_lists_every_operation(tmp_path: Path, browser: webdriver.Chrome) -> None:
    with sqlite_url(tmp_path) as url, running_server(url) as base_url:
        document = httpx.get(f"{base_url}/openapi.json", trust_env=False).json()
        expected = {
            (method.upper(), path) for path, item in document["paths"].items() for method in item
        }
        browser.get(f"{base_url}/docs")

        def listed(driver: webdriver.Chrome) -> set[tuple[str, str]]:
            found = set()
            for block in driver.find_elements(By.CSS_SELECTOR, ".opblock"):
                method = block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text
                path = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path")
                found.add((method.strip(), (path.get_attribute("data-path") or "").strip()))
            return found if expected <= found else set()

        shown = WebDriverWait(browser, 30).until(listed)
        assert expected <= shown
        assert "Tuco Lines" in browser.title or "Tuco" in browser.page_source
        assert len(expected) >= 15
        assert ("GET", "/readyz") in shown and ("POST", "/api/line-requests") in shown
