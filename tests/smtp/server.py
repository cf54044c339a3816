#!/usr/bin/python3
"""A real SMTP server for certmail's tests, on loopback: Debian's aiosmtpd with
STARTTLS or implicit TLS and AUTH, storing every message it accepts byte for byte,
plus the faults the delivery tests need. Started and stopped by the test harness.

Prints "READY <port>" on stdout once it accepts connections.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, SMTP

FAULTS = [
    "none", "greeting-421", "stall-greeting", "stall-mail", "rcpt-451", "rcpt-550", "stall-rcpt",
    "data-451", "data-550", "stall-data-end", "disconnect-after-dot",
]


class Handler:
    def __init__(self, store, fault):
        self.store = store
        self.fault = fault
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.fault == "stall-mail":
            await asyncio.sleep(3600)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fault == "rcpt-451":
            return "451 4.3.0 Try again later"
        if self.fault == "rcpt-550":
            return "550 5.1.1 No such user here"
        if self.fault == "stall-rcpt":
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fault == "data-451":
            return "451 4.3.0 Mailbox temporarily unavailable"
        if self.fault == "data-550":
            return "550 5.7.1 Message refused"
        self.count += 1
        name = "%d-%d" % (int(time.time() * 1000), self.count)
        with open(os.path.join(self.store, name + ".eml"), "wb") as f:
            f.write(envelope.original_content)
        with open(os.path.join(self.store, name + ".json"), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None, "authenticated": bool(session.authenticated)}, f)
        if self.fault == "stall-data-end":
            await asyncio.sleep(3600)
        if self.fault == "disconnect-after-dot":
            server.transport.close()
            return "250 OK (never seen)"
        return "250 2.0.0 Ok: queued as TESTQ%d" % self.count


def authenticator(expected_user, expected_password, store):
    def check(server, session, envelope, mechanism, auth_data):
        # Every AUTH attempt is recorded: tests prove no password went out in clear.
        with open(os.path.join(store, "auth-attempts.log"), "a") as f:
            f.write("%s tls=%s\n" % (mechanism, session.ssl is not None))
        ok = (auth_data.login.decode() == expected_user and auth_data.password.decode() == expected_password)
        return AuthResult(success=ok, handled=False)
    return check


async def raw_server(port, fault):
    async def client(reader, writer):
        if fault == "greeting-421":
            writer.write(b"421 4.3.2 Service not available, closing channel\r\n")
            await writer.drain()
            writer.close()
            return
        await asyncio.sleep(3600)  # stall-greeting
    server = await asyncio.start_server(client, "127.0.0.1", port)
    print("READY %d" % port, flush=True)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["starttls", "tls", "no-starttls", "plain"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="user:password")
    p.add_argument("--store", required=True)
    p.add_argument("--fault", choices=FAULTS, default="none")
    a = p.parse_args()

    if a.fault in ("greeting-421", "stall-greeting"):
        asyncio.run(raw_server(a.port, a.fault))
        return

    context = None
    if a.mode in ("starttls", "tls"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)
    kwargs = {"hostname": "127.0.0.1", "port": a.port, "ready_timeout": 10}
    if a.mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    elif a.mode == "tls":
        kwargs.update(ssl_context=context)
    if a.auth:
        user, password = a.auth.split(":", 1)
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; with implicit TLS
        # the whole connection is encrypted, and no-starttls must offer AUTH in clear
        # to prove certmail never uses it.
        kwargs.update(authenticator=authenticator(user, password, a.store), auth_required=True,
                      auth_require_tls=(a.mode == "starttls"))
    controller = Controller(Handler(a.store, a.fault), **kwargs)
    controller.start()
    print("READY %d" % a.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
