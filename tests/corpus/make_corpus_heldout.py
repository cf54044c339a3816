#!/usr/bin/env python3
"""Blind held-out reply corpus for certmail's ingest: set "heldout".

Written without reading certmail's classifier or ingest code (nothing under src/, fuzz/ or
tests/integration/ but support.rs), from how national and sector CERTs (CFCS, CERT-EU,
NCSC-NL, CERT.at, Danish sector CERTs), their duty officers on phones, their ticketing
systems, out-of-office responders and MTAs write mail, and how an attacker re-uses it:

- genuine replies, each signed by the pinned CERT key over the whole message and naming its
  incident in what the signature covers (new wordings: formal letters with "Vedrørende:" and
  "Re:" lines, numbered questions, "Vi mangler ...", "It would help us to know ...", hedged
  closures, "keep the ticket open", mixed Danish and English, one-line phone replies, quoted
  reports, emoji, non-breaking spaces, Windows-1252 smart quotes, format=flowed, an
  image-only signature, host names, IP addresses, versions, abbreviations);
- adversarial mail that must change nothing: unsigned mail in perfect CERT wording, a
  genuine CERT-signed reply about another organisation's incident with our reference only in
  the unsigned Subject, signatures by keys that are not pinned, good signed content that
  names nothing of ours and is threaded by In-Reply-To only, a replay of a case of this set,
  a genuine ack forwarded as a message/rfc822 attachment inside an unsigned mail;
- automatic mail: Danish out-of-office with and without Auto-Submitted, MTA delay notices
  (RFC 3464 Action: delayed, not a bounce).

    python3 tests/corpus/make_corpus_heldout.py --manifest manifest.json --out DIR

Same manifest and output contract as make_corpus.py and make_corpus_wordings.py (see
tests/corpus/README.md), run against three fresh notifications of its own (a new certmail
home). Each incident's closure is its last message; nothing touches an incident after it.
"""

import argparse
import datetime as dt
import email.utils
import hashlib
import json
import os
import quopri
import random
import shutil
import struct
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True  # importing make_corpus must leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpus as mc  # noqa: E402  (helpers only; its cases are not made here)
from make_corpus import crlf, lf, b64, qp, headers, text_entity, entity, multipart  # noqa: E402

SET = "heldout"
STATE = {"ack": "acknowledged", "reply": "acknowledged", "question": "question", "closed": "closed"}

DA_MON_SHORT = ["jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Case numbers the genuine replies carry (learnt by certmail, perhaps; no case depends on them:
# every bound case names its incident's reference in the signed content).
SAGSNR_A = "CFCS-2026-8840"                 # A: "Sagsnr.:" in CFCS' formal receipt (001)
TICKET_C = "Ticket#2026120210000418"        # C: SektorCERT's Znuny-style ticket (003)

NBSP = "\u00a0"

CFCS_LETTER = ("\nMed venlig hilsen\n\nLouise Brandt\nChefkonsulent, Netsikkerhedstjenesten\n\n"
               "Center for Cybersikkerhed\nKastellet 30\n2100 København Ø\n"
               "Vagt:" + NBSP + "+45" + NBSP + "3332" + NBSP + "5580\n\n"
               "Sikker kommunikation: Denne meddelelse er alene tiltænkt adressaten. Har du modtaget den ved\n"
               "en fejl, beder vi dig give os besked og slette den uden at gøre brug af indholdet.\n")
CERT_EU_SIG = ("\nKind regards,\n\nCERT-EU Duty Officer\n"
               "Cybersecurity Service for the Union institutions, bodies, offices and agencies\n"
               "Rue de la Loi 107, 1049 Brussels | +32 2 299 00 05\n")
CERT_AT_SIG = ("\n-- \n// CERT Austria - https://www.cert.at/\n// Eine Initiative der nic.at GmbH - https://www.nic.at/\n"
               "// Firmenbuchnummer 172568b, LG Salzburg\n")
SEKTOR_SIG = "\nVenlig hilsen\nMikkel\nSektorCERT · Vagtcentralen\n"


def da_apple_attr(d, who, addr):
    return "Den %d. %s %d kl. %02d.%02d skrev %s <%s>:" % (d.day, DA_MON_SHORT[d.month - 1], d.year, d.hour, d.minute,
                                                           who, addr)


def en_outlook_mobile_date(d):
    h = d.hour % 12 or 12
    return "%s, %s %d, %d %d:%02d:%02d %s" % (EN_DAYS[d.weekday()], EN_MONTHS[d.month - 1], d.day, d.year, h, d.minute,
                                              d.second, "AM" if d.hour < 12 else "PM")


def quote(text, prefix="> "):
    return "".join((prefix + l if l else prefix.rstrip()) + "\n" for l in text.rstrip("\n").split("\n"))


def flowed(paragraphs, width=72):
    """format=flowed (RFC 3676, DelSp=no): each paragraph wrapped at `width`, soft breaks end in a space."""
    out = []
    for p in paragraphs:
        if p == "":
            out.append("")
            continue
        words, line = p.split(" "), ""
        for w_ in words:
            if line and len(line) + 1 + len(w_) > width - 1:
                out.append(line + " ")
                line = w_
            else:
                line = w_ if not line else line + " " + w_
        out.append(line)
    return "\n".join(out) + "\n"


def tiny_png(w=120, h=40, rgb=(0, 51, 102)):
    """A real, small PNG (one colour), as an image-only e-mail signature would be."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def other_reference(rng, ours):
    """A new-style certmail reference of another organisation (Crockford base32, 60 bits)."""
    alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    while True:
        r = "CM-" + "-".join("".join(rng.choice(alpha) for _ in range(4)) for _ in range(3))
        if r not in ours:
            return r


class Heldout:
    """Adds cases and enforces the README contract on them as they are made."""

    def __init__(self, c):
        self.c = c
        self.seen = {}        # sha256 of signed content -> file of the case that first carried it
        self.closed = set()   # incidents whose closure has been made: nothing may follow

    def add(self, name, kind, sig, inc, bound, desc, data, signed=None, replay=False, eol="lf"):
        ref = inc["reference"] if isinstance(inc, dict) else inc
        assert ref not in self.closed, "%s: incident touched after its closure" % name
        assert not bound or sig == "good", name
        state = None
        if signed is not None and sig == "good":
            h = hashlib.sha256(signed).hexdigest()
            if replay:
                assert h in self.seen, "%s: replay of nothing" % name
            else:
                assert h not in self.seen, "%s: signed content reused (that would be a replay)" % name
                self.seen[h] = name
        if bound and not replay:
            state = STATE[kind]
        if state == "closed":
            self.closed.add(ref)
        self.c.add(name, SET, kind, sig, inc, bound, state, desc, data, eol=eol)


def build(c, extra_keys):
    w = Heldout(c)
    A, B, C = c.A, c.B, c.C
    rA, rB, rC = A["reference"], B["reference"], C["reference"]
    mA, mB, mC = c.mid_of(A), c.mid_of(B), c.mid_of(C)
    sA, sB, sC = A["cleartext_subject"], B["cleartext_subject"], C["cleartext_subject"]
    dom, rep, addr = c.dom, c.rep, c.addr
    rdom = rep.split("@")[1]
    sent = c.now - dt.timedelta(minutes=35)   # when "we" wrote what the CERT quotes
    certat_key = extra_keys["certat"][0]

    def mid_apple():
        return "<%08X-%04X-%04X-%04X-%012X@%s>" % (c.rng.getrandbits(32), c.rng.getrandbits(16), c.rng.getrandbits(16),
                                                   c.rng.getrandbits(16), c.rng.getrandbits(48), dom)

    def mid_outlook():
        return "<DB9PR07MB%04d%08X%s@DB9PR07MB%04d.eurprd07.prod.outlook.com>" % (
            c.rng.randint(0, 9999), c.rng.getrandbits(32), "".join(c.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                                                  for _ in range(6)), c.rng.randint(0, 9999))

    outlook_da = [("X-Mailer", "Microsoft Outlook 16.0"), ("Content-Language", "da-DK"), ("Thread-Index", "AdtE3kq1f2s8x0YwQmG7")]

    # ======================================================================== phase 1: receipts, questions and
    # replies on A, B and C, interleaved with adversarial and automatic mail; closures last (phase 2).

    # 001 ---------------------------------------------------------------- A: CFCS formal letter, "Vedrørende:", Sagsnr.
    t = ("Vedrørende: Jeres underretning om en sikkerhedshændelse, ref. %s\n\n"
         "Center for Cybersikkerhed bekræfter hermed at have modtaget jeres underretning i dag\n"
         "kl.%s%02d.%02d. Underretningen er journaliseret under\n\n"
         "Sagsnr.: %s\n\n"
         "Sagsnummeret bedes anført i emnefeltet ved al videre korrespondance om hændelsen.\n\n"
         "Netsikkerhedstjenestens vagthold er orienteret og vurderer bl.a. omfanget og en eventuel\n"
         "sammenhæng med andre verserende sager. I hører fra os, så snart der foreligger en første\n"
         "vurdering.\n%s" % (rA, NBSP, sent.hour, sent.minute, SAGSNR_A, CFCS_LETTER))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent)
    m_ackA = c.mid()
    d = c.outer("SV: %s [Sagsnr.: %s]" % (sA, SAGSNR_A), m_ackA, mA, mA, frm="Center for Cybersikkerhed <%s>" % addr,
                ctype=ctype, extra=outlook_da) + b"\r\n" + body
    ackA_eml = d
    w.add("ack-da-cfcs-formal-vedroerende-sagsnr", "ack", "good", A, True,
          "CFCS' formal Danish receipt on A: a 'Vedrørende:' line naming the reference, 'bekræfter hermed at have modtaget "
          "jeres underretning i dag kl. HH.MM' (a non-breaking space after 'kl.', the time with a full stop inside it), "
          "'Sagsnr.: %s' (a case number, learnt), 'Sagsnummeret bedes anført i emnefeltet' (an instruction about how "
          "to write, not a request for information) and 'bl.a.'. A receipt: ack. multipart/signed (gpg), QP UTF-8, with "
          "a postal-address letter signature and a confidentiality note" % SAGSNR_A, d, signed=ent)

    # 002 ---------------------------------------------------------------- B: CERT-EU duty desk, English, sq cleartext
    t = ("Dear colleague,\n\nThis is to confirm that your notification %s reached the duty desk this\n"
         "morning and has been logged for triage. An incident handler will be assigned during today's\n"
         "shift; until then the duty officer remains your point of contact.\n\n"
         "Please keep the reference in the subject line whenever you write to us about this.\n%s" % (rB, CERT_EU_SIG))
    cs = c.sq_clearsign(t)
    m_ackB = c.mid()
    d = c.outer("RE: " + sB, m_ackB, mB, mB, frm="CERT-EU Duty Officer <%s>" % addr, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "7bit")]) + b"\r\n" + cs
    w.add("ack-en-certeu-reached-the-duty-desk", "ack", "good", B, True,
          "Receipt on B worded as CERT-EU's duty desk writes it: 'This is to confirm that your notification ... reached "
          "the duty desk this morning and has been logged for triage'. No 'received' verb, but it confirms arrival: ack. "
          "'Please keep the reference in the subject line' is an instruction about how to write, no question. Signed by "
          "the pinned CERT key (the harness has one CERT; the wording is what is tested). sq cleartext signature, 7bit",
          d, signed=cs)

    # 003 ---------------------------------------------------------------- C: SektorCERT, signed+encrypted, Ticket#
    t = ("Hej\n\nTak fordi I meldte det ind. Jeres indmelding %s ligger nu hos os som %s, og\n"
         "vores analytikere er gået i gang med de indikatorer, I sendte med - bl.a. de tre kilde-IP'er i\n"
         "198.51.100.0/24.\n\nI hører fra os i løbet af eftermiddagen.\n%s" % (rC, TICKET_C, SEKTOR_SIG))
    inner = text_entity(t, "utf-8", "quoted-printable")
    enc = c.sign_encrypt(inner)
    ctype, body = c.encrypted(enc)
    m_ackC = c.mid("otrs")
    d = c.outer("[%s] Re: %s" % (TICKET_C, sC), m_ackC, mC, mC, frm="SektorCERT Vagtcentralen <%s>" % addr,
                ctype=ctype, extra=[("X-OTRS-Loop", "yes")]) + b"\r\n" + body
    w.add("ack-da-sektorcert-tak-fordi-i-meldte-det-ind", "ack", "good", C, True,
          "Receipt on C as a Danish sector CERT (SektorCERT-style) writes it: 'Tak fordi I meldte det ind. Jeres indmelding "
          "... ligger nu hos os som %s' and the analysts have started on the indicators ('bl.a.', an address range "
          "198.51.100.0/24). Thanks for the report and a ticket: ack. Signed+encrypted PGP/MIME, QP inside" % TICKET_C,
          d, signed=inner)

    # 004 ---------------------------------------------------------------- B: Danish out-of-office, Auto-Submitted
    t = ("Jeg er på ferie til og med fredag den 18. december og er tilbage på kontoret mandag den 21.\n\n"
         "Din mail bliver ikke videresendt. Drejer det sig om en sikkerhedshændelse, så skriv i stedet til\n"
         "%s eller ring til vagten på +45 3332 5580, som er bemandet hele døgnet.\n\n"
         "Venlig hilsen\nNiels Dam\nVagtleder, Netsikkerhedstjenesten\n" % addr)
    d = c.outer("Autosvar: " + sB, mid_outlook(), m_ackB, "%s %s" % (mB, m_ackB), frm="Niels Dam <niels.dam@%s>" % dom,
                ctype="text/plain; charset=utf-8",
                extra=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"),
                       ("Content-Transfer-Encoding", "quoted-printable")] + outlook_da) + b"\r\n" + qp(t)
    w.add("auto-reply-da-autosvar-ferie-auto-submitted", "auto-reply", "none", B, False,
          "Danish out-of-office of a duty team lead on B ('Autosvar:' subject, 'Jeg er på ferie til og med fredag den 18. "
          "december'), Auto-Submitted: auto-replied, unsigned, threaded by In-Reply-To/References and the subject tag. "
          "'så skriv i stedet til ... eller ring' points elsewhere, asks for nothing: auto-reply; unsigned, so nothing "
          "changes", d)

    # 005 ---------------------------------------------------------------- A: NCSC-NL-style numbered list, "It would help us to know:"
    t = ("Dear reporter,\n\nThank you for reporting %s to us. We are checking whether the same actor is\n"
         "active at other organisations in our constituency. It would help us to know:\n\n"
         "1. the date and time (UTC) of the first malicious login on the VPN gateway;\n"
         "2. the exact firmware version the gateway ran at the time (FortiOS 7.2.1 or later);\n"
         "3. whether any accounts other than svc-backup were used;\n"
         "4. the contact address given in the ransom note, if there is one.\n\n"
         "Partial answers are very welcome - there is no need to wait until you have all four.\n\n"
         "With kind regards,\n\nNCSC-NL | Incident Response\nTurfmarkt 147, 2511 DP Den Haag\n" % rA)
    qA_cs = c.clearsign(t)
    m_qA = c.mid()
    d = c.outer("Re: " + sA, m_qA, m_ackA, "%s %s" % (mA, m_ackA), frm="NCSC-NL Incident Response <%s>" % addr,
                ctype="text/plain; charset=us-ascii") + b"\r\n" + qA_cs
    w.add("question-en-ncscnl-it-would-help-us-to-know-numbered", "question", "good", A, True,
          "Question on A in NCSC-NL's manner: 'It would help us to know:' followed by a numbered list of four things "
          "(date and time, firmware version 'FortiOS 7.2.1', accounts, the ransom note's contact address), no question "
          "mark anywhere. Asking for information stated as what would help is a request: question. 'Partial answers are "
          "very welcome' invites answers, it does not withdraw the request. gpg clearsigned, 7bit", d, signed=qA_cs)

    # 006 ---------------------------------------------------------------- A: unsigned, perfect CFCS wording
    t = ("Vedrørende: Jeres underretning, ref. %s\n\n"
         "Center for Cybersikkerhed bekræfter modtagelse af jeres underretning. Sagen er journaliseret under\n"
         "Sagsnr.: %s og behandles af Netsikkerhedstjenestens vagthold.\n\n"
         "Med venlig hilsen\n\nLouise Brandt\nChefkonsulent, Netsikkerhedstjenesten\nCenter for Cybersikkerhed\n"
         % (rA, SAGSNR_A))
    d = c.outer("SV: %s [Sagsnr.: %s]" % (sA, SAGSNR_A), c.mid(), mA, mA, frm="Center for Cybersikkerhed <%s>" % addr,
                ctype="text/plain; charset=utf-8", extra=[("Content-Transfer-Encoding", "8bit")] + outlook_da) + b"\r\n" + t.encode()
    w.add("spoof-unsigned-da-cfcs-letter-wording", "ack", "none", A, False,
          "Unsigned receipt on A in CFCS' own letter style (Vedrørende line, 'bekræfter modtagelse', the real Sagsnr. "
          "%s already learnt, the same signer's name), From the CERT's address, threaded to A's notification: the "
          "wording is perfect and it is still unsigned, so nothing changes (ack by its text)" % SAGSNR_A, d)

    # 007 ---------------------------------------------------------------- B: "Vi mangler stadig:" list, no '?'
    t = ("Hej igen\n\nVedr. %s\n\nFor at vi kan få afsenderdomænet spærret hos registraren, mangler vi stadig:\n\n"
         "- de fulde headers fra mindst én af de modtagne mails (gerne som .eml)\n"
         "- ca. hvornår den første medarbejder klikkede på linket\n"
         "- hvilke brugere der har tastet deres adgangskode ind på siden\n\n"
         "Vi ved godt, at I har travlt, så send bare det, I har nu.\n\nVh\nTrine\nFinans CERT, vagten\n" % rB)
    ent = text_entity(t, "utf-8", "base64")
    ctype, body = c.signed(ent)
    m_qB = mid_outlook()
    d = c.outer("SV: " + sB, m_qB, m_ackB, "%s %s" % (mB, m_ackB), frm="Finans CERT vagt <%s>" % addr, ctype=ctype,
                extra=outlook_da) + b"\r\n" + body
    w.add("question-da-vi-mangler-stadig-list", "question", "good", B, True,
          "Danish 'For at vi kan ..., mangler vi stadig:' followed by a dashed list of three things (headers, 'ca.' when "
          "the first click was, which users typed their password) and 'send bare det, I har nu' on B, in a finance "
          "sector CERT's manner. No question mark: stating what is missing and asking to send it is a request for "
          "information: question. multipart/signed, base64 UTF-8", d, signed=ent)

    # 008 ---------------------------------------------------------------- C: formal letter, numbered questions with '?'
    t = ("Vedrørende: Jeres indmelding %s\n\nKære kontaktperson\n\n"
         "Som led i den videre behandling af sagen beder vi jer besvare følgende:\n\n"
         "1) Hvornår startede angrebet, og er det stadig i gang?\n"
         "2) Hvilke tjenester er berørt - kun selvbetjeningen, eller f.eks. også jeres API på\n"
         "   api.selvbetjening.example.dk?\n"
         "3) Har I modtaget krav om betaling eller trusler i forbindelse med angrebet?\n"
         "4) Har jeres internetudbyder sat filtrering i gang?\n\n"
         "Svarene kan sendes krypteret til denne adresse.\n\n"
         "Med venlig hilsen\n\nAnders Kofoed\nSeniorkonsulent, Sundheds-CERT\n" % rC)
    cs = c.clearsign(t, charset="iso-8859-1")
    m_qC = c.mid()
    d = c.outer("SV: " + sC, m_qC, m_ackC, "%s %s" % (mC, m_ackC), frm="Sundheds-CERT <%s>" % addr,
                ctype="text/plain; charset=iso-8859-1",
                extra=[("Content-Transfer-Encoding", "quoted-printable")] + outlook_da) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    w.add("question-da-formal-letter-numbered-questions", "question", "good", C, True,
          "Formal Danish letter on C from a health-sector CERT: 'Vedrørende: Jeres indmelding ...', 'beder vi jer besvare "
          "følgende:' and four numbered questions with question marks (one wrapped after a host name "
          "api.selvbetjening.example.dk, 'f.eks.'): question. Clearsigned ISO-8859-1 sent quoted-printable", d, signed=cs)

    # 009 ---------------------------------------------------------------- A: Postfix delay notice (not a bounce)
    host = "mail." + rdom
    qid = "4Ym2Hq0Lz3z1xK"
    human = ("This is the mail system at host %s.\n\n"
             "####################################################################\n"
             "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
             "####################################################################\n\n"
             "Your message could not be delivered for 4.0 hours.\nIt will be retried until it is 5.0 days old.\n\n"
             "For further assistance, please send mail to postmaster.\n\n"
             "If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n"
             "                   The mail system\n\n<%s>: connect to mx.%s[192.0.2.25]:25: Connection timed out\n"
             % (host, addr, dom))
    later = c.now + dt.timedelta(days=5)
    status = ("Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: %s\nX-Postfix-Sender: rfc822; %s\nArrival-Date: %s\n\n"
              "Final-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\nAction: delayed\nStatus: 4.4.1\n"
              "Diagnostic-Code: X-Postfix; connect to mx.%s[192.0.2.25]:25: Connection timed out\nWill-Retry-Until: %s\n"
              % (host, qid, rep, email.utils.format_datetime(c.now), addr, addr, dom, email.utils.format_datetime(later)))
    orig = ("Return-Path: <%s>\nReceived: by %s (Postfix, from userid 1000) id %s; %s\nFrom: %s\nTo: %s\nSubject: %s\n"
            "Date: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"=_certmail_d\"\n"
            % (rep, host, qid, email.utils.format_datetime(c.now), rep, addr, sA, email.utils.format_datetime(c.now), mA))
    ctype, body = multipart("report", [
        b"Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + crlf(human.encode()),
        b"Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n" + crlf(status.encode()),
        b"Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n" + crlf(orig.encode())],
        "%s.1733140211/%s" % (qid, host), "; report-type=delivery-status")
    d = headers([("Return-Path", "<>"), ("From", "MAILER-DAEMON@%s (Mail Delivery System)" % host), ("To", rep),
                 ("Subject", "Delayed Mail (still being retried)"), ("Date", c.date()),
                 ("Message-Id", "<20261202121011.%s@%s>" % (qid, host)), ("Auto-Submitted", "auto-replied"),
                 ("MIME-Version", "1.0"), ("Content-Type", ctype)]) + b"\r\n" + body
    w.add("auto-reply-postfix-delayed-mail-dsn", "bounce", "none", A, False,
          "Postfix delay warning about A's notification: 'Delayed Mail (still being retried)', 'THIS IS A WARNING ONLY. "
          "YOU DO NOT NEED TO RESEND', multipart/report with message/delivery-status 'Action: delayed', 'Status: 4.4.1', "
          "Will-Retry-Until, and A's notification headers (Subject tag, Message-ID) in text/rfc822-headers, which thread "
          "it to A. Decided: auto-reply, not bounce: nothing failed (RFC 3464 'delayed' is not 'failed'), so the "
          "notification must not become bounced; it is automatic (Auto-Submitted, MAILER-DAEMON) and says nothing from "
          "the CERT. Unsigned: nothing changes", d)

    # 010 ---------------------------------------------------------------- A: CERT.at-style information, URL with '?', host names
    t = ("Hello,\n\nregarding %s: one of the C2 addresses in your report, 203.0.113.77, is hosted at an\n"
         "Austrian provider. We have informed them and asked for the server to be taken offline; if they\n"
         "hand us a disk image we will share the findings with you.\n\n"
         "The same infrastructure is described in our warning at\n"
         "https://www.cert.at/de/warnungen/2026/12/?id=4471&lang=en - the loader drops update.ps1 into\n"
         "C:\\ProgramData and talks to cdn-sync.updates-check.example.net on port 8443. In every case we know\n"
         "of, the entry point was a gateway running FortiOS 7.2.1 or older.\n\nBest regards,\nRobert\n%s"
         % (rA, CERT_AT_SIG))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent, tool="sq")
    m_infA = c.mid()
    d = c.outer("Re: " + sA, m_infA, m_qA, "%s %s %s" % (mA, m_ackA, m_qA), frm="CERT.at (Robert) <%s>" % addr,
                ctype=ctype) + b"\r\n" + body
    w.add("reply-en-certat-c2-hosted-url-with-query", "reply", "good", A, True,
          "Information on A in CERT.at's manner (lower-case 'regarding' after the greeting, the '// CERT Austria' footer "
          "after '-- '): the C2 address 203.0.113.77 is hosted in Austria and the provider was asked to take it down; a "
          "URL with '?id=4471&lang=en', a Windows path, a host name with dots (cdn-sync.updates-check.example.net), "
          "'FortiOS 7.2.1'. No receipt wording, no request, no closure: reply. multipart/signed (sq), QP UTF-8",
          d, signed=ent)

    # 011 ---------------------------------------------------------------- B: "Got it – on it", Outlook for iOS
    ours = ("Hi,\n\nplease find attached the headers of the three phishing mails for %s, as you asked.\n"
            "The first click was at 08:12 local time.\n\nBest regards\nSOC\n" % rB)
    t = ("Got it \u2013 on it.\n\nPeter\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
         "________________________________\nFrom: SOC <%s>\nSent: %s\nTo: CERT Duty <%s>\nSubject: %s\n\n%s"
         % (rep, en_outlook_mobile_date(sent), addr, sB, ours))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent, tool="sq")
    d = c.outer("Re: " + sB, mid_outlook(), m_qB, "%s %s %s" % (mB, m_ackB, m_qB), frm="Peter Lund <%s>" % addr,
                ctype=ctype, extra=[("X-Mailer", "Outlook for iOS")]) + b"\r\n" + body
    w.add("ack-en-got-it-on-it-outlook-ios", "ack", "good", B, True,
          "Three-word English phone receipt on B, 'Got it \u2013 on it.' (en dash), 'Get Outlook for iOS' with its link in "
          "angle brackets, then our follow-up under Outlook mobile's 'From:/Sent:/To:/Subject:' block (not '>'-prefixed; "
          "'as you asked' is ours). Receipt: ack. The reference is in the quoted Subject and text, inside the signed "
          "part. multipart/signed (sq), QP UTF-8", d, signed=ent)

    # 012 ---------------------------------------------------------------- C: genuine CERT-signed ack of ANOTHER organisation; ours in Subject only
    oref = other_reference(c.rng, {rA, rB, rC})
    t = ("Hej Andet Firma A/S\n\nVi har modtaget jeres underretning %s om et overbelastningsangreb mod jeres\n"
         "webshop og har oprettet en sag. Vagten kontakter jer, hvis der bliver brug for mere.\n\n"
         "Med venlig hilsen\nCFCS Netsikkerhedstjenesten\n" % oref)
    cs = c.clearsign(t)
    d = c.outer("Re: " + sC, c.mid("x"), None, None, frm="CFCS Netsikkerhedstjenesten <%s>" % addr,
                ctype="text/plain; charset=utf-8", extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + cs
    w.add("crossorg-signed-ack-our-ref-only-in-subject", "ack", "good", C, False,
          "A genuine CERT-signed receipt of ANOTHER organisation's notification %s (same kind of attack as C), re-sent to "
          "us with C's '[%s] Encrypted message' as the unsigned Subject and no In-Reply-To/References. The signature "
          "is good, but what it covers names nothing of ours: not bound, nothing changes. The subject tag threads it to C "
          "for reading, so incident C and kind ack by its text (as make_corpus 031)" % (oref, rC), d, signed=cs)

    # 013 ---------------------------------------------------------------- C: recommendations, "Vi anbefaler bl.a., at I:" + list
    t = ("Hej\n\nVedr. %s\n\nVi har kigget på de trafikdata, I sendte. Angrebet er et klassisk\n"
         "reflektionsangreb (DNS og CLDAP) på ca. 40 Gbit/s mod 192.0.2.80. Vi anbefaler bl.a., at I:\n\n"
         "- beder jeres udbyder om at aktivere scrubbing for hele 192.0.2.0/24\n"
         "- midlertidigt geoblokerer selvbetjening.example.dk for trafik uden for EU\n"
         "- sætter TTL på DNS-posterne ned til 300 sek., så I hurtigt kan flytte tjenesten\n\n"
         "Erfaringen fra lignende sager er, at angriberne giver op efter 2-3 døgn.\n\n"
         "Venlig hilsen\nMikkel\nSektorCERT\n" % rC)
    html = ("<html><body><p>Hej</p>\n<p>Vedr. %s</p>\n<p>Vi har kigget p&aring; de trafikdata, I sendte. Angrebet er et "
            "klassisk reflektionsangreb (DNS og CLDAP) p&aring; ca. 40&nbsp;Gbit/s mod 192.0.2.80. Vi anbefaler bl.a., "
            "at I:</p>\n<ul><li>beder jeres udbyder om at aktivere scrubbing for hele 192.0.2.0/24</li>\n"
            "<li>midlertidigt geoblokerer selvbetjening.example.dk for trafik uden for EU</li>\n"
            "<li>s&aelig;tter TTL p&aring; DNS-posterne ned til 300 sek., s&aring; I hurtigt kan flytte tjenesten</li></ul>\n"
            "<p>Erfaringen fra lignende sager er, at angriberne giver op efter 2-3 d&oslash;gn.</p>\n"
            "<p>Venlig hilsen<br>Mikkel<br>SektorCERT</p></body></html>\n" % rC)
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    actype, abody = multipart("alternative", [text_entity(t, "utf-8", "quoted-printable"),
                                              text_entity(html, "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    ent = entity(actype, abody)
    ctype, body = c.signed(ent)
    d = c.outer("[%s] Anbefalinger" % TICKET_C, c.mid("otrs"), m_qC, "%s %s %s" % (mC, m_ackC, m_qC),
                frm="SektorCERT Vagtcentralen <%s>" % addr, ctype=ctype) + b"\r\n" + body
    w.add("reply-da-anbefaler-bla-colon-list", "reply", "good", C, True,
          "Danish advice on C: 'Vi anbefaler bl.a., at I:' (a sentence ending in ':' with the abbreviation 'bl.a.' just "
          "before it) followed by a list of three recommendations, 'ca. 40 Gbit/s', '300 sek.', IP addresses and a "
          "host name. Recommendations are not a request for information: reply. Signed text+HTML alternative (the HTML "
          "has a <ul> list and entities)", d, signed=ent)

    # 014 ---------------------------------------------------------------- A: "Modtaget, tak" from an iPhone, our report quoted (with questions)
    ours = ("Underretning om sikkerhedshændelse\nReference: %s\nTitel: %s\n\n"
            "Vi har i nat konstateret kryptering af filserveren fs02.corp.example.dk og har isoleret den.\n"
            "Kan I se, om samme C2-adresse er set hos andre? Og har I en kontakt hos hostingudbyderen?\n"
            "Vi vender tilbage med logfiler i løbet af formiddagen.\n\nMvh\nSOC\n" % (rA, A["title"]))
    t = ("Modtaget, tak\n\nMads\n\nSendt fra min iPhone\n\n%s\n\n%s"
         % (da_apple_attr(sent, "SOC", rep), quote(ours)))
    cs = c.clearsign(t)
    d = c.outer("Re: " + sA, mid_apple(), mA, mA, frm="Mads Holm <%s>" % addr, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "8bit"), ("X-Mailer", "iPhone Mail (22B91)")]) + b"\r\n" + cs
    w.add("ack-da-modtaget-tak-iphone-quoted-questions", "ack", "good", A, True,
          "'Modtaget, tak' (no full stop) from an iPhone on A above our report, quoted with '> ' under Apple Mail's "
          "Danish attribution 'Den D. mmm. YYYY kl. HH.MM skrev SOC <...>:'. The quote holds OUR two questions ('Kan I se, "
          "om ...?', 'Og har I en kontakt ...?') and a host name; they are what we said, not what the CERT asks: ack. The "
          "reference is only in the quoted lines, inside the clearsigned text", d, signed=cs)

    # 015 ---------------------------------------------------------------- B: good signature, names nothing, In-Reply-To only
    t = "Tak, det er modtaget. Vi vender tilbage i morgen formiddag.\n\n/Lars\n"
    cs = c.clearsign(t)
    d = c.outer("SV: Encrypted message", mid_apple(), mB, None, frm="Lars Vagt <%s>" % addr,
                ctype="text/plain; charset=utf-8", extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + cs
    w.add("signed-names-nothing-in-reply-to-only", "ack", "good", B, False,
          "A genuine, good CERT-signed 'Tak, det er modtaget. Vi vender tilbage i morgen formiddag.' whose signed text names "
          "no reference, no Message-ID and no case number; only the unsigned In-Reply-To points at B's notification "
          "(the subject tag is gone, no References). Unsigned headers only thread for reading: incident B, kind ack by "
          "its text, not bound, nothing changes. (Decided so even though a real duty officer may well have meant B.)",
          d, signed=cs)

    # 016 ---------------------------------------------------------------- B: Windows-1252 smart quotes, Outlook
    t = ("Hej Jens\n\nDen side, I kalder \u201eMicrosoft 365 \u2013 Bekr\u00e6ft din konto\u201c, er nu taget ned hos "
         "udbyderen,\nog dom\u00e6net login-m365-verify.example.com er sp\u00e6rret hos registraren. Vi har ogs\u00e5 lagt "
         "URL\u2019en\np\u00e5 den f\u00e6lles blokeringsliste \u2026 den bliver st\u00e5ende, s\u00e5 l\u00e6nge kampagnen "
         "k\u00f8rer.\n\nVenlig hilsen\nTrine\nFinans CERT\n\nRef.: %s\n" % rB)
    cs = c.clearsign(t, charset="cp1252")
    d = c.outer("SV: " + sB, mid_outlook(), m_qB, "%s %s %s" % (mB, m_ackB, m_qB), frm="Finans CERT vagt <%s>" % addr,
                ctype="text/plain; charset=windows-1252",
                extra=[("Content-Transfer-Encoding", "quoted-printable")] + outlook_da) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    w.add("reply-da-windows-1252-smart-quotes-taken-down", "reply", "good", B, True,
          "Danish status on B from Outlook in Windows-1252: Danish typographic quotes \u201e...\u201c, an en dash, a "
          "typographic apostrophe (URL\u2019en) and an ellipsis (bytes 0x84 0x93 0x96 0x92 0x85), 'er nu taget ned', the "
          "domain blocked; reference on a 'Ref.:' line at the end. Information only: reply. Clearsigned windows-1252 "
          "sent quoted-printable", d, signed=cs)

    # 017 ---------------------------------------------------------------- A: a real other CERT, signed with its own (not pinned) key
    t = ("Hello,\n\nthank you for your report %s. We have passed the C2 address 203.0.113.77 to the hosting\n"
         "provider in Vienna and will let you know what they say.\n\nBest regards,\nRobert\n%s" % (rA, CERT_AT_SIG))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent, g=certat_key)
    d = c.outer("Re: " + sA, c.mid("x"), mA, mA, frm="CERT.at <reports@cert-at.test>", ctype=ctype) + b"\r\n" + body
    w.add("unknown-signer-other-cert-own-key", "ack", "unknown-signer", A, False,
          "A reply on A as CERT.at would send it itself, From its own address and signed with its own key (made by the "
          "generator, user ID 'CERT.at <reports@cert-at.test>'), which is not the pinned key of the CERT A's "
          "notification went to: unknown-signer, not bound, nothing changes, however genuine it may be. Threaded to A; "
          "'will let you know' is information: reply by its text. multipart/signed", d)

    # 018 ---------------------------------------------------------------- C: receipt with emoji and non-breaking spaces
    t = ("Hej Jens\n\nModtaget \U0001F44D \u2013 tak for de ekstra trafikdata til %s. De er lagt på sagen, og vagten\n"
         "kigger på dem inden kl.\u00a011.00.\n\nMvh\nLine \U0001F6E1\ufe0f\nSektorCERT vagt\u00a0|\u00a0+45\u00a07010\u00a02030\n"
         % rC)
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent)
    d = c.outer("Re: " + sC, mid_apple(), m_qC, "%s %s %s" % (mC, m_ackC, m_qC), frm="Line (SektorCERT) <%s>" % addr,
                ctype=ctype) + b"\r\n" + body
    w.add("ack-da-modtaget-emoji-nbsp", "ack", "good", C, True,
          "Danish receipt on C of our extra traffic data: 'Modtaget \U0001F44D \u2013 tak for de ekstra trafikdata ... De er "
          "lagt på sagen', a thumbs-up and a shield emoji (with variation selector U+FE0F), non-breaking spaces in "
          "'kl.\u00a011.00' and a phone number. Receipt: ack. multipart/signed, QP UTF-8 (4-byte characters)",
          d, signed=ent)

    # 019 ---------------------------------------------------------------- B: unsigned English question in perfect wording
    t = ("Dear colleague,\n\nWith reference to %s: could you send us the list of accounts whose passwords were\n"
         "entered on the phishing page, together with the source IP addresses of the logins that followed?\n"
         "%s" % (rB, CERT_EU_SIG))
    d = c.outer("RE: " + sB, c.mid(), m_ackB, "%s %s" % (mB, m_ackB), frm="CERT-EU Duty Officer <%s>" % addr,
                ctype="text/plain; charset=us-ascii") + b"\r\n" + t.encode()
    w.add("spoof-unsigned-en-question-duty-desk-wording", "question", "none", B, False,
          "Unsigned English question on B in the very wording and signature of the duty desk that acknowledged B (002), "
          "From the CERT's address, In-Reply-To the CERT's own receipt: asks for account names and IPs ('could you ... "
          "?'), question by its text, unsigned: nothing changes (B must not enter the question state)", d)

    # 020 ---------------------------------------------------------------- A: "we'll keep the ticket open for now" (not closed)
    t = ("Hi,\n\nthanks for the update on %s, and good to hear the file server is back from backup.\n\n"
         "As cdn-sync.updates-check.example.net still resolves and the hosting provider has not acted on\n"
         "our request yet, we'll keep the ticket open for now and look at it again on Monday.\n\n"
         "Cheers,\nRobert\n%s" % (rA, CERT_AT_SIG))
    ent = text_entity(t, "us-ascii", "7bit")
    ctype, body = c.signed(ent)
    m_openA = c.mid()
    d = c.outer("Re: " + sA, m_openA, m_infA, "%s %s %s" % (mA, m_qA, m_infA), frm="CERT.at (Robert) <%s>" % addr,
                ctype=ctype) + b"\r\n" + body
    w.add("reply-en-keep-the-ticket-open-for-now", "reply", "good", A, True,
          "English 'we'll keep the ticket open for now and look at it again on Monday' on A: the opposite of a closure "
          "(the ticket stays open), no request, and 'thanks for the update' thanks for our follow-up, not a receipt of "
          "the notification. Decided: reply, not closed and not ack. multipart/signed, 7bit", d, signed=ent)

    # 021 ---------------------------------------------------------------- C: Danish out-of-office WITHOUT Auto-Submitted
    t = ("Hej, og tak for din besked.\n\nJeg er på ferie til og med søndag den 3. januar 2027 og læser ikke mail i perioden.\n"
         "Akutte sager om sikkerhedshændelser håndteres af vagten på +45 7010 2030.\n\n"
         "Godt nytår\nLine\n")
    d = c.outer("Autosvar: Re: " + sC, mid_apple(), m_qC, "%s %s" % (mC, m_qC), frm="Line Vestergaard <line.v@%s>" % dom,
                ctype="text/plain; charset=iso-8859-1",
                extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + t.encode("iso-8859-1")
    w.add("auto-reply-da-autosvar-ferie-no-headers", "auto-reply", "none", C, False,
          "Danish out-of-office on C ('Autosvar:' subject, 'Jeg er på ferie til og med søndag den 3. januar 2027') with NO "
          "Auto-Submitted, Precedence or X-Auto-Response-Suppress header (as a hand-made mail rule sends it), unsigned, "
          "8bit ISO-8859-1. Decided: auto-reply by what it says (the README: out-of-office is auto-reply; the headers "
          "are only the other way to be one). Unsigned: nothing changes", d)

    # 022 ---------------------------------------------------------------- B: mixed Danish/English question
    t = ("Hej Jens,\n\nthanks for the quick update on %s. Kunne I sende os de originale .eml-filer også?\n"
         "We need the full Received chain to see which relay the campaign used. Zip dem gerne med\n"
         "password \"infected\", så de ikke bliver fanget af vores filter.\n\nMvh / Best,\nTrine\n" % rB)
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent, tool="sq")
    m_q2B = mid_outlook()
    d = c.outer("SV: " + sB, m_q2B, m_qB, "%s %s %s" % (mB, m_ackB, m_qB), frm="Finans CERT vagt <%s>" % addr,
                ctype=ctype, extra=outlook_da) + b"\r\n" + body
    w.add("question-mixed-da-en-kunne-i-sende", "question", "good", B, True,
          "A Danish duty officer switching languages mid-sentence on B: 'thanks for the quick update ... Kunne I sende os "
          "de originale .eml-filer også? We need the full Received chain ... Zip dem gerne med password \"infected\"': a "
          "request with a question mark: question. multipart/signed (sq), QP UTF-8", d, signed=ent)

    # 023 ---------------------------------------------------------------- B: look-alike key (same user ID), question
    t = ("Hej\n\nVedr. %s: Vi mangler login til en af jeres administratorkonti i Microsoft 365, så vi selv kan\n"
         "gennemgå logge og spærre de kompromitterede brugere. Send brugernavn og en midlertidig adgangskode\n"
         "som svar på denne mail.\n\nVh\nTrine\nFinans CERT, vagten\n" % rB)
    cs = c.clearsign(t, g=c.look)
    d = c.outer("SV: " + sB, mid_outlook(), m_q2B, "%s %s" % (mB, m_q2B), frm="Finans CERT vagt <%s>" % addr,
                ctype="text/plain; charset=utf-8", extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + cs
    w.add("unknown-signer-lookalike-key-vi-mangler-login", "question", "unknown-signer", B, False,
          "'Vi mangler login til en af jeres administratorkonti ... Send brugernavn og en midlertidig adgangskode' on B, "
          "in the finance CERT's wording of 007, clearsigned by an attacker key carrying the CERT key's user ID (not the "
          "pinned key): unknown-signer, question by its text, nothing changes", d)

    # 024 ---------------------------------------------------------------- C: Danish "lader sagen stå åben" (not closed)
    t = ("Hej\n\nTak for opdateringen på %s. Trafikken er faldet markant siden i går kl.\u00a022.00, men\n"
         "vi lader sagen stå åben et par dage endnu, da samme botnet plejer at vende tilbage efter ca. 48\n"
         "timer.\n\nVenlig hilsen\nMikkel\nSektorCERT\n" % rC)
    cs = c.clearsign(t, charset="iso-8859-1")
    m_openC = c.mid("otrs")
    d = c.outer("[%s] Re: %s" % (TICKET_C, sC), m_openC, m_qC, "%s %s %s" % (mC, m_ackC, m_qC),
                frm="SektorCERT Vagtcentralen <%s>" % addr, ctype="text/plain; charset=iso-8859-1",
                extra=[("Content-Transfer-Encoding", "base64"), ("X-OTRS-Loop", "yes")]) + b"\r\n" + b64(crlf(cs))
    w.add("reply-da-lader-sagen-staa-aaben", "reply", "good", C, True,
          "Danish 'vi lader sagen stå åben et par dage endnu' on C (a non-breaking space in 'kl. 22.00', 'ca. 48 timer' "
          "wrapped across lines): the case stays open, nothing is asked: reply (not closed). Clearsigned ISO-8859-1 "
          "sent base64", d, signed=cs)

    # 025 ---------------------------------------------------------------- A: format=flowed question, e.g./i.e.
    paras = ["Hello again,", "",
             "Thank you for the log excerpts for %s; they arrived fine. Looking at them, the lateral movement "
             "seems to start from the jump host (i.e. jmp01.corp.example.dk, 10.20.0.5) rather than from the VPN "
             "pool, roughly 40 minutes after the first VPN login." % rA, "",
             "It would be very useful to see the Windows Security event log from that host for the 48 hours before "
             "the encryption started, e.g. as an .evtx export. Please also let us know whether the host had EDR "
             "installed at the time.", "",
             "Kind regards,", "Mette Kjær", "NCSC-NL | Incident Response"]
    t = flowed(paras)
    assert max(len(l) for l in t.split("\n")) <= 72 and " \n" in t
    ent = headers([("Content-Type", "text/plain; charset=utf-8; format=flowed; delsp=no"),
                   ("Content-Transfer-Encoding", "quoted-printable")]) + b"\r\n" + qp(t)
    ctype, body = c.signed(ent)
    d = c.outer("Re: " + sA, c.mid(), m_openA, "%s %s %s" % (mA, m_qA, m_openA), frm="NCSC-NL Incident Response <%s>" % addr,
                ctype=ctype, extra=[("User-Agent", "Mozilla Thunderbird")]) + b"\r\n" + body
    w.add("question-en-format-flowed-eg-ie", "question", "good", A, True,
          "English follow-up question on A as Thunderbird sends it: format=flowed (delsp=no), lines wrapped at 72 with a "
          "trailing space on each soft break (QP =20 inside multipart/signed), abbreviations 'i.e.' and 'e.g.' mid-"
          "sentence, a host name and an IP. 'they arrived fine' confirms receipt, then 'It would be very useful to see "
          "... Please also let us know whether ...': requests for information without a question mark: question",
          d, signed=ent)

    # 026 ---------------------------------------------------------------- replay: A's question (005) re-threaded to B
    d = c.outer("Re: " + sB, c.mid("x"), mB, "%s %s" % (mB, m_ackB), frm="NCSC-NL Incident Response <%s>" % addr,
                ctype="text/plain; charset=us-ascii") + b"\r\n" + qA_cs
    w.add("replay-question-A-rethreaded-to-B", "question", "good", A, True,
          "The clearsigned question on A (005, 'It would help us to know:') re-sent byte for byte under a new Message-ID "
          "with B's Subject, In-Reply-To and References. The signed text names A only: incident A, bound, but a replay "
          "(same signed content, new Message-ID and threading): nothing changes, for A (its question is not asked "
          "again) or B", d, signed=qA_cs, replay=True)

    # 027 ---------------------------------------------------------------- B: image-only signature, Outlook multipart/related
    cid = "image001.png@01DB44A2.7C3E9F10"
    t = ("Hej\n\nVedr. %s\n\nTil jeres orientering har vi delt afsenderadresserne og de to URL'er fra kampagnen med\n"
         "de øvrige medlemmer af Finans CERT, så de kan blokere dem. Der er ikke noget, I skal gøre.\n\n"
         "[cid:%s]\n" % (rB, cid))
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>"
            "<body lang=\"DA\"><div class=\"WordSection1\">\n<p class=\"MsoNormal\">Hej</p>\n"
            "<p class=\"MsoNormal\">Vedr. %s</p>\n<p class=\"MsoNormal\">Til jeres orientering har vi delt "
            "afsenderadresserne og de to URL'er fra kampagnen med de &oslash;vrige medlemmer af Finans CERT, s&aring; de "
            "kan blokere dem. Der er ikke noget, I skal g&oslash;re.</p>\n<p class=\"MsoNormal\">&nbsp;</p>\n"
            "<p class=\"MsoNormal\"><img width=\"120\" height=\"40\" src=\"cid:%s\" alt=\"\"></p>\n"
            "</div></body></html>\n" % (rB, cid))
    alt_b = "_000_DB9PR07MB%05d_" % c.rng.randint(0, 99999)
    actype, abody = multipart("alternative", [text_entity(t, "utf-8", "quoted-printable"),
                                              text_entity(html, "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    img = headers([("Content-Type", 'image/png; name="image001.png"'), ("Content-Description", "image001.png"),
                   ("Content-Disposition", 'inline; filename="image001.png"'), ("Content-ID", "<%s>" % cid),
                   ("Content-Transfer-Encoding", "base64")]) + b"\r\n" + b64(tiny_png())
    rel_b = "_004_DB9PR07MB%05d_" % c.rng.randint(0, 99999)
    rctype, rbody = multipart("related", [entity(actype, abody), img], rel_b, '; type="multipart/alternative"')
    ent = entity(rctype, rbody)
    ctype, body = c.signed(ent)
    d = c.outer("SV: " + sB, mid_outlook(), m_q2B, "%s %s %s" % (mB, m_qB, m_q2B), frm="Finans CERT vagt <%s>" % addr,
                ctype=ctype, extra=outlook_da) + b"\r\n" + body
    w.add("reply-da-image-only-signature-related", "reply", "good", B, True,
          "Danish information on B ('Til jeres orientering har vi delt afsenderadresserne ... Der er ikke noget, I skal "
          "gøre.') whose only signature is an inline image: Outlook's multipart/related (multipart/alternative text+HTML "
          "and image001.png by Content-ID, '[cid:...]' in the text part), all inside multipart/signed, so the signature "
          "covers the image too: good. Information only: reply", d, signed=ent)

    # 028 ---------------------------------------------------------------- C: formal English "Re:" line, (a)(b)(c), protected headers
    t = ("Re: Your notification %s - additional information requested\n\nDear Sir or Madam,\n\n"
         "In order to complete our assessment, we would ask you to provide the following:\n\n"
         "(a) the source networks (AS numbers) you have blocked so far;\n"
         "(b) the peak request rate, approx. in requests per second;\n"
         "(c) whether patient-facing services were unavailable, and if so for how long.\n\n"
         "We would be grateful for your answer by 16.00 today.\n\nYours faithfully,\n\n"
         "Dr. Helle Munk\nSundheds-CERT\n" % rC)
    m_q2C = c.mid()
    inner = headers([("Content-Type", 'text/plain; charset=utf-8; protected-headers="v1"'),
                     ("Content-Transfer-Encoding", "quoted-printable"),
                     ("Subject", mc.enc_word("Re: %s - additional information requested" % C["title"])),
                     ("From", "Sundheds-CERT <%s>" % addr), ("To", rep), ("Message-ID", m_q2C),
                     ("In-Reply-To", mC), ("References", mC)]) + b"\r\n" + qp(t)
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", m_q2C, mC, mC, ctype=ctype) + b"\r\n" + body
    w.add("question-en-formal-re-line-we-would-ask-you", "question", "good", C, True,
          "Formal English letter on C: a 'Re: Your notification ... - additional information requested' line, 'we would "
          "ask you to provide the following:' and an (a)(b)(c) list ('approx.', 'Dr.'), 'We would be grateful for your "
          "answer by 16.00 today': a request for information without a question mark: question. Signed+encrypted "
          "PGP/MIME with protected headers (In-Reply-To C's notification); the reference is in the signed text too",
          d, signed=inner)

    # 029 ---------------------------------------------------------------- A: the genuine ack (001) forwarded as message/rfc822
    note = ("Hej SOC\n\nKvitteringen fra CFCS kom ind i min egen indbakke i stedet for jeres. Jeg videresender\n"
            "den lige, så den kommer med på sagen.\n\nMvh\nJens\n")
    mixed_b = "fwd_%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("mixed", [
        text_entity(note, "utf-8", "quoted-printable"),
        headers([("Content-Type", 'message/rfc822; name="SV: %s.eml"' % sA),
                 ("Content-Disposition", 'attachment; filename="SV Kvittering.eml"')]) + b"\r\n" + crlf(ackA_eml)], mixed_b)
    d = c.outer("VS: SV: %s [Sagsnr.: %s]" % (sA, SAGSNR_A), mid_outlook(), None, None,
                frm="Jens Ærø <jens.aeroe@%s>" % rdom, ctype=ctype, extra=outlook_da) + b"\r\n" + body
    w.add("forwarded-genuine-ack-as-rfc822-attachment", "ack", "none", A, False,
          "A colleague's unsigned forward ('VS:', 'Jeg videresender den lige') with the genuine CFCS receipt of A (001, a "
          "good multipart/signed message) attached as message/rfc822. Decided: signature partial: a good signature by the "
          "pinned key covers only the attached message, not the colleague's text around it (README: a good signature "
          "over less than the whole message is partial); the signed part decides the kind, ack. Not bound, nothing "
          "changes (and the attached content is 001's anyway). Incident A by the subject tag", d)

    # 030 ---------------------------------------------------------------- B: Exchange Online "Delivery delayed"
    hostx = "DB9PR07MB%04d.eurprd07.prod.outlook.com" % c.rng.randint(0, 9999)
    human = ("Delivery is delayed to these recipients or groups:\n\n%s (%s)\n\nSubject: %s\n\n"
             "This message hasn't been delivered yet. Delivery will continue to be attempted.\n\n"
             "The server will keep trying to deliver this message for the next 1 days, 19 hours and 53 minutes. "
             "You'll be notified if the message can't be delivered by that time.\n\n"
             "Diagnostic information for administrators:\n\nGenerating server: %s\nReceiving server: mx.%s\n\n"
             "%s\nRemote server at mx.%s returned '400 4.4.7 Message delayed'\n" % (addr, addr, sB, hostx, dom, addr, dom))
    status = ("Reporting-MTA: dns;%s\nReceived-From-MTA: dns;%s\nArrival-Date: %s\n\n"
              "Final-Recipient: rfc822;%s\nAction: delayed\nStatus: 4.4.7\nWill-Retry-Until: %s\n"
              "X-Display-Name: %s\n" % (hostx, hostx, email.utils.format_datetime(c.now), addr,
                                        email.utils.format_datetime(c.now + dt.timedelta(days=2)), addr))
    orig = ("From: SOC <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"=_certmail_e\"\n"
            % (rep, addr, sB, email.utils.format_datetime(c.now), mB))
    rb = "b%08x" % c.rng.getrandbits(32)
    ctype, body = multipart("report", [
        text_entity(human, "us-ascii", "7bit"),
        b"Content-Type: message/delivery-status\r\n\r\n" + crlf(status.encode()),
        b"Content-Type: text/rfc822-headers\r\n\r\n" + crlf(orig.encode())], rb, "; report-type=delivery-status")
    d = headers([("From", "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@%s>" % rdom), ("To", rep),
                 ("Subject", "Delivery delayed:" + sB), ("Date", c.date()),
                 ("Message-ID", "<%08x-%04x@%s>" % (c.rng.getrandbits(32), c.rng.getrandbits(16), hostx)),
                 ("Auto-Submitted", "auto-replied"), ("X-MS-Exchange-Message-Is-Ndr", ""),
                 ("Content-Language", "en-US"), ("MIME-Version", "1.0"), ("Content-Type", ctype)]) + b"\r\n" + body
    w.add("auto-reply-exchange-delivery-delayed", "bounce", "none", B, False,
          "Exchange Online 'Delivery delayed:[...] Encrypted message' about B's notification: 'This message hasn't been "
          "delivered yet. Delivery will continue to be attempted', message/delivery-status 'Action: delayed', "
          "'Status: 4.4.7', B's headers in text/rfc822-headers, and B's tag in its own Subject. Decided: auto-reply, not "
          "bounce (delivery has not failed; the notification must not become bounced). Unsigned: nothing changes", d)

    # 031 ---------------------------------------------------------------- A: receipt of our answers, word "spørgsmål"
    t = ("Hej\n\nVi har nu modtaget jeres svar på vores spørgsmål vedr. %s, inkl. uddraget af\n"
         "hændelsesloggen fra jmp01. Svarene er sendt videre til den analytiker, der har sagen.\n\n"
         "Venlig hilsen\nMads Holm\nVagthavende, Netsikkerhedstjenesten\n" % rA)
    ent = text_entity(t, "utf-8", "base64")
    ctype, body = c.signed(ent, tool="sq")
    d = c.outer("SV: %s [Sagsnr.: %s]" % (sA, SAGSNR_A), c.mid(), m_openA, "%s %s" % (mA, m_openA),
                frm="Center for Cybersikkerhed <%s>" % addr, ctype=ctype, extra=outlook_da) + b"\r\n" + body
    w.add("ack-da-svar-paa-vores-spoergsmaal-modtaget", "ack", "good", A, True,
          "Danish 'Vi har nu modtaget jeres svar på vores spørgsmål vedr. ..., inkl. uddraget af hændelsesloggen' on A: "
          "the word 'spørgsmål' names the CERT's earlier questions, it asks none; 'inkl.' abbreviation. A receipt of "
          "our answers: ack. multipart/signed (sq), base64 UTF-8", d, signed=ent)

    # 032 ---------------------------------------------------------------- C: unsigned closure in perfect wording
    t = ("Hej\n\nAngrebet mod %s er stilnet af, og vi betragter sagen som afsluttet fra vores side.\n\n"
         "Venlig hilsen\nMikkel\nSektorCERT · Vagtcentralen\n" % rC)
    d = c.outer("[%s] Re: %s" % (TICKET_C, sC), c.mid("otrs"), m_openC, "%s %s" % (mC, m_openC),
                frm="SektorCERT Vagtcentralen <%s>" % addr, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "8bit"), ("X-OTRS-Loop", "yes")]) + b"\r\n" + t.encode()
    w.add("spoof-unsigned-da-closure-betragter-afsluttet", "closed", "none", C, False,
          "Unsigned Danish closure on C in the sector CERT's wording ('vi betragter sagen som afsluttet fra vores side'), "
          "its real ticket number %s in the subject, From the CERT's address, threaded to the CERT's own message: "
          "closed by its text, unsigned, so C must not become cert-closed" % TICKET_C, d)

    # 033 ---------------------------------------------------------------- C: unsigned HTML-only question
    html = ("<html><body><p>Hej</p>\n<p>Vedr. %s: Kan I sende os en eksport af jeres firewall-konfiguration "
            "og VPN-brugerlisten, s&aring; vi kan vurdere eksponeringen?</p>\n"
            "<p>Venlig hilsen<br>Anders Kofoed<br>Seniorkonsulent, Sundheds-CERT</p></body></html>\n" % rC)
    d = c.outer("SV: " + sC, mid_outlook(), m_q2C, "%s %s" % (mC, m_q2C), frm="Sundheds-CERT <%s>" % addr,
                ctype="text/html; charset=utf-8", extra=[("Content-Transfer-Encoding", "quoted-printable")]) + b"\r\n" + qp(html)
    w.add("spoof-unsigned-html-question-config-export", "question", "none", C, False,
          "Unsigned HTML-only 'Kan I sende os en eksport af jeres firewall-konfiguration og VPN-brugerlisten ...?' on C, "
          "signed with the name of the health CERT's consultant of 008, In-Reply-To the CERT's signed question (028): "
          "question by its text, unsigned: nothing changes", d)

    # 034 ---------------------------------------------------------------- B: terse English receipt, inline signed+encrypted
    t = "Thanks - logs received, we're going through them now.\n\nPeter\nRef: %s\n" % rB
    pt = t.encode()
    d = c.outer("Re: " + sB, c.mid(), m_q2B, "%s %s" % (mB, m_q2B), frm="Peter Lund <%s>" % addr,
                ctype="text/plain; charset=us-ascii") + b"\r\n" + c.sign_encrypt(pt)
    w.add("ack-en-logs-received-going-through-them", "ack", "good", B, True,
          "English 'Thanks - logs received, we're going through them now.' on B, reference on a 'Ref:' line: receipt "
          "of our material: ack. Inline PGP signed+encrypted to the reporter in a text/plain body", d, signed=pt)

    # ======================================================================== phase 2: one closure per incident, its last message

    # 035 ---------------------------------------------------------------- A: "Vi betragter sagen som afsluttet fra vores side"
    t = ("Vedrørende: Jeres underretning, ref. %s (sagsnr. %s)\n\n"
         "Da I har oplyst, at de berørte systemer er genetableret fra backup, og da vi ikke længere ser\n"
         "trafik mod den kendte C2-infrastruktur, betragter vi sagen som afsluttet fra vores side.\n\n"
         "Skulle der opstå nye oplysninger, er I velkomne til at skrive til os under samme sagsnummer.\n%s"
         % (rA, SAGSNR_A, CFCS_LETTER))
    ent = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.signed(ent)
    d = c.outer("SV: %s [Sagsnr.: %s]" % (sA, SAGSNR_A), c.mid(), m_openA, "%s %s" % (mA, m_openA),
                frm="Center for Cybersikkerhed <%s>" % addr, ctype=ctype, extra=outlook_da) + b"\r\n" + body
    w.add("closed-da-betragter-sagen-som-afsluttet", "closed", "good", A, True,
          "CFCS' hedged Danish closure of A in its letter style: 'betragter vi sagen som afsluttet fra vores side' after a "
          "long 'Da ..., og da ...' clause; 'er I velkomne til at skrive' is an invitation, no question. Closed (the "
          "CERT closes its case; 'fra vores side' limits it to the CERT's side, which is what cert-closed means). "
          "multipart/signed, QP UTF-8, CRLF. A's last message", d, signed=ent, eol="crlf")

    # 036 ---------------------------------------------------------------- B: "We consider this matter resolved"
    t = ("Dear colleague,\n\nThank you for the final report on %s. The phishing site has been taken down, the\n"
         "affected accounts have been reset and we have seen no further activity, so we consider this\n"
         "matter resolved. Should anything new come up, simply reply to this thread and we will pick it\n"
         "up again.\n%s" % (rB, CERT_EU_SIG))
    cs = c.sq_clearsign(t)
    d = c.outer("RE: " + sB, c.mid(), m_ackB, "%s %s" % (mB, m_ackB), frm="CERT-EU Duty Officer <%s>" % addr,
                ctype="text/plain; charset=us-ascii") + b"\r\n" + cs
    w.add("closed-en-we-consider-this-matter-resolved", "closed", "good", B, True,
          "English hedged closure of B in CERT-EU's manner: 'we consider this matter resolved' after thanks for our final "
          "report; 'Should anything new come up, simply reply ... and we will pick it up again' is a conditional "
          "reopening offer, not a question. Closed wins over the thanks. sq cleartext signature. B's last message",
          d, signed=cs)

    # 037 ---------------------------------------------------------------- C: "Vi lukker derfor sagen i vores system nu"
    t = ("Hej\n\nAngrebet mod %s er ebbet ud, og vi har ikke set trafik fra botnettet siden i søndags.\n"
         "Vi lukker derfor sagen i vores system nu. Svarer I på denne mail, åbnes den automatisk igen.\n%s"
         % (rC, SEKTOR_SIG))
    inner = text_entity(t, "iso-8859-1", "quoted-printable", extra=[("Subject", "[%s] Sagen lukkes" % TICKET_C)])
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", c.mid("otrs"), m_openC, "%s %s" % (mC, m_openC), frm="SektorCERT Vagtcentralen <%s>" % addr,
                ctype=ctype) + b"\r\n" + body
    w.add("closed-da-lukker-derfor-sagen-i-vores-system", "closed", "good", C, True,
          "Danish closure of C from the sector CERT: 'Vi lukker derfor sagen i vores system nu' (inverted word order after "
          "'derfor'); 'Svarer I på denne mail, åbnes den automatisk igen' describes a reopening that has not happened: "
          "closed. Signed+encrypted PGP/MIME, QP ISO-8859-1 inside. C's last message", d, signed=inner)


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
    tmp = tempfile.mkdtemp(prefix="certmail-heldout-")
    c = None
    extra = {}
    try:
        c = mc.Corpus(m, a.out, tmp)
        c.rng = random.Random(20261202)
        extra["certat"] = mc.new_key(tmp, "certat", "CERT.at <reports@cert-at.test>")
        build(c, extra)
        c.write_expected()
        print("wrote %d messages and expected.json to %s" % (len(c.cases), a.out))
    finally:
        for g, _ in extra.values():
            g.kill()
        if c:
            c.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
