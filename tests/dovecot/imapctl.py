#!/usr/bin/python3
"""The CERT's side of the mailbox in certmail's IMAP tests: Python's imaplib, not
certmail's client, appends replies and looks at folders on the test Dovecot.

    imapctl.py --port P (--ca CA | --plain) --user U --password PW COMMAND ...
    append FOLDER FILE...   appends each file; prints the UIDs given (APPENDUID)
    create FOLDER           creates a folder
    recreate FOLDER         deletes and creates a folder: a new UIDVALIDITY
    list FOLDER             prints {"uidvalidity": N, "messages": {UID: [FLAGS]}} as JSON
"""

import argparse
import imaplib
import json
import re
import ssl
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("command")
    p.add_argument("folder")
    p.add_argument("files", nargs="*")
    a = p.parse_args()
    if a.plain:
        m = imaplib.IMAP4("127.0.0.1", a.port)
    else:
        m = imaplib.IMAP4_SSL("127.0.0.1", a.port, ssl_context=ssl.create_default_context(cafile=a.ca))
    check(m.login(a.user, a.password))
    if a.command == "append":
        uids = []
        for name in a.files:
            with open(name, "rb") as f:
                typ, data = check(m.append(a.folder, None, None, f.read()))
            uids.append(int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1)))
        print(json.dumps(uids))
    elif a.command == "create":
        check(m.create(a.folder))
    elif a.command == "recreate":
        check(m.delete(a.folder))
        check(m.create(a.folder))
    elif a.command == "list":
        typ, _ = check(m.select(a.folder, readonly=True))
        validity = int(m.response("UIDVALIDITY")[1][0])
        messages = {}
        typ, data = check(m.uid("FETCH", "1:*", "(UID FLAGS)"))
        for item in data:
            if not item:
                continue
            line = item.decode() if isinstance(item, bytes) else item[0].decode()
            uid = re.search(r"UID (\d+)", line)
            flags = re.search(r"FLAGS \(([^)]*)\)", line)
            if uid:
                messages[uid.group(1)] = flags.group(1).split() if flags else []
        print(json.dumps({"uidvalidity": validity, "messages": messages}))
    else:
        sys.exit("unknown command " + a.command)
    m.logout()


def check(result):
    typ, data = result
    if typ != "OK":
        sys.exit("IMAP: %s %r" % (typ, data))
    return result


if __name__ == "__main__":
    main()
