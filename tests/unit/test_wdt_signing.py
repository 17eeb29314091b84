"""The worked vectors of docs/wdt-protocol.md#signing-vectors, reproduced exactly."""

from __future__ import annotations

import hashlib

from wdtpanel.wdt.payloads import compact_json
from wdtpanel.wdt.signing import enterprise_sign, split_ultimate_secret, ultimate_sign, ultimate_timestamp

BASE = {"sid": "test2", "appkey": "test2-xx", "timestamp": "1700000000"}


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def test_e1_official_doc_example():
    params = {
        "appkey": "test2-xx",
        "end_time": "2016-08-01 13:00:00",
        "page_no": "0",
        "page_size": "40",
        "sid": "test2",
        "start_time": "2016-08-01 12:00:00",
        "timestamp": "1470042310",
    }
    assert enterprise_sign(params, "12345") == "ad4e6fe037ea6e3ba4768317be9d1309"


def test_e1_sign_itself_is_not_signed():
    params = {"sid": "test2", "appkey": "test2-xx", "timestamp": "1470042310"}
    assert enterprise_sign({**params, "sign": "whatever"}, "12345") == enterprise_sign(params, "12345")


def test_e2_chinese_value_counts_characters_not_bytes():
    params = {**BASE, "shop_no": "自营商城01", "limit": "100"}
    assert enterprise_sign(params, "12345") == "4dbcbe06cfc46a55238813530fb9b05f"
    counted_in_bytes = (
        "06-appkey:0008-test2-xx;05-limit:0003-100;07-shop_no:0014-自营商城01;03-sid:0005-test2;"
        "09-timestamp:0010-1700000000"
    )
    assert md5(counted_in_bytes + "12345") == "0bee48c1323a173efec4a34d027c897b"  # what byte-counting SDKs send


def test_e3_json_param_is_sent_escaped_so_characters_equal_bytes():
    logistics_list = compact_json([{"rec_id": 3296, "status": 0, "message": "同步成功"}])
    assert logistics_list == '[{"rec_id":3296,"status":0,"message":"\\u540c\\u6b65\\u6210\\u529f"}]'
    assert len(logistics_list) == len(logistics_list.encode()) == 65
    assert enterprise_sign({**BASE, "logistics_list": logistics_list}, "12345") == "54680868da9edb39c123edf3aad8518c"


def test_e3_raw_unicode_json_would_sign_differently():
    raw = '[{"rec_id":3296,"status":0,"message":"同步成功"}]'
    assert enterprise_sign({**BASE, "logistics_list": raw}, "12345") == "8820a12c788d978fddf004e5c55cda1d"


def ultimate_params(method: str, body: str, **extra: str) -> dict:
    secret, salt = split_ultimate_secret("testsecret:testsalt")
    assert (secret, salt) == ("testsecret", "testsalt")
    return {
        "sid": "wdtapi3",
        "key": "wdt_test",
        "salt": salt,
        "method": method,
        "v": "1.0",
        "timestamp": str(ultimate_timestamp(1700000000)),
        "body": body,
        **extra,
    }


def test_u1_push_self2():
    params = ultimate_params("sales.RawTrade.pushSelf2", '["shop01",[{"tid":"T1001","receiver_name":"张三"}],[]]')
    assert params["timestamp"] == "374652800"
    assert ultimate_sign(params, "testsecret") == "8b2fa4c49a2b760235263cf3bf98da52"


def test_u2_paged_query():
    params = ultimate_params(
        "sales.LogisticsSync.getSyncListExt",
        '[{"shop_no":"shop01","is_own_platform":true}]',
        page_size="100",
        page_no="0",
        calc_total="1",
    )
    assert ultimate_sign(params, "testsecret") == "b541c949ff30861eb1346ed03949ae24"


def test_ultimate_secret_splits_at_the_first_colon_only():
    assert split_ultimate_secret("a:b:c") == ("a", "b:c")


def test_form_body_is_what_urlencode_writes():
    import random
    from urllib.parse import urlencode

    from wdtpanel.wdt.wire import form_body

    rng = random.Random(5)
    forms = [
        {"shop_no": "自营商城01", "trade_list": compact_json([{"name": "中文 ~_.-+&=%"}]), "empty": ""},
        {"noise": "".join(chr(rng.randrange(0, 128)) for _ in range(3000))},
    ]
    for form in forms:
        assert form_body(form) == urlencode(form)
