#!/usr/bin/env python3
"""Blind reply corpus for certmail's ingest: classifier, signature coverage and binding.

Written without reading certmail's classifier or ingest code, from how CERTs, ticketing
systems (RT, OTRS/Znuny, Jira Service Management), MTAs and attackers write mail.

    python3 tests/corpus/make_corpus.py --manifest manifest.json --out DIR

Writes DIR/NNN-name.eml and DIR/expected.json (see tests/corpus/README.md).
Needs only the Python standard library, `gpg` and `sq` (when `sq` is missing, the few
sq-made signatures are made by gpg instead and a warning is printed).
"""

import argparse
import base64
import datetime as dt
import email.utils
import json
import os
import quopri
import random
import shutil
import subprocess
import sys
import tempfile
import zlib

LOOKALIKE_UID = "Example CERT \u2014 test only <cert@example-cert.test>"
TZ = dt.timezone(dt.timedelta(hours=1))


# ----------------------------------------------------------------------------- tools

def run(cmd, data=b"", check=True):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise SystemExit("command failed: %s\n%s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    return p.stdout


class Gpg:
    def __init__(self, home):
        self.home = home

    def __call__(self, args, data=b"", check=True):
        return run(["gpg", "--homedir", self.home, "--batch", "--no-tty", "--quiet", "--yes",
                    "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always"] + args,
                   data, check)

    def fingerprint(self, who):
        out = self(["--with-colons", "--list-secret-keys", who]).decode()
        return next(l for l in out.splitlines() if l.startswith("fpr:")).split(":")[9]

    def kill(self):
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def new_key(tmp, name, uid):
    home = os.path.join(tmp, name)
    os.makedirs(home, mode=0o700)
    g = Gpg(home)
    g(["--quick-gen-key", uid, "ed25519", "cert", "never"])
    fpr = g.fingerprint(uid)
    g(["--quick-add-key", fpr, "cv25519", "encr", "never"])
    g(["--quick-add-key", fpr, "ed25519", "sign", "never"])
    return g, fpr


# ----------------------------------------------------------------------------- OpenPGP bits

def dearmor(armored):
    lines = armored.decode().replace("\r\n", "\n").split("\n")
    i = next(n for n, l in enumerate(lines) if l.startswith("-----BEGIN"))
    i += 1
    while lines[i].strip():
        i += 1
    body = []
    for l in lines[i + 1:]:
        if l.startswith("=") or l.startswith("-----END"):
            break
        body.append(l.strip())
    return base64.b64decode("".join(body))


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data, kind="MESSAGE"):
    b = base64.b64encode(data).decode()
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    c = base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return ("-----BEGIN PGP %s-----\n\n%s\n=%s\n-----END PGP %s-----\n" % (kind, "\n".join(lines), c, kind)).encode()


def packets(data):
    """(tag, header+body bytes, body) for each packet; the last may be indeterminate."""
    out, i = [], 0
    while i < len(data):
        ctb = data[i]
        if ctb & 0x40:
            tag = ctb & 0x3F
            l0 = data[i + 1]
            if l0 < 192:
                hl, ln = 2, l0
            elif l0 < 224:
                hl, ln = 3, ((l0 - 192) << 8) + data[i + 2] + 192
            elif l0 == 255:
                hl, ln = 6, int.from_bytes(data[i + 2:i + 6], "big")
            else:  # partial body: take the rest
                out.append((tag, data[i:], None))
                return out
        else:
            tag = (ctb >> 2) & 0x0F
            lt = ctb & 3
            if lt == 3:
                out.append((tag, data[i:], None))
                return out
            n = [1, 2, 4][lt]
            hl, ln = 1 + n, int.from_bytes(data[i + 1:i + 1 + n], "big")
        out.append((tag, data[i:i + hl + ln], data[i + hl:i + hl + ln]))
        i += hl + ln
    return out


def new_packet(tag, body):
    n = len(body)
    if n < 192:
        h = bytes([n])
    elif n < 8384:
        n2 = n - 192
        h = bytes([(n2 >> 8) + 192, n2 & 0xFF])
    else:
        h = b"\xff" + n.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + h + body


def sig_hash_name(armored_sig):
    body = packets(dearmor(armored_sig))[0][2]
    return {2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}.get(body[3], "sha512")


# ----------------------------------------------------------------------------- mail bits

def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def lf(b):
    return b.replace(b"\r\n", b"\n")


def qp(text, charset="utf-8"):
    return crlf(quopri.encodestring(text.replace("\r\n", "\n").encode(charset)))


def b64(data):
    return crlf(base64.encodebytes(data))


def enc_word(s):
    try:
        s.encode("ascii")
        return s
    except UnicodeEncodeError:
        return "=?utf-8?b?%s?=" % base64.b64encode(s.encode()).decode()


def headers(pairs):
    return "".join("%s: %s\r\n" % (k, v) for k, v in pairs if v is not None).encode()


def text_entity(text, charset="utf-8", cte="quoted-printable", extra=(), ctype="text/plain"):
    if cte == "7bit" and any(ord(ch) > 127 for ch in text):
        cte = "8bit"
    if cte == "quoted-printable":
        body = qp(text, charset)
    elif cte == "base64":
        body = b64(crlf(text.encode(charset)))
    else:
        body = crlf(text.encode(charset))
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    h = list(extra) + [("Content-Type", "%s; charset=%s" % (ctype, charset)),
                       ("Content-Transfer-Encoding", cte)]
    return headers(h) + b"\r\n" + body


def multipart(subtype, parts, boundary, params=""):
    body = b""
    for p in parts:
        body += b"--" + boundary.encode() + b"\r\n" + p + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    ctype = 'multipart/%s; boundary="%s"%s' % (subtype, boundary, params)
    return ctype, body


def entity(ctype, body, extra=()):
    return headers(list(extra) + [("Content-Type", ctype)]) + b"\r\n" + body


def html_of(text):
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<html><body><div style=\"font-family:Calibri\">%s</div></body></html>\n" % esc.replace("\n", "<br>\n")


SIG_PART_HEAD = headers([("Content-Type", 'application/pgp-signature; name="signature.asc"'),
                         ("Content-Description", "OpenPGP digital signature"),
                         ("Content-Disposition", 'attachment; filename="signature.asc"')]) + b"\r\n"


# ----------------------------------------------------------------------------- the corpus

class Corpus:
    def __init__(self, m, out, tmp):
        self.m, self.out, self.tmp = m, out, tmp
        self.cases = []
        self.n = 0
        self.rng = random.Random(20261120)
        home = os.path.join(tmp, "cert")
        shutil.copytree(m["cert_gnupg_home"], home, ignore=shutil.ignore_patterns("S.*", "*.lock", ".#*"))
        os.chmod(home, 0o700)
        self.cert = Gpg(home)
        self.cert_fpr = m["cert_fingerprint"].replace(" ", "").upper()
        self.cert(["--import", m["reporter_public_key"]])
        self.reporter = next(l for l in self.cert(["--with-colons", "--show-keys", m["reporter_public_key"]])
                             .decode().splitlines() if l.startswith("fpr:")).split(":")[9]
        self.look, self.look_fpr = new_key(tmp, "lookalike", LOOKALIKE_UID)
        self.look(["--import", m["reporter_public_key"]])
        self.other, _ = new_key(tmp, "other", "IT-drift <it@andet-firma.test>")
        self.other(["--import", m["reporter_public_key"]])
        self.sq = shutil.which("sq")
        if not self.sq:
            print("warning: sq not found; sq-made signatures are made by gpg instead", file=sys.stderr)
        self.cert_secret = os.path.join(tmp, "cert-secret.asc")
        with open(self.cert_secret, "wb") as f:
            f.write(self.cert(["--armor", "--export-secret-keys", self.cert_fpr]))
        self.now = dt.datetime.now(TZ).replace(microsecond=0)
        self.minute = 0
        self.addr = m["cert_address"]
        self.dom = self.addr.split("@")[1]
        self.rep = m["reporter_address"]
        inc = m["incidents"]
        self.A, self.B, self.C = inc[0], inc[1], inc[2]
        self.saved = {}

    def close(self):
        for g in (self.cert, self.look, self.other):
            g.kill()

    # --- signing primitives
    def clearsign(self, text, charset="utf-8", g=None):
        return (g or self.cert)(["--clearsign", "--digest-algo", "SHA512"], text.replace("\r\n", "\n").encode(charset))

    def detach(self, data, g=None, tool="gpg"):
        if tool == "sq" and self.sq and g is None:
            return run([self.sq, "sign", "--detached", "--signer-key", self.cert_secret], data)
        return (g or self.cert)(["--armor", "--detach-sign", "--digest-algo", "SHA512"], data)

    def sq_clearsign(self, text):
        data = text.replace("\r\n", "\n").encode()
        if self.sq:
            return run([self.sq, "sign", "--cleartext-signature", "--signer-key", self.cert_secret], data)
        return self.clearsign(text)

    def sign_encrypt(self, data, g=None, sign=True):
        args = ["--armor", "--encrypt", "-r", self.reporter]
        if sign:
            args = ["--sign", "--digest-algo", "SHA512"] + args
        return (g or self.cert)(args, data)

    def signed(self, ent, tool="gpg", g=None, boundary=None):
        """RFC 3156 multipart/signed over `ent` (canonical CRLF entity bytes)."""
        sig = self.detach(ent, g, tool)
        b = boundary or "sig_%08x" % self.rng.getrandbits(32)
        ctype, body = multipart("signed", [ent, SIG_PART_HEAD + crlf(sig)], b,
                                '; micalg="pgp-%s"; protocol="application/pgp-signature"' % sig_hash_name(sig))
        return ctype, body

    def encrypted(self, inner_armored):
        b = "enc_%08x" % self.rng.getrandbits(32)
        ctrl = headers([("Content-Type", "application/pgp-encrypted"),
                        ("Content-Description", "PGP/MIME version identification")]) + b"\r\nVersion: 1\r\n"
        data = headers([("Content-Type", 'application/octet-stream; name="encrypted.asc"'),
                        ("Content-Description", "OpenPGP encrypted message"),
                        ("Content-Disposition", 'inline; filename="encrypted.asc"')]) + b"\r\n" + crlf(inner_armored)
        return multipart("encrypted", [ctrl, data], b, '; protocol="application/pgp-encrypted"')

    # --- headers
    def date(self):
        self.minute += 3
        return email.utils.format_datetime(self.now + dt.timedelta(minutes=self.minute))

    def mid(self, style="cert"):
        r = "%012x" % self.rng.getrandbits(48)
        return {"cert": "<%s.vagt@%s>" % (r, self.dom),
                "rt": "<rt-5.0.5-%d-%s-48213@%s>" % (self.rng.randint(1000, 99999), r[:8], self.dom),
                "otrs": "<%d.%s@otrs.%s>" % (int(self.now.timestamp()), r[:6], self.dom),
                "jira": "<JIRA.%d.%s@Atlassian.JIRA>" % (self.rng.randint(10000, 99999), r),
                "x": "<%s@mail.%s>" % (r, "angriber.test")}[style]

    def outer(self, subject, msgid, irt=None, refs=None, frm=None, to=None, extra=(), ctype=None, date=None):
        frm = frm or "%s <%s>" % (enc_word("Example CERT \u2014 test only"), self.addr)
        h = [("Return-Path", "<%s>" % email.utils.parseaddr(frm)[1]),
             ("Received", "from mx.%s (mx.%s [192.0.2.25]) by mail.%s (Postfix) with ESMTPS id 4Xk%04d; %s"
              % (self.dom, self.dom, self.rep.split("@")[1], self.rng.randint(0, 9999), email.utils.format_datetime(self.now))),
             ("From", frm), ("To", to or self.rep), ("Subject", enc_word(subject)),
             ("Date", date or self.date()), ("Message-ID", msgid),
             ("In-Reply-To", irt), ("References", refs), ("MIME-Version", "1.0")]
        h += list(extra)
        if ctype:
            h.append(("Content-Type", ctype))
        return headers(h)

    @staticmethod
    def mid_of(inc):
        m = inc["message_id"].strip()
        return m if m.startswith("<") else "<%s>" % m

    # --- output
    def add(self, name, set_, kind, sig, incident, bound, state, desc, data, eol="lf"):
        self.n += 1
        fn = "%03d-%s.eml" % (self.n, name)
        data = crlf(data) if eol == "crlf" else (lf(data) if eol == "lf" else data)
        assert len(data) < 2 * 1024 * 1024, fn
        with open(os.path.join(self.out, fn), "wb") as f:
            f.write(data)
        self.cases.append({"file": fn, "set": set_, "description": desc, "kind": kind, "signature": sig,
                           "incident": incident["reference"] if isinstance(incident, dict) else incident,
                           "bound": bound, "state_change": state})
        return data

    def write_expected(self):
        with open(os.path.join(self.out, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(self.cases, f, ensure_ascii=False, indent=2)
            f.write("\n")


# ----------------------------------------------------------------------------- texts

def quote_notification(inc, lang="da"):
    if lang == "da":
        return ("> Underretning om sikkerhedshændelse\n> Reference: %s\n> Titel: %s\n>\n"
                "> Vi har konstateret en sikkerhedshændelse og underretter hermed CFCS.\n" % (inc["reference"], inc["title"]))
    return ("> Notification of a security incident\n> Reference: %s\n> Title: %s\n" % (inc["reference"], inc["title"]))


def build(c):
    A, B, C = c.A, c.B, c.C
    rA, rB, rC = A["reference"], B["reference"], C["reference"]
    mA, mB, mC = c.mid_of(A), c.mid_of(B), c.mid_of(C)
    RT = "[%s #48213]" % "cfcs.dk"
    OTRS = "Ticket#2026112010000123"
    JIRA = "CFCS-1187"
    sigs = "\n-- \nCFCS Netsikkerhedstjenesten / Network Security Service\nVagttelefon +45 3332 5580\n"

    # 001 ------------------------------------------------------------------ hostile: rfc822 x5000
    msg = c.outer("Re: Fwd: Fwd: Fwd: ...", c.mid("x"), frm="forward <fw@angriber.test>", ctype="message/rfc822") + b"\r\n"
    msg += b"Content-Type: message/rfc822\r\n\r\n" * 4999 + b"Subject: bottom\r\n\r\nbund\r\n"
    c.add("hostile-rfc822-nested-5000", "dev", "malformed", "none", None, False, None,
          "message/rfc822 nested 5000 deep (about 150 kB); must be malformed (too deeply nested), never a crash", msg)

    # 002 ------------------------------------------------------------------ A: first ack, duty officer, clearsign
    t = ("Hej,\n\nTak for henvendelsen vedr. %s (%s). Vi kigger på det og vender tilbage, hvis vi har brug\n"
         "for yderligere oplysninger. Ring endelig til vagten, hvis situationen udvikler sig.\n\n"
         "Venlig hilsen\nMads, vagthavende\n%s" % (rA, A["title"], sigs))
    body = c.clearsign(t)
    m_ackA = c.mid()
    ackA_body = body
    d = c.outer("Re: " + A["cleartext_subject"], m_ackA, mA, mA,
                ctype="text/plain; charset=utf-8", extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + body
    c.saved["ackA"] = d
    c.add("ack-da-duty-clearsign", "dev", "ack", "good", A, True, "acknowledged",
          "Genuine first ack of A: Danish duty-officer note, gpg --clearsign, 8bit UTF-8, names the reference", d)

    # 003 ------------------------------------------------------------------ hostile: multipart x2000
    parts = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (i, i + 1) for i in range(2000))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in range(2000, -1, -1))
    msg = c.outer("Re: " + B["cleartext_subject"], c.mid("x"), frm="x <x@angriber.test>",
                  ctype='multipart/mixed; boundary="b0"') + b"\r\n" + parts + \
        b"--b2000\r\nContent-Type: text/plain\r\n\r\nVi har modtaget jeres underretning.\r\n" + closing
    c.add("hostile-multipart-nested-2000", "holdout", "malformed", "none", None, False, None,
          "multipart/mixed nested 2000 deep (small file), unsigned, from an outside address; must be malformed, never a crash", msg)

    # 004 ------------------------------------------------------------------ B: first ack, RT formal receipt
    t = ("Hermed kvittering for modtagelse af jeres underretning %s.\n\n"
         "Henvendelsen er registreret hos CFCS' Netsikkerhedstjeneste under sagsnummer %s.\n"
         "Angiv venligst sagsnummeret i emnefeltet ved al videre korrespondance.\n\n"
         "Med venlig hilsen\nCFCS Netsikkerhedstjenesten\n" % (rB, RT))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent)
    m_ackB = c.mid("rt")
    d = c.outer("%s Re: %s" % (RT, B["cleartext_subject"]), m_ackB, mB, mB, ctype=ctype,
                extra=[("RT-Ticket", "cfcs.dk #48213"), ("Precedence", "bulk"), ("X-RT-Loop-Prevention", "cfcs.dk")]) + b"\r\n" + body
    c.saved["ackB"] = d
    c.saved["ackB_ent"] = (ent, ctype, body)
    c.add("ack-da-rt-formal-receipt", "holdout", "ack", "good", B, True, "acknowledged",
          "Genuine first ack of B: RT 'Hermed kvittering', RFC 3156 multipart/signed (gpg), QP UTF-8, CRLF; case number %s learnt" % RT,
          d, eol="crlf")

    # 005 ------------------------------------------------------------------ hostile: 5000 PKESK
    one = dearmor(c.cert(["--armor", "--encrypt", "-r", c.reporter], b"Vi har modtaget jeres underretning " + rC.encode()))
    pk = packets(one)
    pkesk = pk[0][2]
    rest = b"".join(p[1] for p in pk[1:])
    many = b""
    for i in range(5000):
        b_ = bytearray(pkesk)
        if i % 2:
            b_[1:9] = b"\0" * 8  # wildcard key ID
        for j in range(len(b_) - 40, len(b_)):
            b_[j] = c.rng.getrandbits(8)
        many += new_packet(1, bytes(b_))
    encb = "enc_pk"
    ctype, body = multipart("encrypted", [
        b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n",
        b"Content-Type: application/octet-stream\r\n\r\n" + crlf(armor(many + rest))], encb,
        '; protocol="application/pgp-encrypted"')
    d = c.outer("Encrypted message", c.mid("x"), frm="x <x@angriber.test>", ctype=ctype) + b"\r\n" + body
    c.add("hostile-pkesk-5000", "dev", "malformed", "none", None, False, None,
          "PGP/MIME with 5000 PKESK packets (reporter key ID and wildcard IDs, session-key bytes mutated; none decrypts); must be malformed, bounded time", d)

    # 006 ------------------------------------------------------------------ C: first = question, sign+encrypt, protected headers only
    t = ("Hello,\n\nThank you. Before we can assess the incident we need more information:\n\n"
         " - Could you share the IOCs you have (IP addresses, hashes, domains)?\n"
         " - Which VPN appliance and firmware version is exposed?\n\n"
         "Please reply encrypted to this address.\n\nBest regards\nCFCS Network Security Service\n")
    m_qC = c.mid()
    inner = headers([("Content-Type", 'text/plain; charset=utf-8; protected-headers="v1"'),
                     ("Content-Transfer-Encoding", "quoted-printable"),
                     ("Subject", "Re: " + C["title"]), ("From", "Example CERT <%s>" % c.addr), ("To", c.rep),
                     ("Message-ID", m_qC), ("In-Reply-To", mC), ("References", mC)]) + b"\r\n" + qp(t)
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", m_qC, mC, mC, ctype=ctype) + b"\r\n" + body
    c.saved["qC"] = d
    c.add("question-en-signencrypt-protected-headers", "dev", "question", "good", C, True, "question",
          "Genuine first reply on C: English question, signed+encrypted PGP/MIME to the reporter; text names nothing, "
          "binding only via In-Reply-To of the notification in the signed protected headers; implies receipt", d)

    # 007 ------------------------------------------------------------------ spoof: unsigned ack A
    t = "Hej\n\nVi har modtaget jeres underretning %s og behandler den.\n\nMvh\nCFCS\n" % rA
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("spoof-unsigned-ack-da", "dev", "ack", "none", A, False, None,
          "Unsigned 'Vi har modtaget jeres underretning' with A's reference in subject and text and threading; From is the CERT address", d)

    # 008 ------------------------------------------------------------------ bounce (Postfix) about A
    host = "mail." + c.rep.split("@")[1]
    bnd = "4Xk7Qm2Vz1z9sQ.1732091122/" + host
    human = ("This is the mail system at host %s.\n\nI'm sorry to have to inform you that your message could not\n"
             "be delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n"
             "If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n"
             "                   The mail system\n\n<%s>: host mx.%s[192.0.2.25] said: 550 5.7.1\n"
             "    Message rejected: policy violation (in reply to end of DATA command)\n" % (host, c.addr, c.dom))
    status = ("Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: 4Xk7Qm2Vz1z9sQ\nX-Postfix-Sender: rfc822; %s\n"
              "Arrival-Date: %s\n\nFinal-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\nAction: failed\n"
              "Status: 5.7.1\nRemote-MTA: dns; mx.%s\nDiagnostic-Code: smtp; 550 5.7.1 Message rejected: policy violation\n"
              % (host, c.rep, email.utils.format_datetime(c.now), c.addr, c.addr, c.dom))
    orig = ("Return-Path: <%s>\nReceived: by %s (Postfix, from userid 1000) id 4Xk7Qm2Vz1z9sQ; %s\n"
            "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"=_certmail_x\"\n"
            % (c.rep, host, email.utils.format_datetime(c.now), c.rep, c.addr, A["cleartext_subject"],
               email.utils.format_datetime(c.now), mA))
    ctype, body = multipart("report", [
        b"Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + crlf(human.encode()),
        b"Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n" + crlf(status.encode()),
        b"Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n" + crlf(orig.encode())],
        bnd, "; report-type=delivery-status")
    d = headers([("Return-Path", "<>"), ("From", "MAILER-DAEMON@%s (Mail Delivery System)" % host),
                 ("To", c.rep), ("Subject", "Undelivered Mail Returned to Sender"), ("Date", c.date()),
                 ("Message-Id", "<20261120084522.4Xk7Qm2Vz1z9sQ@%s>" % host), ("Auto-Submitted", "auto-replied"),
                 ("MIME-Version", "1.0"), ("Content-Type", ctype)]) + b"\r\n" + body
    c.add("bounce-postfix-dsn", "dev", "bounce", "none", A, False, None,
          "Postfix DSN (multipart/report, message/delivery-status, Action: failed) with A's notification headers incl. its Message-ID", d)

    # 009 ------------------------------------------------------------------ A: question bilingual OTRS, sq, base64 latin-1
    t = ("Kære Eksempel A/S\n\nTak for jeres underretning. Sagen er oprettet som %s.\n"
         "Kan I sende os logfiler fra firewallen og VPN-koncentratoren for perioden fra kl. 00:00 den 19. november\n"
         "og frem til nu? Vi er også interesserede i en kopi af løsesumsbeskeden.\n\n"
         "---------------------------------------------------------------\n\n"
         "Dear Eksempel A/S\n\nThank you for your notification. The case has been registered as %s.\n"
         "Could you send us the firewall and VPN logs from 00:00 on 19 November until now, and a copy of the ransom note?\n\n"
         "Med venlig hilsen / Kind regards\nCFCS Netsikkerhedstjenesten\n\n%s" % (OTRS, OTRS, quote_notification(A)))
    ent = text_entity(t, "iso-8859-1", "base64")
    ctype, body = c.signed(ent, tool="sq")
    m_qA = c.mid("otrs")
    d = c.outer("[%s] Re: %s" % (OTRS, A["cleartext_subject"]), m_qA, mA, mA, ctype=ctype,
                extra=[("X-OTRS-Loop", "yes"), ("Organization", "CFCS")]) + b"\r\n" + body
    c.saved["qA"] = (ent, body, ctype)
    c.add("question-bilingual-otrs-sq-latin1-b64", "holdout", "question", "good", A, True, "question",
          "Genuine OTRS reply on A: Danish then English below a line, asks for logs; sq detached signature, base64 ISO-8859-1; "
          "reference only in the quoted notification; case number %s learnt" % OTRS, d)

    # 010 ------------------------------------------------------------------ duplicate of 004 with LF
    c.add("dup-ack-rt-lf", "dev", "ack", "good", B, True, None,
          "Exact duplicate of the RT ack of B (same Message-ID, same signed content) stored with LF line ends; changes nothing",
          c.saved["ackB"], eol="lf")

    # 011 ------------------------------------------------------------------ Danish OOO auto-reply B
    t = ("Tak for din mail.\n\nJeg er på ferie til og med mandag den 30. november og har ikke adgang til min mail.\n"
         "Ved akutte henvendelser kontakt venligst vagten på +45 3332 5580.\n\nVenlig hilsen\nKaren Holm\n")
    d = c.outer("Autosvar: " + B["cleartext_subject"], c.mid(), mB, mB, frm="Karen Holm <karen.holm@%s>" % c.dom,
                extra=[("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"), ("Precedence", "auto_reply"),
                       ("Content-Transfer-Encoding", "8bit")],
                ctype="text/plain; charset=iso-8859-1") + b"\r\n" + t.encode("iso-8859-1")
    c.add("auto-reply-da-ooo", "dev", "auto-reply", "none", B, False, None,
          "Danish out-of-office (Auto-Submitted: auto-replied), 8bit ISO-8859-1, threaded to B", d)

    # 012 ------------------------------------------------------------------ C: Jira ack, signed alternative(text+html)
    t = ("Your request %s \"%s\" has been received.\n\nReference: %s\n\n"
         "A member of the CFCS Network Security Service will review it shortly.\n"
         "You can reply to this e-mail to add a comment; please keep %s in the subject.\n" % (JIRA, C["title"], rC, JIRA))
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    actype, abody = multipart("alternative", [text_entity(t, "utf-8", "quoted-printable"),
                                              text_entity(html_of(t), "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    ent = entity(actype, abody)
    ctype, body = c.signed(ent)
    d = c.outer("[JIRA] (%s) %s" % (JIRA, C["title"]), c.mid("jira"), mC, mC, ctype=ctype,
                frm="CFCS Service Desk <%s>" % c.addr, extra=[("X-JIRA-FingerPrint", "5c3b9f1e")]) + b"\r\n" + body
    c.add("ack-en-jira-signed-alternative", "holdout", "ack", "good", C, True, "acknowledged",
          "Genuine Jira Service Management receipt on C: multipart/signed over multipart/alternative (text and HTML both signed); "
          "case number %s learnt" % JIRA, d)

    # 013 ------------------------------------------------------------------ look-alike key clearsign ack C
    t = "Hej\n\nHermed bekræftelse: vi har modtaget jeres underretning %s og sagen er under behandling.\n%s" % (rC, sigs)
    d = c.outer("Re: " + C["cleartext_subject"], c.mid(), mC, mC, ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t, g=c.look)
    c.add("lookalike-key-clearsign-ack", "holdout", "ack", "unknown-signer", C, False, None,
          "Clearsigned ack of C by an attacker key with the same user ID as the CERT key (not the pinned key)", d)

    # 014 ------------------------------------------------------------------ poisoning: Sagsnr.: 2026 on C
    t = "Hej\n\nVi har oprettet en sag på jeres henvendelse.\n\nSagsnr.: 2026\n\nHenvis venligst til sagsnummeret fremover.\n\nMvh\nCFCS\n"
    d = c.outer("Re: " + C["cleartext_subject"] + " [Sagsnr.: 2026]", c.mid(), mC, mC, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("poison-unsigned-sagsnr-2026", "dev", "ack", "none", C, False, None,
          "Unsigned ack threaded to C claiming 'Sagsnr.: 2026': must not set C's case number", d)

    # 015 ------------------------------------------------------------------ B: plain reply EN, sq cleartext
    t = ("Hi,\n\nFor your information regarding %s: the IP address 203.0.113.45 you reported has also been\n"
         "observed at two other Danish organisations this week and is associated with the Akira group.\n"
         "We have shared the indicator with our partners.\n\nRegards\nCFCS Network Security Service\n" % rB)
    d = c.outer("%s Re: %s" % (RT, B["cleartext_subject"]), c.mid("rt"), m_ackB, "%s %s" % (mB, m_ackB),
                ctype="text/plain; charset=utf-8") + b"\r\n" + c.sq_clearsign(t)
    c.add("reply-en-sq-cleartext", "dev", "reply", "good", B, True, "acknowledged",
          "Genuine plain reply (information, no receipt wording) on B, sq cleartext signature, CRLF; a good bound reply", d, eol="crlf")

    # 016 ------------------------------------------------------------------ partial: signed part + unsigned sibling
    t = "Hej\n\nVi bekræfter modtagelsen af %s. Sagen behandles af vagten.\n%s" % (rA, sigs)
    ctype, sbody = c.signed(text_entity(t))
    mixed_b = "mix_%08x" % c.rng.getrandbits(32)
    ctype2, body = multipart("mixed", [entity(ctype, sbody),
                                       text_entity("Denne e-mail kan indeholde fortrolige oplysninger. Er du ikke den rette modtager, "
                                                   "bedes du slette den.\n", "utf-8", "7bit")], mixed_b)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), mA, mA, ctype=ctype2) + b"\r\n" + body
    c.add("partial-signed-plus-unsigned-sibling", "dev", "ack", "partial", A, False, None,
          "multipart/mixed: a good CERT-signed ack of A plus an unsigned text/plain sibling (disclaimer)", d)

    # 017 ------------------------------------------------------------------ cross-org ack, not threaded
    t = ("Hej IT-drift\n\nTak for jeres underretning [CM-2026-0002]. Vi har modtaget den og sagen er oprettet.\n%s" % sigs)
    xorg = c.clearsign(t)
    m_x = "<cm-2026-0002@andet-firma.test>"
    d = c.outer("Re: [CM-2026-0002] Encrypted message", c.mid(), m_x, m_x, to="it@andet-firma.test",
                ctype="text/plain; charset=utf-8") + b"\r\n" + xorg
    c.add("crossorg-ack-not-ours", "dev", "unrelated", "good", None, False, None,
          "Genuine CERT-signed ack of ANOTHER organisation's notification [CM-2026-0002] (old certmail style), threaded to their Message-ID; names nothing of ours", d)

    # 018 ------------------------------------------------------------------ hostile: SED without MDC
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nVi har modtaget jeres underretning " + rB.encode() + b".\r\n"
    sed = c.cert(["--rfc2440", "--armor", "--sign", "--encrypt", "-r", c.reporter], inner)
    ctype, body = c.encrypted(sed)
    d = c.outer("Re: " + B["cleartext_subject"], c.mid(), mB, mB, ctype=ctype) + b"\r\n" + body
    c.add("hostile-encrypted-no-mdc", "holdout", "malformed", "none", B, False, None,
          "PGP/MIME encrypted to the reporter as a Symmetrically Encrypted Data packet without integrity protection (gpg --rfc2440), "
          "a CERT-signed ack of B inside; must be malformed, the signature inside never trusted; threaded to B", d)

    # 019 ------------------------------------------------------------------ A: reply, inline signed+encrypted
    t = ("Hej igen\n\nVedr. %s: Vi har set på de tilsendte hashværdier. Filen svchost_upd.exe matcher en kendt\n"
         "LockBit 3.0-loader. Vi anbefaler at isolere de berørte servere og nulstille domæneadministratorkonti.\n\n"
         "Venlig hilsen\nMads\n" % rA)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), m_ackA, "%s %s" % (mA, m_ackA),
                ctype="text/plain; charset=us-ascii") + b"\r\n" + c.sign_encrypt(t.encode())
    c.add("reply-da-inline-signencrypt", "holdout", "reply", "good", A, True, "acknowledged",
          "Genuine Danish advice on A (no receipt wording), inline PGP signed+encrypted to the reporter in a text/plain body; right after a hostile file", d)

    # 020 ------------------------------------------------------------------ A: by case number only (signed)
    t = ("Hej\n\nVi har nu analyseret de tilsendte logfiler. Der er tegn på lateral bevægelse fra 10.20.0.14\n"
         "til filserveren fra kl. 02:13. Vi har ingen yderligere spørgsmål på nuværende tidspunkt.\n\n"
         "Med venlig hilsen\nCFCS Netsikkerhedstjenesten\n\n%s\n" % OTRS)
    ctype, body = c.signed(text_entity(t))
    d = c.outer("[%s] Analyse af logfiler" % OTRS, c.mid("otrs"), m_qA, m_qA, ctype=ctype) + b"\r\n" + body
    c.add("casenumber-only-signed-otrs", "dev", "reply", "good", A, True, "acknowledged",
          "Genuine reply naming A only by the OTRS case number %s learnt from an earlier good bound reply; threaded to the CERT's own message" % OTRS, d)

    # 021 ------------------------------------------------------------------ B: case number only, unsigned
    t = "Hej\n\nVi har modtaget jeres underretning og sagen er under behandling.\n\nMvh\nCFCS\n"
    d = c.outer("%s Modtaget" % RT, c.mid("rt"), None, None, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("casenumber-only-unsigned-rt", "holdout", "ack", "none", B, False, None,
          "Unsigned ack naming B only by the RT case number in the subject; must not acknowledge", d)

    # 022 ------------------------------------------------------------------ bad: tampered clearsign
    t = ("Hej\n\nTak for jeres underretning %s. Vi har modtaget den kl. 10:14 og sagen er oprettet.\n%s" % (rA, sigs))
    cs = c.clearsign(t).replace(b"kl. 10:14", b"kl. 10:41")
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + cs
    c.add("bad-tampered-clearsign", "dev", "ack", "bad", A, False, None,
          "CERT clearsigned ack of A with one time changed after signing (10:14 -> 10:41): BAD signature", d)

    # 023 ------------------------------------------------------------------ partial: inline with unsigned text around
    t = "Hermed kvittering for modtagelse af jeres underretning %s.\n%s" % (rB, sigs)
    d = c.outer("Re: " + B["cleartext_subject"], c.mid(), mB, mB, ctype="text/plain; charset=utf-8") + b"\r\nHej,\r\n\r\nSe nedenfor.\r\n\r\n" + \
        c.clearsign(t) + b"\r\nVenlig hilsen\r\nCFCS\r\n"
    c.add("partial-inline-with-unsigned-text", "holdout", "ack", "partial", B, False, None,
          "Good inline clearsigned receipt of B with unsigned text before and after it in the same text/plain body", d)

    # 024 ------------------------------------------------------------------ poisoning: Case number: 2026 on B
    t = "Dear reporter,\n\nWe have received your report.\nCase number: 2026\n\nPlease quote the case number in all further correspondence.\n"
    d = c.outer("Re: " + B["cleartext_subject"], c.mid(), mB, mB, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("poison-unsigned-case-number-2026", "holdout", "ack", "none", B, False, None,
          "Unsigned English ack threaded to B claiming 'Case number: 2026': must not set B's case number", d)

    # 025 ------------------------------------------------------------------ hostile: compression bomb
    n = 512 * 1024 * 1024
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    z = comp.compress(b"\xcb\xff" + (n + 6).to_bytes(4, "big") + b"b\x00\x00\x00\x00\x00")
    chunk = b"\0" * (1 << 20)
    for _ in range(n >> 20):
        z += comp.compress(chunk)
    z += comp.flush()
    inner_pkt = new_packet(8, b"\x01" + z)
    comp2 = zlib.compressobj(9, zlib.DEFLATED, -15)
    outer_pkt = new_packet(8, b"\x01" + comp2.compress(inner_pkt) + comp2.flush())
    d = c.outer("Re: " + C["cleartext_subject"], c.mid("x"), None, None, frm="x <x@angriber.test>",
                ctype="text/plain; charset=us-ascii") + b"\r\n" + armor(outer_pkt)
    # Corrected after the first run (see README, "Corrections"): the subject tag threads it to C for reading.
    c.add("hostile-compression-bomb", "dev", "malformed", "none", C, False, None,
          "Inline PGP message: compressed packet inside a compressed packet expanding to a 512 MiB literal (file ~%d kB); "
          "must be malformed (decompression bomb) in bounded memory" % (len(d) // 1024), d)

    # 026 ------------------------------------------------------------------ C: question DA no '?', latin-1 QP clearsign
    t = ("Hej\n\nVedrørende %s vil vi gerne bede jer om at sende en kopi af en af de krypterede filer samt\n"
         "løsesumsbeskeden, så vi kan identificere varianten.\n\nVenlig hilsen\nSøren, vagthavende\n" % rC)
    cs = c.clearsign(t, charset="iso-8859-1")
    d = c.outer("Re: " + C["cleartext_subject"], c.mid(), mC, mC, ctype="text/plain; charset=iso-8859-1",
                extra=[("Content-Transfer-Encoding", "quoted-printable")]) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    c.add("question-da-no-questionmark-latin1-qp", "dev", "question", "good", C, True, "question",
          "Genuine Danish request without a question mark on C, clearsigned ISO-8859-1 text sent quoted-printable; right after a hostile file", d)

    # 027 ------------------------------------------------------------------ replay ack A -> B
    d = c.outer("Re: " + B["cleartext_subject"], c.mid("x"), mB, mB, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + ackA_body
    c.add("replay-ack-A-threaded-to-B", "dev", "ack", "good", A, True, None,
          "The genuine clearsigned ack of A re-sent with a new Message-ID and In-Reply-To/References/Subject of B; "
          "signed text names A only: must not acknowledge B, nothing new for A", d)

    # 028 ------------------------------------------------------------------ B: question via case number, clearsign
    t = ("Hej\n\nVedr. %s: send venligst en liste over de konti, der har logget ind via VPN de seneste 48 timer,\n"
         "samt tidspunktet for seneste ændring af firewallreglerne.\n\nMvh\nCFCS Netsikkerhedstjenesten\n" % RT)
    d = c.outer("%s Yderligere oplysninger" % RT, c.mid("rt"), None, None, ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t)
    c.add("casenumber-only-question-rt", "holdout", "question", "good", B, True, "question",
          "Genuine clearsigned request naming B only by the RT case number %s (no reference, no threading)" % RT, d)

    # 029 ------------------------------------------------------------------ partial: clearsigned text + unsigned html alt
    t = "Hej\n\nVi har modtaget jeres underretning %s og vender tilbage.\n%s" % (rC, sigs)
    cs = c.clearsign(t).decode()
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("alternative", [text_entity(cs, "utf-8", "quoted-printable"),
                                            text_entity(html_of(t.replace("vender tilbage", "vender tilbage. Log ind på "
                                                                          "https://cfcs-portal.angriber.test for at se sagen")),
                                                        "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    d = c.outer("Re: " + C["cleartext_subject"], c.mid(), mC, mC, ctype=ctype) + b"\r\n" + body
    c.add("partial-clearsigned-text-unsigned-html", "dev", "ack", "partial", C, False, None,
          "multipart/alternative: clearsigned text/plain ack of C (good) and an unsigned text/html alternative with an added link", d)

    # 030 ------------------------------------------------------------------ look-alike multipart/signed question A
    t = ("Hej\n\nVedr. %s: For at vi kan hjælpe, bedes I sende brugernavn og adgangskode til en administratorkonto\n"
         "på VPN-løsningen, så vi kan foretage en forensisk undersøgelse.\n%s" % (rA, sigs))
    ctype, body = c.signed(text_entity(t), g=c.look)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype=ctype) + b"\r\n" + body
    c.add("lookalike-key-mime-question", "dev", "question", "unknown-signer", A, False, None,
          "RFC 3156 multipart/signed question on A signed by the look-alike key (same user ID); must not count as receipt", d)

    # 031 ------------------------------------------------------------------ cross-org content threaded to A
    d = c.outer("Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + xorg
    c.add("crossorg-ack-rethreaded-to-A", "holdout", "ack", "good", A, False, None,
          "The genuine CERT-signed ack of another organisation's [CM-2026-0002] re-sent with A's threading headers and subject; "
          "signed text names no reference of ours: threads to A for reading, must not acknowledge it", d)

    # 032 ------------------------------------------------------------------ hostile: truncated armor
    arm = c.sign_encrypt(b"Content-Type: text/plain\r\n\r\nVi har modtaget " + rA.encode() + b"\r\n").decode().splitlines()
    arm = "\n".join(arm[:max(3, len(arm) // 2)]) + "\n"
    ctype, body = c.encrypted(arm.encode())
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), mA, mA, ctype=ctype) + b"\r\n" + body
    c.add("hostile-truncated-armor", "holdout", "malformed", "none", A, False, None,
          "PGP/MIME whose armored ciphertext is cut in half (no CRC, no END line), threaded to A; cannot be read", d)

    # 033 ------------------------------------------------------------------ C: bilingual ack via quoted text, sq detached
    t = ("Hej\n\nVi bekræfter hermed modtagelsen af jeres underretning nedenfor.\n\n"
         "________________________________\n\nHello\n\nWe hereby confirm receipt of your notification below.\n\n"
         "CFCS Netsikkerhedstjenesten\n\n%s" % quote_notification(C, "en"))
    ctype, body = c.signed(text_entity(t), tool="sq")
    d = c.outer("SV: " + C["cleartext_subject"], c.mid(), mC, mC, ctype=ctype) + b"\r\n" + body
    c.add("ack-bilingual-sq-quoted-reference", "holdout", "ack", "good", C, True, "acknowledged",
          "Genuine bilingual receipt on C (Danish, line, English), sq detached signature; reference only in quoted lines of our notification; right after a hostile file", d)

    # 034 ------------------------------------------------------------------ partial: signed question + unsigned attachment
    ent, _, _ = c.saved["qA"]
    ctype, sbody = c.signed(text_entity("Hej\n\nVedr. %s: Udfyld venligst vedhæftede skema og returner det.\n%s" % (rA, sigs)))
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n%%EOF\n"
    mixed_b = "mix_%08x" % c.rng.getrandbits(32)
    ctype2, body = multipart("mixed", [entity(ctype, sbody),
                                       headers([("Content-Type", 'application/pdf; name="skema.pdf"'),
                                                ("Content-Disposition", 'attachment; filename="skema.pdf"'),
                                                ("Content-Transfer-Encoding", "base64")]) + b"\r\n" + b64(pdf)], mixed_b)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid(), mA, mA, ctype=ctype2) + b"\r\n" + body
    c.add("partial-signed-plus-unsigned-attachment", "holdout", "question", "partial", A, False, None,
          "multipart/mixed: a good CERT-signed request on A plus an unsigned PDF attachment", d)

    # 035 ------------------------------------------------------------------ bad: reference swapped A -> B in multipart/signed
    t = "Hej\n\nTak for jeres underretning %s. Den er modtaget og registreret.\n%s" % (rA, sigs)
    ent = text_entity(t, "utf-8", "8bit")
    ctype, body = c.signed(ent)
    body = body.replace(rA.encode(), rB.encode())
    d = c.outer("Re: " + B["cleartext_subject"], c.mid("x"), mB, mB, ctype=ctype) + b"\r\n" + body
    c.add("bad-reference-swapped", "holdout", "ack", "bad", B, False, None,
          "Genuine multipart/signed ack of A with A's reference replaced by B's after signing, threaded to B: BAD signature", d)

    # 036 ------------------------------------------------------------------ signed mail naming only 2026
    t = ("Hej\n\nCFCS har i dag udgivet trusselsvurderingen 'Cybertruslen mod Danmark 2026'.\n"
         "Sagsnr.: 2026\nCase number: 2026\n\nVenlig hilsen\nCFCS\n")
    d = c.outer("CFCS: Trusselsvurdering 2026", c.mid(), None, None, ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t)
    c.add("poison-check-signed-2026", "dev", "unrelated", "good", None, False, None,
          "Genuine CERT-signed mail whose only number is '2026' ('Sagsnr.: 2026'), no reference, no threading: "
          "binds only if the earlier unsigned poisoning was wrongly learnt", d)

    # 037 ------------------------------------------------------------------ A: unsigned closure via case number
    t = "Hej\n\nVi lukker hermed sagen %s. Kontakt os igen, hvis der sker nye udviklinger.\n\nMvh\nCFCS\n" % OTRS
    d = c.outer("[%s] Sagen er lukket" % OTRS, c.mid("otrs"), m_qA, m_qA, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("casenumber-only-unsigned-closure", "dev", "closed", "none", A, False, None,
          "Unsigned closure naming A by the OTRS case number and threaded to the CERT's own message: must not close", d)

    # 038 ------------------------------------------------------------------ replay: ack B re-wrapped in encryption, to C
    ent, sctype, sbody = c.saved["ackB_ent"]
    whole = entity(sctype, sbody)
    ctype, body = c.encrypted(c.sign_encrypt(whole, sign=False))
    d = c.outer("Re: " + C["cleartext_subject"], c.mid("x"), mC, mC, frm="%s <%s>" % ("CFCS", c.addr), ctype=ctype) + b"\r\n" + body
    c.add("replay-ack-B-rewrapped-encrypted-to-C", "holdout", "ack", "good", B, True, None,
          "The genuine multipart/signed ack of B encrypted (unsigned outside) to the reporter by someone else, new Message-ID, threaded to C; "
          "must not acknowledge C, nothing new for B", d)

    # 039 ------------------------------------------------------------------ hostile text: terminal escapes
    t = "Til orientering: \x1b[2J\x1b[31mvi har observeret\x1b[0m aktivitet fra 198.51.100.7 \x1b]0;pwned\x07 mod jeres net.\n\x00\x08\x08\x08\n"
    d = c.outer("Re: " + C["cleartext_subject"] + " \x1b[5m!!", c.mid("x"), mC, mC, frm="x <cert@%s>" % c.dom,
                ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("hostile-terminal-escapes", "holdout", "reply", "none", C, False, None,
          "Unsigned informational mail threaded to C with ANSI/OSC escapes, NUL and backspaces in subject and body: "
          "recorded as a reply, escapes sanitised, never a crash", d)

    # 040 ------------------------------------------------------------------ C: by Jira key only, sq cleartext
    t = ("Hi\n\n%s: we have analysed the sample you sent. It is a known Akira variant; a decryptor is not available.\n"
         "We recommend restoring from offline backups.\n\nCFCS Network Security Service\n" % JIRA)
    d = c.outer("[JIRA] (%s) Comment added" % JIRA, c.mid("jira"), None, None, frm="CFCS Service Desk <%s>" % c.addr,
                ctype="text/plain; charset=utf-8") + b"\r\n" + c.sq_clearsign(t)
    c.add("casenumber-only-signed-jira-sq", "holdout", "reply", "good", C, True, "acknowledged",
          "Genuine sq cleartext-signed comment naming C only by the Jira key %s learnt earlier; right after a hostile file" % JIRA, d)

    # 041 ------------------------------------------------------------------ partial: third part in multipart/signed
    t = "Hej\n\nHermed kvittering for modtagelse af jeres underretning %s.\n%s" % (rB, sigs)
    ent = text_entity(t)
    sig = c.detach(ent)
    sb = "sig_%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("signed", [ent, SIG_PART_HEAD + crlf(sig),
                                       text_entity("PS: Opdatér venligst jeres kontaktoplysninger.\n", "utf-8", "7bit")], sb,
                            '; micalg="pgp-sha512"; protocol="application/pgp-signature"')
    d = c.outer("Re: " + B["cleartext_subject"], c.mid("x"), mB, mB, ctype=ctype) + b"\r\n" + body
    c.add("partial-third-part-in-multipart-signed", "dev", "ack", "partial", B, False, None,
          "multipart/signed with a good signature over the first part and an unsigned third text/plain part after the signature", d)

    # 042 ------------------------------------------------------------------ unsigned, From not the CERT's
    t = "Hej\n\nVi har modtaget jeres underretning %s og sagen er under behandling.\n\nMed venlig hilsen\nCFCS Vagtcentral\n" % rB
    d = c.outer("Re: " + B["cleartext_subject"], c.mid("x"), mB, mB, frm="CFCS Vagtcentral <vagt@cfcs-dk.test>",
                ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("spoof-unsigned-from-lookalike-domain", "dev", "ack", "none", B, False, None,
          "Unsigned ack of B From vagt@cfcs-dk.test (not the CERT's address), threaded to B", d)

    # 043 ------------------------------------------------------------------ poisoning: [cfcs.dk #55555] unsigned on A
    t = "Hej\n\nDin henvendelse er registreret som [cfcs.dk #55555].\n\nMvh\nCFCS\n"
    d = c.outer("[cfcs.dk #55555] Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("poison-unsigned-rt-55555", "holdout", "ack", "none", A, False, None,
          "Unsigned RT-style registration '[cfcs.dk #55555]' threaded to A: must not become A's case number", d)

    # 044 ------------------------------------------------------------------ replay: ack B converted to inline PGP, to A
    ent, sctype, sbody = c.saved["ackB_ent"]
    sig_b = sbody.split(b"-----BEGIN PGP SIGNATURE-----")[1].split(b"-----END PGP SIGNATURE-----")[0]
    sigpkt = dearmor(b"-----BEGIN PGP SIGNATURE-----" + sig_b + b"-----END PGP SIGNATURE-----")
    lit = new_packet(11, b"b\x00\x00\x00\x00\x00" + ent)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype="text/plain; charset=us-ascii") + b"\r\n" + armor(sigpkt + lit)
    # Corrected after the first run (see README, "Corrections"): a PGP 2.x-style signed message
    # (signature before the literal data, no one-pass packet) is not verified by certmail: "bad",
    # threaded to A for reading, never trusted.
    c.add("replay-ack-B-as-inline-pgp-to-A", "dev", "ack", "bad", A, False, None,
          "The RT ack of B's signed MIME entity and its detached signature turned into an inline signed PGP message "
          "(signature packet + literal data), new Message-ID, threaded to A: good signature over content naming B; nothing new for B, not A", d)

    # 045 ------------------------------------------------------------------ English OOO (Exchange)
    t = ("I am out of the office until 1 December with limited access to e-mail.\n"
         "For urgent matters please contact the duty officer at +45 3332 5580.\n")
    alt_b = "_000_AM0PR07MB%05d_" % c.rng.randint(0, 99999)
    ctype, body = multipart("alternative", [text_entity(t, "us-ascii", "7bit"), text_entity(html_of(t), "us-ascii", "7bit", ctype="text/html")], alt_b)
    d = c.outer("Automatic reply: " + A["cleartext_subject"], c.mid(), mA, mA, frm="Peter Lund <peter.lund@%s>" % c.dom,
                extra=[("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                       ("X-MS-Exchange-Inbox-Rules-Loop", "peter.lund@" + c.dom)], ctype=ctype) + b"\r\n" + body
    c.add("auto-reply-en-exchange", "holdout", "auto-reply", "none", A, False, None,
          "Exchange 'Automatic reply' (Auto-Submitted: auto-generated), text+HTML, threaded to A", d, eol="crlf")

    # 046 ------------------------------------------------------------------ partial: signed closure + unsigned html alt
    t = "Hej\n\nVi lukker hermed sagen vedr. %s, da jeres håndtering er afsluttet.\n%s" % (rC, sigs)
    sctype, sbody = c.signed(text_entity(t))
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("alternative", [entity(sctype, sbody), text_entity(html_of(t), "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    d = c.outer("Re: " + C["cleartext_subject"], c.mid("x"), mC, mC, ctype=ctype) + b"\r\n" + body
    c.add("partial-signed-closure-unsigned-html", "holdout", "closed", "partial", C, False, None,
          "multipart/alternative: good multipart/signed closure of C and an unsigned text/html alternative: must not close C", d)

    # 047 ------------------------------------------------------------------ whole token check
    t = ("Hej\n\nVedr. sag [cfcs.dk #482131] og CFCS-11870: vi har modtaget jeres underretning og sagen er oprettet.\n"
         "Ticket#20261120100001234\n\nMvh\nCFCS\n")
    d = c.outer("[cfcs.dk #482131] Modtaget", c.mid("rt"), None, None, to="it@tredje-firma.test",
                ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t)
    c.add("whole-token-near-miss-case-numbers", "dev", "unrelated", "good", None, False, None,
          "Genuine CERT-signed ack to another organisation naming #482131, CFCS-11870 and Ticket#20261120100001234, "
          "which contain our case numbers only as substrings: whole tokens only, binds nothing", d)

    # 048 ------------------------------------------------------------------ poison check: signed [cfcs.dk #55555]
    t = "Hej\n\nVedr. [cfcs.dk #55555]: vi har modtaget jeres underretning og sagen er oprettet.\n\nMvh\nCFCS\n"
    d = c.outer("[cfcs.dk #55555] Modtaget", c.mid("rt"), None, None, ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t)
    c.add("poison-check-signed-rt-55555", "holdout", "unrelated", "good", None, False, None,
          "Genuine CERT-signed ack naming only '[cfcs.dk #55555]' (never learnt from a good bound reply): binds nothing", d)

    # 049 ------------------------------------------------------------------ unrelated newsletter
    t = ("CFCS Nyhedsbrev november 2026\n\n* Øget phishing-aktivitet mod danske kommuner\n* Ny vejledning om logning\n\n"
         "Afmeld: https://nyhedsbrev.example-cert.test/afmeld\n")
    d = c.outer("CFCS Nyhedsbrev - november", c.mid(), None, None, frm="CFCS Nyhedsbrev <nyhedsbrev@%s>" % c.dom,
                extra=[("List-Unsubscribe", "<https://nyhedsbrev.example-cert.test/afmeld>"), ("Precedence", "bulk")],
                ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("unrelated-newsletter", "dev", "unrelated", "none", None, False, None, "Unsigned CFCS newsletter, no threading", d)

    # 050 ------------------------------------------------------------------ bounce (Exim) about C
    host = "mx." + c.dom
    status = ("Reporting-MTA: dns; %s\n\nAction: failed\nFinal-Recipient: rfc822;%s\nStatus: 5.2.2\n"
              "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\n" % (host, c.addr))
    orig = ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\nDate: %s\nMIME-Version: 1.0\n"
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"=_certmail_y\"\n\n"
            "--=_certmail_y\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--=_certmail_y--\n"
            % (c.rep, c.addr, C["cleartext_subject"], mC, email.utils.format_datetime(c.now)))
    ctype, body = multipart("report", [
        text_entity("This message was created automatically by mail delivery software.\n\nA message that you sent could not be "
                    "delivered to one or more of its recipients. This is a permanent error.\n\n  %s\n    mailbox is full\n" % c.addr,
                    "us-ascii", "7bit"),
        b"Content-Type: message/delivery-status\r\n\r\n" + crlf(status.encode()),
        b"Content-Type: message/rfc822\r\n\r\n" + crlf(orig.encode())], "1732091999-eximdsn-1804289383", "; report-type=delivery-status")
    d = headers([("Return-Path", "<>"), ("From", "Mail Delivery System <Mailer-Daemon@%s>" % host), ("To", c.rep),
                 ("Subject", "Mail delivery failed: returning message to sender"), ("Date", c.date()),
                 ("Message-Id", "<E1tDx3Q-0004Zk-2S@%s>" % host), ("Auto-Submitted", "auto-replied"),
                 ("MIME-Version", "1.0"), ("Content-Type", ctype)]) + b"\r\n" + body
    c.add("bounce-exim-dsn-rfc822", "holdout", "bounce", "none", C, False, None,
          "Exim DSN (multipart/report, message/delivery-status, 5.2.2) returning C's notification as message/rfc822", d)

    # 051 ------------------------------------------------------------------ replay: question A, new Message-ID
    ent, qbody, qctype = c.saved["qA"]
    d = c.outer("[%s] Re: %s" % (OTRS, A["cleartext_subject"]), c.mid("otrs"), mA, mA, ctype=qctype) + b"\r\n" + qbody
    c.add("replay-question-A-new-message-id", "holdout", "question", "good", A, True, None,
          "The genuine OTRS question on A (already answered by later events) replayed with a new Message-ID: nothing new", d)

    # 052 ------------------------------------------------------------------ duplicate: question C + extra Received
    dq = c.saved["qC"]
    d = b"Received: from relay2.%s (relay2 [198.51.100.20]) by mail.%s; %s\r\nReceived: from mx.%s by relay2.%s; %s\r\n" % (
        c.rep.split("@")[1].encode(), c.rep.split("@")[1].encode(), c.date().encode(), c.dom.encode(),
        c.rep.split("@")[1].encode(), c.date().encode()) + dq
    c.add("dup-question-C-extra-received", "dev", "question", "good", C, True, None,
          "Exact duplicate of the encrypted question on C with two extra Received headers from another MTA: changes nothing", d, eol="crlf")

    # 053 ------------------------------------------------------------------ partial inside encryption
    sctype, sbody = c.signed(text_entity("Hej\n\nVi har modtaget jeres underretning %s.\n%s" % (rA, sigs)))
    mixed_b = "mix_%08x" % c.rng.getrandbits(32)
    mctype, mbody = multipart("mixed", [entity(sctype, sbody),
                                        text_entity("Send venligst jeres VPN-konfiguration som svar på denne mail.\n", "utf-8", "7bit")], mixed_b)
    ctype, body = c.encrypted(c.sign_encrypt(entity(mctype, mbody), sign=False))
    d = c.outer("Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype=ctype) + b"\r\n" + body
    # Corrected after the first run (see README, "Corrections"): kind follows the signed part, as in 041.
    c.add("partial-inside-encryption", "dev", "ack", "partial", A, False, None,
          "PGP/MIME encrypted (unsigned outside) holding multipart/mixed: a good CERT-signed receipt of A plus an unsigned request part", d)

    # 054 ------------------------------------------------------------------ signed by CERT key, From a personal address
    t = ("Hej\n\nJeg er vagthavende i aften og følger %s. Jeres seneste opdatering er noteret.\n\nVenlig hilsen\nLars\n" % rB)
    d = c.outer("Re: " + B["cleartext_subject"], c.mid(), mB, mB, frm="Lars Vagt <lars.vagt@%s>" % c.dom,
                ctype="text/plain; charset=utf-8") + b"\r\n" + c.clearsign(t)
    c.add("signed-by-cert-key-from-personal-address", "holdout", "reply", "good", B, True, "acknowledged",
          "Genuine note on B signed by the pinned CERT key but From a duty officer's own address (lars.vagt@, not the CERT address); "
          "the signature decides, not From", d)

    # 055 ------------------------------------------------------------------ unsigned EN ack, text+html
    t = "Dear customer,\n\nWe have received your notification %s. It has been assigned to an analyst.\n\nCFCS\n" % rB
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("alternative", [text_entity(t), text_entity(html_of(t), ctype="text/html")], alt_b)
    d = c.outer("RE: " + B["cleartext_subject"], c.mid("x"), mB, mB, ctype=ctype) + b"\r\n" + body
    c.add("spoof-unsigned-ack-en-html", "holdout", "ack", "none", B, False, None,
          "Unsigned English 'We have received your notification' with text and HTML alternatives, threaded to B", d)

    # 056 ------------------------------------------------------------------ cross-org EN sq multipart/signed
    t = "Hello\n\nThis confirms receipt of your notification [CM-2026-0014] regarding a DDoS attack. We are looking into it.\n\nCFCS\n"
    ctype, body = c.signed(text_entity(t), tool="sq")
    d = c.outer("Re: [CM-2026-0014] Encrypted message", c.mid(), "<cm-2026-0014@tredje-firma.test>", None,
                to="soc@tredje-firma.test", ctype=ctype) + b"\r\n" + body
    c.add("crossorg-ack-en-sq", "holdout", "unrelated", "good", None, False, None,
          "Genuine CERT-signed (sq) receipt of a third organisation's [CM-2026-0014]; nothing of ours", d)

    # 057 ------------------------------------------------------------------ phishing
    t = ("Kære bruger\n\nDin postkasse er fuld. Klik her for at bekræfte din konto: http://login.angriber.test/owa\n")
    d = c.outer("Din postkasse er fuld", c.mid("x"), None, None, frm="IT Support <support@angriber.test>",
                ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("unrelated-phishing", "holdout", "unrelated", "none", None, False, None, "Unsigned phishing, no threading", d)

    # 058 ------------------------------------------------------------------ B: question EN, base64 multipart/signed
    t = ("Hello\n\nRegarding %s: could you share the IOCs you have collected so far (hashes, C2 addresses,\n"
         "the phishing sender) so we can warn other constituents\n\nThanks\nCFCS Network Security Service\n" % RT)
    ctype, body = c.signed(text_entity(t, "utf-8", "base64",
                                       extra=[("Content-Disposition", "inline")]))
    d = c.outer("%s IOCs" % RT, c.mid("rt"), m_ackB, m_ackB, ctype=ctype) + b"\r\n" + body
    c.add("question-en-rt-base64-no-questionmark", "dev", "question", "good", B, True, "question",
          "Genuine English 'could you share the IOCs' without a question mark on B, base64 multipart/signed, bound by the RT case number", d)

    # 059 ------------------------------------------------------------------ A closed
    t = ("Hej\n\nVi lukker hermed sagen %s vedr. %s, da hændelsen er håndteret.\n"
         "Tak for et godt samarbejde.\n\nMed venlig hilsen\nCFCS Netsikkerhedstjenesten\n" % (OTRS, rA))
    ctype, body = c.signed(text_entity(t, "utf-8", "base64"))
    m_clA = c.mid("otrs")
    d = c.outer("[%s] Sagen er lukket" % OTRS, m_clA, m_qA, m_qA, ctype=ctype) + b"\r\n" + body
    c.saved["clA"] = d
    c.add("closed-da-otrs", "dev", "closed", "good", A, True, "closed",
          "Genuine OTRS closure of A ('Vi lukker hermed sagen'), base64 multipart/signed", d)

    # 060 ------------------------------------------------------------------ B closed, thanks too
    t = ("Hello\n\nThank you for your notification %s. This ticket has been resolved and is now closed.\n"
         "If you have further information, reply to this e-mail and the ticket will be reopened.\n\n"
         "CFCS Network Security Service\n\n%s" % (RT, quote_notification(B, "en")))
    ctype, body = c.signed(text_entity(t), tool="sq")
    d = c.outer("%s Resolved: %s" % (RT, B["cleartext_subject"]), c.mid("rt"), m_ackB, m_ackB, ctype=ctype) + b"\r\n" + body
    c.add("closed-en-rt-resolved-with-thanks", "holdout", "closed", "good", B, True, "closed",
          "Genuine RT closure of B that also thanks for the notification (closed wins over ack), sq detached signature", d)

    # 061 ------------------------------------------------------------------ C closed, bilingual, sign+encrypt
    t = ("Hej\n\nSagen %s vedr. %s er hermed afsluttet og lukket fra vores side.\n\n-----\n\n"
         "Hello\n\nYour request %s has been resolved and closed.\n\nCFCS\n" % (JIRA, rC, JIRA))
    inner = text_entity(t, extra=[("Subject", "Re: [JIRA] (%s) %s" % (JIRA, C["title"])), ("In-Reply-To", mC)])
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", c.mid("jira"), None, None, ctype=ctype) + b"\r\n" + body
    c.add("closed-bilingual-jira-signencrypt", "dev", "closed", "good", C, True, "closed",
          "Genuine bilingual Jira closure of C, signed+encrypted PGP/MIME with protected Subject/In-Reply-To", d)

    # 062 ------------------------------------------------------------------ dup closure A, CRLF, extra Received
    d = b"Received: from backup-mx.%s by mail.%s; %s\r\n" % (c.dom.encode(), c.rep.split("@")[1].encode(), c.date().encode()) + c.saved["clA"]
    c.add("dup-closed-A-crlf-extra-received", "holdout", "closed", "good", A, True, None,
          "Exact duplicate of A's closure with CRLF line ends and an extra Received header: changes nothing", d, eol="crlf")

    # 063 ------------------------------------------------------------------ unsigned reopen after close
    t = ("Hej\n\nVi genåbner sagen %s, da vi har set ny aktivitet fra jeres IP-område.\n"
         "Kan I bekræfte, at de berørte servere fortsat er isoleret?\n\nMvh\nCFCS\n" % rA)
    d = c.outer("Re: " + A["cleartext_subject"], c.mid("x"), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + t.encode()
    c.add("unsigned-reopen-after-close", "dev", "question", "none", A, False, None,
          "Unsigned 'we reopen the case, can you confirm ...?' on closed A: a question by its text, changes nothing", d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.manifest, encoding="utf-8") as f:
        m = json.load(f)
    if len(m["incidents"]) < 3:
        raise SystemExit("manifest needs at least 3 incidents")
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="certmail-corpus-")
    c = None
    try:
        c = Corpus(m, a.out, tmp)
        build(c)
        c.write_expected()
        print("wrote %d messages and expected.json to %s" % (len(c.cases), a.out))
    finally:
        if c:
            c.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
