"""A headless Debian chromium driven by selenium (chromium-driver at /usr/bin/chromedriver,
installed by .ci/run when absent). Without it the browser tests skip, except under CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

DRIVER = Path("/usr/bin/chromedriver")
BROWSER = Path("/usr/bin/chromium")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not (DRIVER.exists() and BROWSER.exists()):
        if os.environ.get("CI"):
            pytest.fail(f"{DRIVER} or {BROWSER} is missing under CI (.ci/run installs them)")
        pytest.skip("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        profile,
    ]:
        options.add_argument(arg)  # fmt: skip
    # The driver named explicitly: selenium's manager never looks anything up online.
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
