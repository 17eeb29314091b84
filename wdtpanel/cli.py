"""flask commands: create-merchant, create-user, api-credentials, demo, pull-now, embed-link."""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from .accounts import create_user, find_merchant
from .columns import utcnow
from .extensions import db
from .ingest import goods as goods_ingest
from .merchant_config import ConfigInput, LogisticsChoice, load_config, save_config
from .models import Goods, Merchant
from .security import decrypt_secret, encrypt_secret, make_embed_token

DEMO_MERCHANT = "demo"
DEMO_USER, DEMO_PASSWORD = "admin", "demo1234"
# The simulator's demo account (README); the simulator accepts exactly these.
DEMO_WDT = {
    "sid": "wdtdemo",
    "appkey": "demo_app",
    "appsecret": "demosecret:demosalt",
    "shop_no": "mall01",
    "warehouse_no": "wh01",
}
# Carriers the demo ships with: WDT's code (the simulator knows it), its name, the mall's carrier code.
DEMO_CARRIERS = [("ZTO", "中通快递", "zhongtong"), ("SF", "顺丰速运", "shunfeng")]
# The demo's goods: the simulator knows DEMO-0001 … DEMO-0200. One spec lacks its code, one code is unknown to WDT
# and two goods share a code, so the goods page and 异常订单 have something to show.
DEMO_GOODS: list[dict[str, Any]] = [
    {
        "goods_id": "G1",
        "name": "保温杯",
        "specs": [
            {"spec_id": "S1", "name": "红色", "merchant_code": "DEMO-0001", "price": "66.60"},
            {"spec_id": "S2", "name": "蓝色", "merchant_code": "DEMO-0002", "price": "66.60"},
        ],
    },
    {"goods_id": "G2", "name": "龙井茶叶", "merchant_code": "DEMO-0003", "price": "128.00"},
    {
        "goods_id": "G3",
        "name": "帆布袋",
        "specs": [
            {"spec_id": "S31", "name": "大号", "merchant_code": "DEMO-0004", "price": "39.00"},
            {"spec_id": "S32", "name": "小号", "price": "29.00"},
        ],
    },
    {"goods_id": "G4", "name": "新品试用装", "merchant_code": "NEW-0001", "price": "9.90"},
    {"goods_id": "G5", "name": "保温杯礼盒", "merchant_code": "DEMO-0001", "price": "99.00"},  # G1's red cup's code
]


def ensure_merchant(code: str, name: str) -> tuple[Merchant, str | None]:
    """Create the merchant with fresh API credentials; the API secret is returned only when new."""
    merchant = find_merchant(code)
    if merchant is not None:
        return merchant, None
    api_secret = secrets.token_hex(24)
    merchant = Merchant(
        code=code, name=name, api_key=f"{code}-{secrets.token_hex(8)}", api_secret_encrypted=encrypt_secret(api_secret)
    )
    db.session.add(merchant)
    db.session.commit()
    return merchant, api_secret


def credentials_lines(merchant: Merchant) -> str:
    """The merchant's ingest API key and secret as shell assignments (`eval "$(…)"` sets them)."""
    if merchant.api_key is None or merchant.api_secret_encrypted is None:
        raise click.ClickException(f"merchant {merchant.code!r} has no ingest API credentials")
    secret = decrypt_secret(merchant.api_secret_encrypted)
    return f"export API_KEY={shlex.quote(merchant.api_key)}\nexport API_SECRET={shlex.quote(secret)}"


def simulator_config(carriers: Sequence[tuple[str, str, str]] = ()) -> ConfigInput:
    """The WDT simulator's demo account, switched on, shipping with `carriers` (as DEMO_CARRIERS)."""
    return ConfigInput(
        edition="enterprise",
        environment="custom",
        custom_base_url=current_app.config["WDT_SIMULATOR_URL"],
        enabled=True,
        logistics=[LogisticsChoice(code, name, mall_code) for code, name, mall_code in carriers],
        known_logistics=[{"code": code, "name": name} for code, name, _ in carriers] or None,  # None: keep the saved
        **DEMO_WDT,
    )


def load_demo() -> Merchant:
    """The demo merchant, its admin, a config pointing at the WDT simulator switched on (since yesterday, so any
    order made now is pushed), and goods. Safe to run again: what exists is kept."""
    merchant, _ = ensure_merchant(DEMO_MERCHANT, "演示商城")
    create_user(merchant, DEMO_USER, DEMO_PASSWORD, "admin")
    config = load_config(merchant.id)
    if config is None or not config.enabled:
        config = save_config(merchant.id, None, simulator_config(DEMO_CARRIERS))
        config.enabled_at = utcnow() - timedelta(days=1)
    if db.session.scalar(select(Goods.id).where(Goods.merchant_id == merchant.id).limit(1)) is None:
        now = utcnow().isoformat()
        snapshots = goods_ingest.read_goods({"goods": [{**item, "updated_at": now} for item in DEMO_GOODS]})
        goods_ingest.upsert_goods(merchant.id, snapshots)
    db.session.commit()
    return merchant


def merchant_named(code: str) -> Merchant:
    merchant = find_merchant(code)
    if merchant is None:
        raise click.ClickException(f"no merchant {code!r}; run flask create-merchant first")
    return merchant


def register_cli(app: Flask) -> None:
    @app.cli.command("create-merchant")
    @click.argument("code")
    @click.argument("name")
    def create_merchant_command(code: str, name: str) -> None:
        """Create a merchant and print its ingest API key and secret."""
        merchant, _ = ensure_merchant(code, name)
        click.echo(credentials_lines(merchant))

    @app.cli.command("create-user")
    @click.argument("merchant_code")
    @click.argument("username")
    @click.option("--role", default="admin", type=click.Choice(["admin", "staff"]))
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="the user's password (asked for when not given)",
    )
    def create_user_command(merchant_code: str, username: str, role: str, password: str) -> None:
        """Create (or reset) a password login for a merchant."""
        create_user(merchant_named(merchant_code), username, password, role)
        db.session.commit()
        click.echo(f"user {username} ({role}) of {merchant_code} ready")

    @app.cli.command("api-credentials")
    @click.argument("merchant_code")
    def api_credentials_command(merchant_code: str) -> None:
        """Print a merchant's ingest API key and secret as shell assignments: eval "$(flask … api-credentials X)"."""
        click.echo(credentials_lines(merchant_named(merchant_code)))

    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo merchant (switched on, with goods), its admin login, and its API credentials; its goods
        are pushed to the WDT simulator by the worker."""
        from .jobs import leave_to_sweeper_if_down, request_goods_push

        merchant = load_demo()
        leave_to_sweeper_if_down(lambda: request_goods_push(merchant.id), "the demo's goods push")
        click.echo(f"demo merchant '{DEMO_MERCHANT}': login {DEMO_USER} / {DEMO_PASSWORD}")
        click.echo(credentials_lines(merchant))

    @app.cli.command("pull-now")
    @click.argument("merchant_code")
    def pull_now_command(merchant_code: str) -> None:
        """Pull from WDT for a merchant now, every kind, in this process (as 立即同步 does in a worker)."""
        from .jobs import PULL_SOURCES, pull

        merchant = merchant_named(merchant_code)
        try:
            for kind in PULL_SOURCES:
                click.echo(f"{kind}: {pull(str(kind), merchant.id)}")
        except RedisError as exc:
            raise click.ClickException(
                f"cannot reach Redis at {current_app.config['REDIS_URL']} ({exc}); "
                "start `make run` first, or set REDIS_URL"
            ) from exc

    @app.cli.command("embed-link")
    @click.argument("merchant_code")
    @click.argument("username")
    @click.option("--role", default="admin", type=click.Choice(["admin", "staff"]))
    @click.option("--base-url", default="http://127.0.0.1:5000")
    def embed_link_command(merchant_code: str, username: str, role: str, base_url: str) -> None:
        """Print a one-time embed link, as the mall's backend would make it."""
        click.echo(f"{base_url}/embed?token={make_embed_token(merchant_code, username, role)}")
