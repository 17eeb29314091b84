"""测试连接 on the config page, against the simulator over real HTTP."""

from __future__ import annotations

import re

import pytest

from wdtpanel.devserver import free_port


def form_values(simulator, edition="enterprise", **overrides):
    account = simulator.account
    values = {
        "edition": edition,
        "environment": "custom",
        "custom_base_url": simulator.root_url,
        "sid": account.sid,
        "appkey": account.appkey,
        "appsecret": account.appsecret,
        "shop_no": account.shop_no,
        "warehouse_no": account.warehouse_no,
    }
    values.update(overrides)
    return values


def press_test(client, values, status: int = 200) -> str:
    response = client.post(
        "/settings/wdt/test", data=values, headers={"X-CSRFToken": client.csrf, "HX-Request": "true"}
    )
    assert response.status_code == status
    return response.get_data(as_text=True)


def check_line(html: str, index: int) -> str:
    """One line of the result (credentials 1, shop 2, warehouse 3), with its class attribute."""
    return re.search(rf'<li (class="\w+") data-check="{index}">(.*?)</li>', html, re.S).group(0)


@pytest.mark.parametrize("edition", ["enterprise", "ultimate"])
def test_demo_credentials_are_green_and_list_logistics(client_a, wdt_simulator, edition):
    html = press_test(client_a, form_values(wdt_simulator, edition))
    assert "测试连接：成功" in html
    assert all('class="ok"' in check_line(html, i) for i in (1, 2, 3))
    assert 'name="logistics-0-wdt_code"' in html and "ZTO" in html


@pytest.mark.parametrize("edition", ["enterprise", "ultimate"])
def test_wrong_secret_is_red_on_the_credentials(client_a, wdt_simulator, edition):
    html = press_test(client_a, form_values(wdt_simulator, edition, appsecret="wrongsecret:demosalt"))
    assert "测试连接：未通过" in html
    assert 'class="bad"' in check_line(html, 1) and "appsecret" in check_line(html, 1)


@pytest.mark.parametrize("edition", ["enterprise", "ultimate"])
def test_unknown_shop_and_warehouse_are_named(client_a, wdt_simulator, edition):
    html = press_test(client_a, form_values(wdt_simulator, edition, shop_no="mall99", warehouse_no="wh99"))
    assert 'class="ok"' in check_line(html, 1)
    assert "mall99" in check_line(html, 2) and 'class="bad"' in check_line(html, 2)
    assert "wh99" in check_line(html, 3) and 'class="bad"' in check_line(html, 3)


def test_shop_on_another_platform_is_refused(client_a, wdt_simulator):
    html = press_test(client_a, form_values(wdt_simulator, shop_no="tmall01"))
    assert "自有平台" in check_line(html, 2) and 'class="bad"' in check_line(html, 2)


def test_simulator_down_says_wdt_is_unreachable(client_a, wdt_simulator):
    html = press_test(client_a, form_values(wdt_simulator, custom_base_url=f"http://127.0.0.1:{free_port()}"))
    assert "测试连接：未通过" in html
    assert "无法连接旺店通" in check_line(html, 1)


def test_saved_secret_is_used_when_the_field_is_left_empty(client_a, wdt_simulator):
    values = form_values(wdt_simulator)
    client_a.post("/settings/wdt", data=values, headers={"X-CSRFToken": client_a.csrf, "HX-Request": "true"})
    html = press_test(client_a, {**values, "appsecret": ""})
    assert "测试连接：成功" in html
    assert wdt_simulator.account.appsecret not in html


def test_invalid_fields_are_shown_before_any_call(client_a, wdt_simulator):
    html = press_test(client_a, form_values(wdt_simulator, sid=""), status=422)
    assert "请先改正标红的字段" in html and "测试连接：" not in html


def test_a_ticked_row_without_its_code_field_does_not_break_the_test(client_a, wdt_simulator):
    html = press_test(
        client_a, {**form_values(wdt_simulator), "logistics-0-wdt_code": "ZTO", "logistics-0-selected": "y"}
    )
    assert "测试连接：成功" in html
