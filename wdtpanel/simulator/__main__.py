"""python -m wdtpanel.simulator --port 8765 [--sid ... --appkey ... --appsecret ... --shop-no ... --warehouse-no ...
--calls-per-minute N]"""

from __future__ import annotations

import argparse

from .app import AccessLogHandler, create_simulator_app
from .state import SimulatorAccount


def main(argv: list[str] | None = None) -> None:
    demo = SimulatorAccount()
    parser = argparse.ArgumentParser(prog="python -m wdtpanel.simulator", description="A fake WDT (旺店通) server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sid", default=demo.sid)
    parser.add_argument("--appkey", default=demo.appkey)
    parser.add_argument(
        "--appsecret",
        default=demo.appsecret,
        help="enterprise signs with all of it; ultimate splits secret:salt at the first ':'",
    )
    parser.add_argument("--shop-no", default=demo.shop_no)
    parser.add_argument("--warehouse-no", default=demo.warehouse_no)
    parser.add_argument("--state-file", help="keep the state in this JSON file instead of only in memory")
    parser.add_argument(
        "--calls-per-minute",
        type=int,
        default=None,
        help="refuse calls beyond this many per minute with WDT's rate-limit answer (default: none)",
    )
    args = parser.parse_args(argv)
    account = SimulatorAccount(args.sid, args.appkey, args.appsecret, args.shop_no, args.warehouse_no)
    app = create_simulator_app(account, state_file=args.state_file, calls_per_minute=args.calls_per_minute)
    app.run(args.host, args.port, threaded=True, request_handler=AccessLogHandler)


if __name__ == "__main__":
    main()
