#!/usr/bin/env python3
"""Writes a Maildir of N plain replies (2-50 KiB, mixed encodings: 7bit, quoted-printable
ISO-8859-1, base64 UTF-8), some threaded to a certmail reference, for the ingest
benchmark. Usage: make-maildir.py DIR N [REFERENCE] [--quoting]

With --quoting each reply is what CERTs send: a few sentences of their own above the
quoted notification (the rest of the 2-50 KiB), instead of one unpunctuated run of
trigger words."""
import os, random, sys
from email.mime.text import MIMEText
from email.charset import Charset, QP, BASE64

quoting = "--quoting" in sys.argv
args = [a for a in sys.argv[1:] if a != "--quoting"]
out, n = args[0], int(args[1])
ref = args[2] if len(args) > 2 else "CM-2026-0001"
own_sentences = [
    "Tak for jeres henvendelse.", "Vi har modtaget jeres underretning og ser på den.",
    "Kan I sende os logfilerne fra firewallen?", "Sagen er oprettet hos os.",
    "Thank you for your notification.", "We have received your report and are looking into it.",
    "Could you send us the indicators you have seen?", "Our duty officer will contact you if needed.",
    "Med venlig hilsen", "Best regards",
]
rng = random.Random(7)
words = "hændelse server logfiler modtaget tak spørgsmål incident analysis firewall ransomware update patch næste skridt".split()
for d in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for i in range(n):
    size = rng.randint(2 * 1024, 50 * 1024)
    lines, length = [], 0
    while length < size:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
        lines.append(line)
        length += len(line) + 1
    body = "\n".join(lines)
    if quoting:
        own = " ".join(rng.choice(own_sentences) for _ in range(rng.randint(2, 6)))
        body = own + "\n\nDen 1. december skrev responder@example.test:\n" + "\n".join("> " + l for l in lines)
    kind = i % 3
    if kind == 0:
        msg = MIMEText(body.encode("ascii", "replace").decode(), "plain", "us-ascii")
    elif kind == 1:
        msg = MIMEText(body, "plain", "iso-8859-1")
    else:
        msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = "cert@example-cert.test"
    msg["Subject"] = ("Re: [%s] " % ref if i % 2 == 0 else "Re: ") + "svar %d" % i
    msg["Message-ID"] = "<bench-%d@example-cert.test>" % i
    with open(os.path.join(out, "new", "%08d.eml" % i), "wb") as f:
        f.write(bytes(msg))
