"""flask commands: create-merchant, create-user, demo, embed-link."""
from __future__ import annotations

import secrets

import click
from flask import Flask, current_app

from .extensions import db
from .models import Merchant
from .security import encrypt_secret, make_embed_token
from .accounts import create_user, find_merchant
from .merchant_config import ConfigInput, load_config, save_config

DEMO_MERCHANT = "demo"
DEMO_USER, DEMO_PASSWORD = "admin", "demo1234"
# The simulator's demo account (README); the simulator accepts exactly these.
DEMO_WDT = {"sid": "wdtdemo", "appkey": "demo_app", "appsecret": "demosecret:demosalt",
            "shop_no": "mall01", "warehouse_no": "wh01"}


def ensure_merchant(code: str, name: str) -> tuple[Merchant, str | None]:
    """Create the merchant with fresh API credentials; the API secret is returned only when new."""
    merchant = find_merchant(code)
    if merchant is not None:
        return merchant, None
    api_secret = secrets.token_hex(24)
    merchant = Merchant(code=code, name=name, api_key=f"{code}-{secrets.token_hex(8)}",
                        api_secret_encrypted=encrypt_secret(api_secret))
    db.session.add(merchant)
    db.session.commit()
    return merchant, api_secret


def register_cli(app: Flask) -> None:
    @app.cli.command("create-merchant")
    @click.argument("code")
    @click.argument("name")
    def create_merchant_command(code: str, name: str) -> None:
        """Create a merchant and print its ingest API key and secret (shown once)."""
        merchant, api_secret = ensure_merchant(code, name)
        click.echo(f"merchant {merchant.code} api_key={merchant.api_key}")
        if api_secret:
            click.echo(f"api_secret={api_secret}  (shown once; store it in the mall)")

    @app.cli.command("create-user")
    @click.argument("merchant_code")
    @click.argument("username")
    @click.option("--role", default="admin", type=click.Choice(["admin", "staff"]))
    @click.password_option()
    def create_user_command(merchant_code: str, username: str, role: str, password: str) -> None:
        """Create (or reset) a development login for a merchant."""
        merchant = find_merchant(merchant_code)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_code!r}; run flask create-merchant first")
        create_user(merchant, username, password, role)
        click.echo(f"user {username} ({role}) of {merchant_code} ready")

    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo merchant, its admin login and a config pointing at the local WDT simulator."""
        merchant, api_secret = ensure_merchant(DEMO_MERCHANT, "演示商城")
        create_user(merchant, DEMO_USER, DEMO_PASSWORD, "admin")
        if load_config(merchant.id) is None:
            save_config(merchant.id, None, ConfigInput(
                edition="enterprise", environment="custom", custom_base_url=current_app.config["WDT_SIMULATOR_URL"],
                enabled=False, **DEMO_WDT))
        click.echo(f"demo merchant '{DEMO_MERCHANT}': login {DEMO_USER} / {DEMO_PASSWORD}; api_key={merchant.api_key}")
        if api_secret:
            click.echo(f"demo api_secret={api_secret}")

    @app.cli.command("pull-now")
    @click.argument("merchant_code")
    def pull_now_command(merchant_code: str) -> None:
        """Pull from WDT for a merchant now, every kind, in this process (as 立即同步 does in a worker)."""
        from .jobs import PULL_SOURCES, pull

        merchant = find_merchant(merchant_code)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_code!r}")
        for kind in PULL_SOURCES:
            click.echo(f"{kind}: {pull(str(kind), merchant.id)}")

    @app.cli.command("embed-link")
    @click.argument("merchant_code")
    @click.argument("username")
    @click.option("--role", default="admin", type=click.Choice(["admin", "staff"]))
    @click.option("--base-url", default="http://127.0.0.1:5000")
    def embed_link_command(merchant_code: str, username: str, role: str, base_url: str) -> None:
        """Print a one-time embed link, as the mall's backend would make it."""
        click.echo(f"{base_url}/embed?token={make_embed_token(merchant_code, username, role)}")
