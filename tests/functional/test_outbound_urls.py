"""Addresses a merchant enters are called by the server: only public hosts, unless development allows others."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests.helpers import offline_config, order_payload
from wdtpanel import outbound
from wdtpanel.extensions import db
from wdtpanel.merchant_config import ConfigError, check_connection, make_client, save_config
from wdtpanel.models import Merchant, WebhookDelivery
from wdtpanel.outbound import UnsafeUrl, check_public_url
from wdtpanel.wdt import WdtAccount
from wdtpanel.webhooks import WebhookFailed, deliver


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/",
        "http://localhost/",
        "http://10.0.0.5/openapi",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "ftp://example.com/",
        "http:///nohost",
        "http://example.com:99999/",
        "http://[::1/",
    ],
)
def test_private_and_odd_addresses_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_public_url(url, allow_private=False)


def test_public_address_passes_and_development_may_allow_private():
    check_public_url("http://8.8.8.8/openapi", allow_private=False)
    check_public_url("http://127.0.0.1:8765/", allow_private=True)


@pytest.fixture
def production_urls(app):
    app.config["ALLOW_PRIVATE_URLS"] = False
    from flask import current_app

    current_app.config["ALLOW_PRIVATE_URLS"] = False  # the test body's own app context


def test_saving_a_loopback_wdt_address_is_refused_on_its_field(mall_api, production_urls):
    with pytest.raises(ConfigError) as refused:
        save_config(mall_api.merchant.id, None, offline_config())
    assert refused.value.field_name == "custom_base_url" and refused.value.params == {"host": "127.0.0.1"}
    with pytest.raises(ConfigError) as refused:
        save_config(
            mall_api.merchant.id,
            None,
            offline_config(custom_base_url="https://8.8.8.8/", webhook_url="http://10.1.2.3/hook"),
        )
    assert refused.value.field_name == "webhook_url"


def test_test_connection_never_calls_a_private_address(mall_api, production_urls):
    report = check_connection(None, offline_config(custom_base_url="http://169.254.169.254/"))
    assert not report.ok and report.credentials.code == "url_not_public" and report.logistics == []


def test_a_webhook_to_a_private_address_is_not_sent(mall_api, production_urls):
    merchant = db.session.get(Merchant, mall_api.merchant.id)
    merchant.webhook_url = "http://127.0.0.1:1/hook"
    delivery = WebhookDelivery(merchant_id=merchant.id, event="order.abnormal", payload=order_payload())
    db.session.add(delivery)
    db.session.commit()
    assert deliver(delivery.id) is False  # not sent: it waits for a usable URL
    db.session.refresh(delivery)
    assert delivery.state == "pending" and delivery.last_error == "callback URL is not a public address"


def test_a_call_goes_to_the_address_that_was_checked_not_to_a_new_lookup(monkeypatch):
    monkeypatch.setattr(
        outbound.socket, "getaddrinfo", lambda host, port, **kw: [(socket.AF_INET, 1, 6, "", ("8.8.4.4", port))]
    )
    adapter = outbound.PinnedAdapter()
    request = requests.Request("POST", "https://mall.example:8443/hook").prepare()
    host_params, pool_kwargs = adapter.build_connection_pool_key_attributes(request, True)
    assert host_params == {"scheme": "https", "host": "8.8.4.4", "port": 8443}
    assert pool_kwargs["server_hostname"] == pool_kwargs["assert_hostname"] == "mall.example"


def test_a_webhook_to_a_name_that_now_answers_a_private_address_is_not_sent(
    mall_api, production_urls, mall_receiver, monkeypatch
):
    """The name passed the check when it was saved; at the call it resolves to the receiver's loopback address."""
    merchant = db.session.get(Merchant, mall_api.merchant.id)
    merchant.webhook_url = mall_receiver.url.replace("127.0.0.1", "localhost")
    delivery = WebhookDelivery(merchant_id=merchant.id, event="order.abnormal", payload=order_payload())
    db.session.add(delivery)
    db.session.commit()
    answers = iter([("8.8.4.4",)])  # the panel's lookup sees a public address...

    def rebinding(host, port, *args, **kw):
        literal = host.replace(".", "").isdigit()  # an address looks up as itself
        address = host if literal else next(answers, ("127.0.0.1",))[0]  # ...a second lookup finds the loopback one
        return [(socket.AF_INET, 1, 6, "", (address, port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    with pytest.raises(WebhookFailed):  # the call went to 8.8.4.4, which this sandbox cannot reach
        deliver(delivery.id)
    assert mall_receiver.received == []


def test_a_pinned_call_reaches_the_checked_address_with_the_name_as_host(mall_receiver, monkeypatch):
    monkeypatch.setattr(outbound, "public_addresses", lambda url: ["127.0.0.1"])  # as if loopback were public
    port = mall_receiver.server.server_port
    with outbound.pin_addresses(requests.Session(), allow_private=False) as http:
        answer = http.post(f"http://mall.invalid:{port}/hook", data=b"{}", timeout=5)  # a name no resolver knows
    assert answer.status_code == 200
    assert mall_receiver.received[0][0]["Host"] == f"mall.invalid:{port}"


def self_signed(directory, name: str) -> tuple[str, str]:
    """A certificate for `name` (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def test_a_pinned_https_call_checks_the_certificate_of_the_name(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path, "mall.invalid")
    server = make_server("127.0.0.1", 0, lambda environ, start: Response("ok")(environ, start), ssl_context=(cert, key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(outbound, "public_addresses", lambda url: ["127.0.0.1"])
    try:
        with outbound.pin_addresses(requests.Session(), allow_private=False) as http:
            assert http.get(f"https://mall.invalid:{server.server_port}/", verify=cert, timeout=5).text == "ok"
            with pytest.raises(requests.exceptions.SSLError):  # the certificate is not for this name
                http.get(f"https://other.invalid:{server.server_port}/", verify=cert, timeout=5)
    finally:
        server.shutdown()


def test_a_name_with_both_kinds_of_address_is_called_on_its_ipv4_one(monkeypatch):
    found = [
        (socket.AF_INET6, 1, 6, "", ("2001:4860:4860::8888", 443, 0, 0)),
        (socket.AF_INET, 1, 6, "", ("8.8.8.8", 443)),
    ]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda host, port, **kw: found)
    request = requests.Request("GET", "https://wdt.example/openapi").prepare()
    host_params, _ = outbound.PinnedAdapter().build_connection_pool_key_attributes(request, True)
    assert host_params["host"] == "8.8.8.8"


def test_only_a_merchants_own_address_is_pinned(app, production_urls):
    def adapter(base_url):
        account = WdtAccount(edition="enterprise", base_url=base_url, sid="s", appkey="k", appsecret="x")
        with make_client(account) as client:
            return type(client.session.get_adapter(base_url))

    assert adapter("https://api.wangdian.cn/openapi2/") is requests.adapters.HTTPAdapter  # WDT's own: as urllib3 does
    assert adapter("https://wdt.mall.example/openapi2/") is outbound.PinnedAdapter
