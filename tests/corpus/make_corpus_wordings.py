#!/usr/bin/env python3
"""Blind wording corpus for certmail's reply classifier: set "wording".

Written without reading certmail's classifier or ingest code, from how CERT duty officers
and ticketing systems (RT, OTRS/Znuny, Jira Service Management, TheHive) word receipts,
questions, closures and plain replies, in Danish, English and both, with quoted originals,
signature blocks, disclaimers and HTML-only bodies.

    python3 tests/corpus/make_corpus_wordings.py --manifest manifest.json --out DIR

Same manifest and output contract as make_corpus.py (see tests/corpus/README.md), run
against three fresh notifications of its own (a new certmail home): nothing here depends
on make_corpus.py's 63 cases having been ingested. Every case is a good signature by the
CERT key over the whole message, bound to its incident by the incident's reference in the
signed text (one case: by the notification's Message-ID in signed protected headers), so
`state_change` follows `kind`; what is tested is the wording.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import quopri
import random
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # importing make_corpus must leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpus as mc  # noqa: E402  (helpers only; its cases are not made here)
from make_corpus import crlf, lf, b64, headers, text_entity, entity, multipart  # noqa: E402

SET = "wording"
STATE = {"ack": "acknowledged", "reply": "acknowledged", "question": "question", "closed": "closed"}

DA_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
             "oktober", "november", "december"]
DA_DAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

OTRS = "Ticket#2026120110000123"     # A's Znuny ticket number
RT = "[cfcs.dk #123456]"              # B's RT ticket
JIRA = "CFCS-2291"                    # C's Jira Service Management request key
HIVE = "#318"                         # TheHive case on A: four digits or fewer, never a label

SIG_DA = ("\n-- \nMed venlig hilsen\n\n{who}\nCenter for Cybersikkerhed (CFCS)\nNetsikkerhedstjenesten\n"
          "Vagttelefon (døgnet rundt): +45 3332 5580\nDirekte: +45 3332 {ext}\n\n"
          "Denne e-mail kan indeholde fortrolige oplysninger. Hvis du ikke er den rette modtager, bedes du\n"
          "straks underrette afsenderen og slette e-mailen. Uautoriseret brug, kopiering eller videregivelse\n"
          "af indholdet er ikke tilladt.\n")
SIG_EN = ("\n-- \nKind regards\n\n{who}\nCentre for Cyber Security (CFCS)\nNetwork Security Service\n"
          "24/7 duty phone: +45 3332 5580\n\n"
          "This e-mail may contain confidential information. If you are not the intended recipient, please\n"
          "notify the sender immediately and delete this e-mail.\n")


def sig_da(who="Vagthavende analytiker", ext="5581"):
    return SIG_DA.format(who=who, ext=ext)


def sig_en(who="Duty officer"):
    return SIG_EN.format(who=who)


def da_outlook_date(d):
    return "%s %d. %s %d %02d:%02d" % (DA_DAYS[d.weekday()], d.day, DA_MONTHS[d.month - 1], d.year, d.hour, d.minute)


def en_outlook_date(d):
    h = d.hour % 12 or 12
    return "%s, %s %d, %d %d:%02d %s" % (EN_DAYS[d.weekday()], EN_MONTHS[d.month - 1], d.day, d.year, h, d.minute,
                                          "AM" if d.hour < 12 else "PM")


def da_iphone_date(d):
    return "%d. %s. %d kl. %02d.%02d" % (d.day, DA_MONTHS[d.month - 1][:3], d.year, d.hour, d.minute)


def en_apple_date(d):
    return "%d %s %d, at %02d:%02d" % (d.day, EN_MONTHS[d.month - 1][:3], d.year, d.hour, d.minute)


def quoted(text, prefix="> "):
    return "".join((prefix + l).rstrip() + "\n" for l in text.rstrip("\n").split("\n"))


def html_entities(s):
    """HTML-escape and write Danish letters as named entities, as Outlook and OTRS do."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch, name in (("æ", "aelig"), ("ø", "oslash"), ("å", "aring"), ("Æ", "AElig"), ("Ø", "Oslash"),
                     ("Å", "Aring"), ("–", "ndash"), ("é", "eacute")):
        s = s.replace(ch, "&%s;" % name)
    return s


def notification_text(inc, lang="da", extra=""):
    """Our notification as a CERT's mail client shows it after decryption (what gets quoted)."""
    if lang == "da":
        return ("Underretning om sikkerhedshændelse\nReference: %s\nTitel: %s\n\n"
                "Vi har konstateret en sikkerhedshændelse og underretter hermed CFCS.\n%s" % (inc["reference"], inc["title"], extra))
    return ("Notification of a security incident\nReference: %s\nTitle: %s\n\n"
            "We have detected a security incident and hereby notify CFCS.\n%s" % (inc["reference"], inc["title"], extra))


class Wordings:
    def __init__(self, c):
        self.c = c
        self.seen = set()

    def add(self, name, kind, inc, desc, data, signed_text, eol="lf"):
        """Every case: good, bound, state from kind. `signed_text` is the signed content's text,
        kept only to make sure no two cases carry the same signed content (that would be a replay)."""
        h = hashlib.sha256(signed_text.encode("utf-8")).hexdigest()
        assert h not in self.seen, "signed content reused: %s" % name
        self.seen.add(h)
        self.c.add(name, SET, kind, "good", inc, True, STATE[kind], desc, data, eol=eol)


def build(c):
    w = Wordings(c)
    A, B, C = c.A, c.B, c.C
    rA, rB, rC = A["reference"], B["reference"], C["reference"]
    mA, mB, mC = c.mid_of(A), c.mid_of(B), c.mid_of(C)
    sA, sB, sC = A["cleartext_subject"], B["cleartext_subject"], C["cleartext_subject"]
    dom = c.dom
    rep = c.rep
    sent = c.now - dt.timedelta(minutes=40)   # when "we" wrote what the CERT quotes
    outlook = [("X-Mailer", "Microsoft Outlook 16.0"), ("Content-Language", "da-DK")]
    jsm = [("X-JIRA-FingerPrint", "8d1f0c2e5b7a"), ("Auto-Submitted", "auto-generated"), ("Precedence", "bulk")]
    rt_h = [("RT-Ticket", "cfcs.dk #123456"), ("Managed-BY", "RT 5.0.5 (https://bestpractical.com/rt/)"),
            ("RT-Originator", rep), ("X-RT-Loop-Prevention", "cfcs.dk")]
    otrs_h = [("X-OTRS-Loop", "yes"), ("Organization", "CFCS")]
    cert_from = "CFCS Netsikkerhedstjenesten <%s>" % c.addr

    # ======================================================================== phase 1: receipts, questions,
    # replies (no closure wording) on all three incidents; closures and reopenings come after, in phase 2.

    # 001 ---------------------------------------------------------------- A: Znuny auto-response, Danish
    t = ("Dette er en automatisk genereret besked.\n\n"
         "Tak for din henvendelse. Vi har modtaget din underretning \"%s\" (reference %s),\n"
         "og den er registreret i vores sagssystem under sagsnummer %s.\n\n"
         "Angiv venligst sagsnummeret i emnefeltet ved yderligere korrespondance om sagen.\n"
         "En analytiker ser på henvendelsen hurtigst muligt.\n\n"
         "CFCS Netsikkerhedstjenesten\n" % (sA, rA, OTRS))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    m_ackA = c.mid("otrs")
    d = c.outer("[%s] Re: %s" % (OTRS, sA), m_ackA, mA, mA, frm=cert_from, ctype=ctype,
                extra=otrs_h + [("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"), ("X-Loop", "yes")]) + b"\r\n" + body
    w.add("ack-da-znuny-autoresponse", "ack", A,
          "Znuny/OTRS automatic response on A, Danish: 'Tak for din henvendelse. Vi har modtaget din underretning' with its "
          "own ticket number %s. Its headers mark it automatic (Auto-Submitted: auto-replied) but it says something: a receipt, "
          "so ack, not auto-reply (README: auto-reply is a reply marked automatic 'that says nothing else'). 'Angiv venligst "
          "sagsnummeret i emnefeltet' is an imperative about how to write, not a request for information: no question. "
          "multipart/signed, QP UTF-8" % OTRS, d, t, eol="crlf")

    # 002 ---------------------------------------------------------------- B: RT AutoReply, English
    t = ("Greetings,\n\nThis message has been automatically generated in response to the\n"
         "creation of a trouble ticket regarding:\n\t\"%s\",\na summary of which appears below.\n\n"
         "There is no need to reply to this message right now.  Your ticket has been\n"
         "assigned an ID of %s.\n\nPlease include the string:\n\n         %s\n\n"
         "in the subject line of all future correspondence about this issue. To do so,\n"
         "you may reply to this message.\n\n                        Thank you,\n                        %s\n\n"
         "-------------------------------------------------------------------------\n%s"
         % (sB, RT, RT, c.addr, notification_text(B, "en")))
    m_ackB = c.mid("rt")
    d = c.outer("%s AutoReply: %s" % (RT, sB), m_ackB, mB, mB, frm="CFCS via RT <%s>" % c.addr,
                ctype="text/plain; charset=utf-8", extra=rt_h + [("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"),
                                                                 ("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + c.clearsign(t)
    w.add("ack-en-rt-autoreply", "ack", B,
          "RT's AutoReply on B ('[cfcs.dk #123456] AutoReply', 'a trouble ticket regarding ... has been created', 'There is no "
          "need to reply to this message right now'), clearsigned 8bit UTF-8, Auto-Submitted: auto-replied: it confirms a ticket was made "
          "for our notification, so ack (not auto-reply: it says something). 'Please include the string' is no question", d, t)

    # 003 ---------------------------------------------------------------- C: JSM receipt, HTML only
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\n"
            "<div style=\"color:#999;font-size:11px\">—-—-—-—</div>\n"
            "<div style=\"color:#999;font-size:11px\">Reply above this line.</div>\n"
            "<table width=\"100%%\"><tr><td>\n"
            "<h2 style=\"font-size:18px\">Your request has been received</h2>\n"
            "<p>Hi,</p>\n"
            "<p>Thanks for contacting the CFCS Network Security Service. We’ve received your request "
            "<a href=\"https://servicedesk.%s/servicedesk/customer/portal/2/%s\">%s</a> "
            "<b>%s</b> and a member of the team will review it shortly.</p>\n"
            "<p>Reference: %s</p>\n"
            "<p style=\"color:#6b778c\">View request · Turn off this request’s notifications</p>\n"
            "<p style=\"color:#6b778c;font-size:11px\">This is shared with %s.<br>"
            "Sent by Atlassian Jira Service Management</p>\n</td></tr></table>\n</body></html>\n"
            % (dom, JIRA, JIRA, sC, rC, rep))
    ctype, body = c.signed(text_entity(html, "utf-8", "quoted-printable", ctype="text/html"))
    m_ackC = c.mid("jira")
    d = c.outer("%s %s" % (JIRA, sC), m_ackC, mC, mC, frm="CFCS Service Desk <%s>" % c.addr, ctype=ctype, extra=jsm) + b"\r\n" + body
    w.add("ack-en-jsm-html-only", "ack", C,
          "Jira Service Management receipt on C as an HTML-only body (text/html inside multipart/signed, no text/plain "
          "alternative), 'Your request has been received', 'Reply above this line', request key %s; Auto-Submitted: "
          "auto-generated as JSM sends it, but it says receipt, so ack" % JIRA, d, html)

    # 004 ---------------------------------------------------------------- A: TheHive case opened
    t = ("Hej\n\nDin henvendelse er oprettet som en sag i vores sagsstyring.\n\n"
         "  Sag:       %s – %s\n  Reference: %s\n  Status:    Open\n  Severity:  High\n  TLP:       AMBER\n\n"
         "Sagen er tildelt vagtholdet. Du får besked, når der er nyt.\n\n"
         "-- \nTheHive · CFCS Netsikkerhedstjenesten\n" % (HIVE, A["title"], rA))
    ctype, body = c.signed(text_entity(t, "utf-8", "base64"), tool="sq")
    d = c.outer("[TheHive] Sag %s oprettet: %s" % (HIVE, A["title"]), c.mid(), mA, mA, frm="TheHive <%s>" % c.addr,
                ctype=ctype, extra=[("Auto-Submitted", "auto-generated")]) + b"\r\n" + body
    w.add("ack-da-thehive-case-opened", "ack", A,
          "TheHive notification on A: 'Din henvendelse er oprettet som en sag' with a status block 'Status: Open' (not a "
          "closure status). A case was opened for our notification: ack. Case %s has four digits or fewer, so it is never a "
          "case label (README), which changes nothing here: the reference binds. sq detached signature, base64 UTF-8" % HIVE, d, t)

    # 005 ---------------------------------------------------------------- B: duty officer, "Tak for din henvendelse, vi har modtaget"
    t = ("Hej\n\nTak for din henvendelse, vi har modtaget jeres underretning %s og er gået i gang med at se\n"
         "på den. Vi vender tilbage, så snart vi ved mere.\n%s" % (rB, sig_da("Søren Ærbø, vagthavende", "5587")))
    cs = c.clearsign(t, charset="iso-8859-1")
    d = c.outer("SV: " + sB, c.mid(), mB, mB, ctype="text/plain; charset=iso-8859-1",
                extra=[("Content-Transfer-Encoding", "quoted-printable")] + outlook) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    w.add("ack-da-tak-for-din-henvendelse-latin1-qp", "ack", B,
          "Danish duty-officer receipt on B, 'Tak for din henvendelse, vi har modtaget ...', with a signature block (two phone "
          "numbers) and the usual Danish confidentiality disclaimer, all inside the clearsigned ISO-8859-1 text sent "
          "quoted-printable", d, t)

    # 006 ---------------------------------------------------------------- C: "Vi bekræfter modtagelsen", base64 latin-1
    t = ("Kære modtager\n\nVi bekræfter modtagelsen af jeres underretning %s af i dag vedrørende\n"
         "overbelastningsangrebet mod jeres selvbetjeningsløsning. Sagen er fordelt til en analytiker.\n%s"
         % (rC, sig_da("Åse Østergård", "5590")))
    ctype, body = c.signed(text_entity(t, "iso-8859-1", "base64"))
    d = c.outer("SV: " + sC, c.mid(), m_ackC, "%s %s" % (mC, m_ackC), ctype=ctype, extra=outlook) + b"\r\n" + body
    w.add("ack-da-vi-bekraefter-modtagelsen-b64-latin1", "ack", C,
          "Danish 'Vi bekræfter modtagelsen af jeres underretning' on C, multipart/signed, base64 ISO-8859-1 with æøå/ÆØÅ in "
          "text and signature block", d, t)

    # 007 ---------------------------------------------------------------- A: "Modtaget – vi kigger på det", iPhone quote
    t = ("Modtaget – vi kigger på det\n\nMads\n\nSendt fra min iPhone\n\n"
         "Den %s skrev SOC Eksempel <%s>:\n\n%s" % (da_iphone_date(sent), rep, quoted(notification_text(A))))
    d = c.outer("Re: " + sA, c.mid(), mA, mA, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "8bit"), ("X-Mailer", "iPhone Mail (21F90)")]) + b"\r\n" + c.clearsign(t)
    w.add("ack-da-modtaget-vi-kigger-iphone-quote", "ack", A,
          "Terse Danish duty-officer receipt on A from a phone: 'Modtaget – vi kigger på det' (en dash, no final full stop), "
          "'Sendt fra min iPhone', then our notification quoted with '> ' under 'Den ... skrev ...:'; the reference is only "
          "in the quoted lines, which are inside the clearsigned text (as in make_corpus 009/033)", d, t)

    # 008 ---------------------------------------------------------------- B: "We have received your report and opened case"
    t = ("Hello,\n\nWe have received your report %s and opened case %s for it.\n"
         "An analyst from the Network Security Service has been assigned and will contact you by phone\n"
         "if we need anything further.\n%s" % (rB, RT, sig_en("Peter Lund, duty officer")))
    ctype, body = c.signed(text_entity(t, "us-ascii", "7bit"), tool="sq")
    d = c.outer("%s Re: %s" % (RT, sB), c.mid("rt"), m_ackB, "%s %s" % (mB, m_ackB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("ack-en-received-opened-case", "ack", B,
          "English 'We have received your report ... and opened case [cfcs.dk #123456]' on B; 'will contact you ... if we "
          "need anything further' is conditional, no question. sq detached signature, 7bit", d, t)

    # 009 ---------------------------------------------------------------- C: "Thanks, noted. Logged as", Outlook Original Message
    ours = ("Follow-up on %s: the attack stopped at 11:20 and we have closed the exposed ports on the load\n"
            "balancer. From our side the incident is closed for now.\n\n"
            "One question: do you need the full packet capture, or are the NetFlow summaries enough?\n\n"
            "Best regards\nSOC, Eksempel A/S\n" % rC)
    t = ("Thanks, noted. Logged as %s\n\nJonas\n\n-----Original Message-----\nFrom: SOC Eksempel <%s>\n"
         "Sent: %s\nTo: CFCS <%s>\nSubject: RE: %s\n\n%s" % (JIRA, rep, en_outlook_date(sent), c.addr, sC, ours))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("RE: " + sC, c.mid(), mC, mC, ctype=ctype, extra=[("X-Mailer", "Microsoft Outlook 16.0")]) + b"\r\n" + body
    w.add("ack-en-thanks-noted-outlook-original-message", "ack", C,
          "English 'Thanks, noted. Logged as CFCS-2291' (no final full stop) on C above an Outlook '-----Original "
          "Message-----' quote of our follow-up, not '>'-prefixed, which contains 'closed', 'the incident is closed' and "
          "'One question: ...?'. Those are our words, not the CERT's: the CERT's own text is a receipt, so ack (not "
          "question, not closed)", d, t)

    # 010 ---------------------------------------------------------------- A: "Modtaget." signed+encrypted, protected headers
    t = "Modtaget.\n\nMads\n"
    inner = headers([("Content-Type", 'text/plain; charset=utf-8; protected-headers="v1"'),
                     ("Content-Transfer-Encoding", "7bit"),
                     ("Subject", "Re: " + sA), ("From", "Example CERT <%s>" % c.addr), ("To", rep),
                     ("In-Reply-To", mA), ("References", mA)]) + b"\r\n" + crlf(t.encode())
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", c.mid(), mA, mA, ctype=ctype) + b"\r\n" + body
    w.add("ack-da-terse-modtaget-signencrypt", "ack", A,
          "The tersest receipt, 'Modtaget.', on A: signed+encrypted PGP/MIME whose text names nothing; bound by the "
          "notification's Message-ID in the signed protected In-Reply-To (and the reference in the protected Subject), "
          "the one case of this set not bound by the reference in the body", d, t + sA + mA)

    # 011 ---------------------------------------------------------------- B: "Received, thanks." Apple Mail quote
    t = ("Received, thanks.\n\nPeter\n\nOn %s, SOC Eksempel <%s> wrote:\n\n%s"
         % (en_apple_date(sent), rep, quoted(notification_text(B, "en"))))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("Re: " + sB, c.mid(), mB, mB, ctype=ctype, extra=[("X-Mailer", "Apple Mail (2.3774.500.171.1.1)")]) + b"\r\n" + body
    w.add("ack-en-terse-received-thanks", "ack", B,
          "Terse English 'Received, thanks.' on B, Apple Mail 'On ..., ... wrote:' with our notification quoted below "
          "(reference only in the quoted lines, inside the signed part), multipart/signed QP UTF-8", d, t)

    # 012 ---------------------------------------------------------------- C: bilingual, polite phrases in both languages
    t = ("Hej\n\nVi har modtaget jeres underretning %s og har oprettet en sag.\n"
         "Tøv ikke med at kontakte os, hvis du har spørgsmål.\n\n"
         "------------------------------------------------------------\n\n"
         "Hello\n\nWe have received your notification %s and opened a case.\n"
         "Do not hesitate to contact us if you have any questions.\n\n"
         "Med venlig hilsen / Kind regards\nCFCS Netsikkerhedstjenesten / Network Security Service\n"
         "+45 3332 5580\n" % (rC, rC))
    ctype, body = c.signed(text_entity(t, "iso-8859-1", "quoted-printable"))
    d = c.outer("SV: %s / RE: %s" % (sC, sC), c.mid(), mC, mC, ctype=ctype) + b"\r\n" + body
    w.add("ack-bilingual-tov-ikke-do-not-hesitate", "ack", C,
          "Bilingual receipt on C (Danish, a line, English) with 'Tøv ikke med at kontakte os, hvis du har spørgsmål' and "
          "'Do not hesitate to contact us if you have any questions': polite invitations that ask nothing of the reporter, "
          "so it stays an ack. multipart/signed, QP ISO-8859-1", d, t)

    # 013 ---------------------------------------------------------------- A: English receipt, "Do not hesitate"
    t = ("Dear Eksempel A/S,\n\nThank you for your notification %s, which we received at %02d:%02d today.\n"
         "It has been registered and is being handled by the duty team.\n\n"
         "Do not hesitate to contact us if you have any questions.\n%s"
         % (rA, sent.hour, sent.minute, sig_en("Mette Kjær, duty officer")))
    d = c.outer("RE: " + sA, c.mid(), mA, mA, ctype="text/plain; charset=utf-8") + b"\r\n" + c.sq_clearsign(t)
    w.add("ack-en-do-not-hesitate-questions", "ack", A,
          "English receipt on A ('Thank you for your notification ..., which we received at ...') ending in 'Do not hesitate "
          "to contact us if you have any questions.': the word 'questions' in a polite closing phrase, no question: ack. "
          "sq cleartext signature, CRLF", d, t, eol="crlf")

    # 014 ---------------------------------------------------------------- B: footer "Har du spørgsmål? Ring ..."
    t = ("Hej\n\nVi har modtaget jeres underretning %s. Vagten har sagen og vender tilbage i løbet af dagen.\n\n"
         "Venlig hilsen\nCFCS Netsikkerhedstjenesten\n\n"
         "Har du spørgsmål? Ring til vagten på +45 3332 5580 – døgnet rundt.\n" % rB)
    cs = c.clearsign(t)
    d = c.outer("SV: " + sB, c.mid(), mB, mB, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "base64")]) + b"\r\n" + b64(crlf(cs))
    w.add("ack-da-har-du-spoergsmaal-footer", "ack", B,
          "Danish receipt on B whose fixed footer is 'Har du spørgsmål? Ring til vagten ...': an interrogative with a "
          "question mark, but it asks whether WE have questions and points to the phone; it asks nothing of the reporter, "
          "like 'Tøv ikke med at kontakte os, hvis du har spørgsmål'. Decided: ack (the text's own request is none). "
          "Clearsigned UTF-8 sent base64", d, t)

    # 015 ---------------------------------------------------------------- C: Outlook Danish unprefixed quote, text+html signed
    ours = ("Hej CFCS\n\nOpfølgning på %s: Angrebet ebbede ud kl. 11:20. Vi har lukket adgangen til den\n"
            "eksponerede administrationsport, og hændelsen er lukket for vores vedkommende.\n\n"
            "Kan I bekræfte, at I har modtaget vores oprindelige underretning? Har I spørgsmål til\n"
            "ovenstående, så ring til os på +45 12 34 56 78.\n\nMvh\nSOC, Eksempel A/S\n" % rC)
    t = ("Hej\n\nTak for opfølgningen, den er modtaget og lagt på sagen.\n\nVenlig hilsen\nÅse\n\n"
         "________________________________\nFra: SOC Eksempel <%s>\nSendt: %s\nTil: CFCS <%s>\nEmne: SV: %s\n\n%s"
         % (rep, da_outlook_date(sent), c.addr, sC, ours))
    h = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
         "<style>p.MsoNormal{margin:0cm;font-family:Calibri}</style></head><body lang=\"DA\">\n"
         "<div class=\"WordSection1\">\n<p class=\"MsoNormal\">Hej<o:p></o:p></p>\n<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"
         "<p class=\"MsoNormal\">Tak for opf&oslash;lgningen, den er modtaget og lagt p&aring; sagen.<o:p></o:p></p>\n"
         "<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n<p class=\"MsoNormal\">Venlig hilsen<br>&Aring;se<o:p></o:p></p>\n"
         "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n"
         "<p class=\"MsoNormal\"><b>Fra:</b> SOC Eksempel &lt;%s&gt;<br><b>Sendt:</b> %s<br><b>Til:</b> CFCS &lt;%s&gt;<br>"
         "<b>Emne:</b> SV: %s<o:p></o:p></p>\n</div>\n<p class=\"MsoNormal\">%s<o:p></o:p></p>\n</div>\n</body></html>\n"
         % (rep, html_entities(da_outlook_date(sent)), c.addr, html_entities(sC), html_entities(ours).replace("\n", "<br>\n")))
    alt_b = "_000_DB9PR07MB%05d_" % c.rng.randint(0, 99999)
    actype, abody = multipart("alternative", [text_entity(t, "utf-8", "quoted-printable"),
                                              text_entity(h, "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    ctype, body = c.signed(entity(actype, abody))
    d = c.outer("SV: " + sC, c.mid(), mC, mC, ctype=ctype, extra=outlook) + b"\r\n" + body
    w.add("ack-da-outlook-fra-sendt-unprefixed-quote", "ack", C,
          "Danish 'Tak for opfølgningen, den er modtaget' on C above a new-Outlook quote ('________', 'Fra:', 'Sendt:', "
          "'Til:', 'Emne:') that is NOT '>'-prefixed; the quoted follow-up (ours) says 'lukket', 'hændelsen er lukket', "
          "'Kan I bekræfte ...?' and 'Har I spørgsmål'. Only the CERT's own lines count: ack. Signed text+HTML alternative "
          "(both inside multipart/signed)", d, t)

    # 016 ---------------------------------------------------------------- A: receipt with a URL holding "?"
    t = ("Hej\n\nVi har modtaget jeres underretning %s. Mens I venter, kan I med fordel læse vores vejledning\n"
         "om genopretning efter ransomware: https://www.cfcs.dk/da/forebyggelse/vejledninger/?tema=ransomware&side=2\n"
         "%s" % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("[%s] Re: %s" % (OTRS, sA), c.mid("otrs"), m_ackA, "%s %s" % (mA, m_ackA), ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("ack-da-url-with-questionmark", "ack", A,
          "Danish receipt on A pointing to a guide whose URL holds '?' ('.../vejledninger/?tema=ransomware&side=2'): a "
          "question mark in a URL is no question, and 'kan I med fordel læse' is advice: ack. multipart/signed, QP UTF-8", d, t)

    # 017 ---------------------------------------------------------------- A: "Kan I oplyse hvornår ...?"
    t = ("Hej\n\nTak for underretningen %s.\n\nKan I oplyse, hvornår I første gang observerede krypteringen af filserveren,\n"
         "og om der er tegn på, at data er blevet kopieret ud af netværket inden da?\n%s"
         % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    m_qA = c.mid("otrs")
    d = c.outer("[%s] Spørgsmål vedr. %s" % (OTRS, rA), m_qA, m_ackA, "%s %s" % (mA, m_ackA), frm=cert_from,
                ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("question-da-kan-i-oplyse-hvornaar", "question", A,
          "Danish 'Kan I oplyse, hvornår ...?' on A after a thank-you for the notification: question wins over the receipt "
          "wording. Znuny, multipart/signed, QP UTF-8", d, t)

    # 018 ---------------------------------------------------------------- B: "Vi har brug for yderligere oplysninger om"
    t = ("Hej\n\nVedr. %s %s\n\nVi har brug for yderligere oplysninger om de berørte postkasser: hvilke konti der har\n"
         "klikket på linket, og om der er oprettet nye videresendelsesregler på dem efter kl. 08:00 i dag.\n%s"
         % (RT, rB, sig_da("Søren Ærbø, vagthavende", "5587")))
    cs = c.clearsign(t, charset="iso-8859-1")
    m_qB = c.mid("rt")
    d = c.outer("%s Yderligere oplysninger" % RT, m_qB, m_ackB, "%s %s" % (mB, m_ackB), ctype="text/plain; charset=iso-8859-1",
                extra=rt_h + [("Content-Transfer-Encoding", "quoted-printable")]) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    w.add("question-da-vi-har-brug-for-yderligere-oplysninger", "question", B,
          "Danish 'Vi har brug for yderligere oplysninger om ...' on B: a request for information stated as a need, no "
          "question mark: question. Clearsigned ISO-8859-1, QP", d, t)

    # 019 ---------------------------------------------------------------- C: "Please provide the IOCs"
    t = ("Hi,\n\nRegarding %s (%s): please provide the IOCs you have so far - source IP addresses with\n"
         "timestamps (UTC), the URLs that were targeted and the request rate at the peak.\n%s"
         % (JIRA, rC, sig_en("Jonas Friis, analyst")))
    ctype, body = c.signed(text_entity(t, "utf-8", "base64"))
    m_qC = c.mid("jira")
    d = c.outer("%s %s" % (JIRA, sC), m_qC, m_ackC, "%s %s" % (mC, m_ackC), frm="CFCS Service Desk <%s>" % c.addr,
                ctype=ctype) + b"\r\n" + body
    w.add("question-en-please-provide-the-iocs", "question", C,
          "English 'please provide the IOCs ...' on C: an imperative request for information with no question mark: "
          "question. multipart/signed, base64 UTF-8", d, t)

    # 020 ---------------------------------------------------------------- A: "Could you confirm whether", sign+encrypt
    t = ("Hello,\n\nThank you for the update on %s.\n\nCould you confirm whether your offline backups were affected, and\n"
         "whether the domain controllers were among the encrypted hosts?\n%s" % (rA, sig_en("Mette Kjær, duty officer")))
    inner = text_entity(t, "utf-8", "quoted-printable")
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("Re: " + sA, c.mid(), m_qA, "%s %s" % (mA, m_qA), ctype=ctype) + b"\r\n" + body
    w.add("question-en-could-you-confirm-whether", "question", A,
          "English 'Could you confirm whether ...?' on A, signed+encrypted PGP/MIME (the reference is in the signed text)", d, t)

    # 021 ---------------------------------------------------------------- B: "Tak, vi har modtaget den. Kan I sende logfilerne?"
    t = ("Hej\n\nTak, vi har modtaget den. Kan I sende logfilerne fra mailgatewayen for i dag?\n\n"
         "Mvh\nSøren\nCFCS, vagten\n\nVedr.: %s\n" % rB)
    d = c.outer("%s Re: Yderligere oplysninger" % RT, c.mid("rt"), m_qB, "%s %s" % (mB, m_qB),
                ctype="text/plain; charset=utf-8", extra=rt_h) + b"\r\n" + c.sq_clearsign(t)
    w.add("question-da-receipt-then-kan-i-sende", "question", B,
          "Danish 'Tak, vi har modtaget den. Kan I sende logfilerne ...?' on B: a receipt sentence then a question; question "
          "wins over receipt wording. sq cleartext signature", d, t)

    # 022 ---------------------------------------------------------------- C: "Send venligst hashværdierne" (no stop)
    t = ("Hej\n\nVedr. %s: I skriver, at der blev fundet to ukendte scripts på load balanceren.\n"
         "Send venligst hashværdierne (SHA-256) for begge filer\n\nÅse" % rC)
    d = c.outer("SV: " + sC, c.mid(), mC, mC, ctype="text/plain; charset=utf-8",
                extra=[("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + c.clearsign(t)
    w.add("question-da-send-venligst-no-stop", "question", C,
          "Danish imperative request 'Send venligst hashværdierne (SHA-256) for begge filer' on C, no question mark, no final "
          "full stop, no newline at the end of the text: a request for information, so question. Clearsigned 8bit UTF-8", d, t)

    # 023 ---------------------------------------------------------------- A: HTML-only Outlook question with entities
    q = "Kan I oplyse, hvorn&aring;r den f&oslash;rste server blev krypteret, og hvilken konto der blev brugt?"
    html = ("<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head>"
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head>\n"
            "<body lang=\"DA\" link=\"#0563C1\"><div class=\"WordSection1\">\n"
            "<p class=\"MsoNormal\">Hej<o:p></o:p></p>\n<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"
            "<p class=\"MsoNormal\">Vedr. %s: Tak for jeres opdatering.<o:p></o:p></p>\n"
            "<p class=\"MsoNormal\">%s<o:p></o:p></p>\n<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"
            "<p class=\"MsoNormal\">Venlig hilsen<br>Mads Holm<br>CFCS Netsikkerhedstjenesten<br>Tlf. +45 3332 5580<o:p></o:p></p>\n"
            "<p class=\"MsoNormal\"><span style=\"font-size:8.0pt;color:gray\">Denne e-mail kan indeholde fortrolige "
            "oplysninger.<o:p></o:p></span></p>\n</div></body></html>\n" % (rA, q))
    ctype, body = c.signed(text_entity(html, "iso-8859-1", "quoted-printable", ctype="text/html"))
    d = c.outer("SV: " + sA, c.mid(), m_qA, "%s %s" % (mA, m_qA), ctype=ctype, extra=outlook) + b"\r\n" + body
    w.add("question-da-html-only-entities", "question", A,
          "Outlook HTML-only question on A (text/html inside multipart/signed, QP ISO-8859-1): 'Kan I oplyse, hvorn&aring;r "
          "den f&oslash;rste server blev krypteret ...?' with Danish letters as HTML entities, MsoNormal paragraphs, "
          "&nbsp; and a disclaimer", d, html)

    # 024 ---------------------------------------------------------------- B: "We would appreciate it if you could" (no ?)
    t = ("Hello again,\n\nRegarding %s (%s): we would appreciate it if you could forward the original phishing\n"
         "e-mail as an .eml attachment, with all headers intact, so that we can trace the sending infrastructure.\n%s"
         % (rB, RT, sig_en("Peter Lund, duty officer")))
    ctype, body = c.signed(text_entity(t, "utf-8", "base64"), tool="sq")
    d = c.outer("%s Original phishing e-mail" % RT, c.mid("rt"), m_qB, "%s %s" % (mB, m_qB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("question-en-would-appreciate-no-questionmark", "question", B,
          "English polite request 'we would appreciate it if you could forward the original phishing e-mail' on B: asks for "
          "material, no question mark: question. sq detached signature, base64", d, t)

    # 025 ---------------------------------------------------------------- C: long receipt, question in a PS
    t = ("Hej\n\nVi har modtaget jeres underretning %s og har registreret den. Vi følger situationen og\n"
         "har orienteret vores samarbejdspartnere hos de store danske internetudbydere, så de kan\n"
         "være opmærksomme på trafik mod jeres adresser. Vi vender tilbage, hvis vi ser noget, der\n"
         "peger på, hvem der står bag.\n\nVenlig hilsen\nJonas\n\n"
         "PS: Kan I også oplyse, hvilke IP-adresser angrebet kom fra i den første time?\n" % rC)
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("SV: " + sC, c.mid(), mC, mC, ctype=ctype) + b"\r\n" + body
    w.add("question-da-ps-after-long-receipt", "question", C,
          "Danish receipt on C whose only question is in a PS after the sign-off ('PS: Kan I også oplyse ...?'): question "
          "wins over receipt wording wherever it stands", d, t)

    # 026 ---------------------------------------------------------------- A: "Kan I sende" without "?", inline sign+encrypt
    t = ("Hej\n\nVedr. %s\n\nKan I sende os firewall-loggen fra i nat mellem kl. 01 og 04\n\nMvh Mads\n" % rA)
    d = c.outer("Re: " + sA, c.mid(), m_qA, "%s %s" % (mA, m_qA), ctype="text/plain; charset=us-ascii") + b"\r\n" + \
        c.sign_encrypt(t.encode())
    w.add("question-da-kan-i-sende-no-questionmark", "question", A,
          "Danish 'Kan I sende os firewall-loggen fra i nat ...' on A without a question mark or full stop (typed in a "
          "hurry): an interrogative request, question. Inline PGP signed+encrypted in a text/plain body", d, t)

    # 027 ---------------------------------------------------------------- C: bilingual question
    t = ("Hej\n\nKan I bekræfte, at angrebet mod %s er stoppet, og at jeres selvbetjening kører normalt igen?\n\n"
         "-----\n\nHello\n\nCan you confirm that the attack on %s has stopped and that your self-service is\n"
         "running normally again?\n\nMed venlig hilsen / Kind regards\nCFCS Netsikkerhedstjenesten\n" % (rC, rC))
    ctype, body = c.signed(text_entity(t, "iso-8859-1", "quoted-printable"), tool="sq")
    d = c.outer("%s Status?" % JIRA, c.mid("jira"), m_qC, "%s %s" % (mC, m_qC), frm="CFCS Service Desk <%s>" % c.addr,
                ctype=ctype) + b"\r\n" + body
    w.add("question-bilingual-kan-i-bekraefte", "question", C,
          "Bilingual question on C ('Kan I bekræfte ...?' / 'Can you confirm ...?'), sq detached signature, QP ISO-8859-1", d, t)

    # 028 ---------------------------------------------------------------- C: JSM HTML agent comment with a question
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\n"
            "<div style=\"color:#999;font-size:11px\">Reply above this line.</div>\n"
            "<p><b>Jonas Friis</b> commented:</p>\n"
            "<table><tr><td style=\"padding:0 0 0 16px\"><p>Hej igen</p>\n"
            "<p>Vi har brug for en pcap fra jeres load balancer fra angrebets start. Kan I uploade den til "
            "sagen?</p></td></tr></table>\n"
            "<p style=\"color:#6b778c\">%s – %s<br>Reference: %s</p>\n"
            "<p style=\"color:#6b778c\">View request · Turn off this request’s notifications</p>\n"
            "<p style=\"color:#6b778c;font-size:11px\">Sent by Atlassian Jira Service Management</p>\n</body></html>\n"
            % (JIRA, sC, rC))
    ctype, body = c.signed(text_entity(html, "utf-8", "base64", ctype="text/html"))
    d = c.outer("%s %s" % (JIRA, sC), c.mid("jira"), m_ackC, "%s %s" % (mC, m_ackC), frm="CFCS Service Desk <%s>" % c.addr,
                ctype=ctype, extra=jsm) + b"\r\n" + body
    w.add("question-jsm-html-comment", "question", C,
          "Jira Service Management 'commented:' notification on C, HTML only (base64 UTF-8, inside multipart/signed), "
          "Auto-Submitted: auto-generated: the agent's comment asks 'Kan I uploade den til sagen?'. Marked automatic, but "
          "it says something, and that is a question", d, html)

    # 029 ---------------------------------------------------------------- B: ">" quote holding the CERT's earlier question
    t = ("Hej\n\nTak, logfilerne er modtaget. Vi har ingen yderligere spørgsmål på nuværende tidspunkt.\n\n"
         "Mvh\nSøren\n\n> Vedr. %s %s\n>\n> Hej\n>\n> Tak, vi har modtaget den. Kan I sende logfilerne fra mailgatewayen for i dag?\n"
         ">\n> > Har I spørgsmål, så ring endelig.\n" % (RT, rB))
    d = c.outer("%s Re: Yderligere oplysninger" % RT, c.mid("rt"), m_qB, "%s %s" % (mB, m_qB),
                ctype="text/plain; charset=utf-8", extra=rt_h + [("Content-Transfer-Encoding", "8bit")]) + b"\r\n" + c.clearsign(t)
    w.add("ack-da-logs-received-quote-with-question", "ack", B,
          "Danish 'Tak, logfilerne er modtaget. Vi har ingen yderligere spørgsmål på nuværende tidspunkt.' on B above a "
          "'>' quote of the CERT's own earlier question ('Kan I sende logfilerne ...?', 'spørgsmål'): the new text is a "
          "receipt and a negated question; quoted lines are not what this mail says: ack", d, t)

    # 030 ---------------------------------------------------------------- A: "Vi har endnu ikke modtaget" (status)
    t = ("Hej\n\nVedr. %s: Vi har endnu ikke modtaget en analyse af prøven fra vores samarbejdspartner.\n"
         "Vi vender tilbage, så snart vi hører fra dem.\n%s" % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("[%s] Status" % OTRS, c.mid("otrs"), m_qA, "%s %s" % (mA, m_qA), ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("reply-da-vi-har-endnu-ikke-modtaget", "reply", A,
          "Danish status 'Vi har endnu ikke modtaget en analyse ... fra vores samarbejdspartner' on A: negated receipt "
          "wording about something else; it confirms no receipt and asks nothing: reply. (The good bound signature still "
          "means our notification was received: state acknowledged.)", d, t)

    # 031 ---------------------------------------------------------------- B: "we have not received the attachment" + request
    t = ("Hello,\n\nWe have not received the attachment mentioned in your notification %s - it may have been\n"
         "removed by our mail filter. Could you resend it as a password-protected zip file (password by SMS)?\n%s"
         % (rB, sig_en("Peter Lund, duty officer")))
    ctype, body = c.signed(text_entity(t, "us-ascii", "7bit"))
    d = c.outer("%s Missing attachment" % RT, c.mid("rt"), m_ackB, "%s %s" % (mB, m_ackB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("question-en-not-received-attachment-resend", "question", B,
          "English 'We have not received the attachment ... Could you resend it ...?' on B: negated receipt, not an ack by "
          "wording; it asks to resend: question", d, t)

    # 032 ---------------------------------------------------------------- C: "we have not yet received the attachment" (no request)
    t = ("Hi,\n\nWe have not yet received the attachment you mention in %s. It is probably still held in our\n"
         "gateway's quarantine; we will let you know once it has been released\n\nJonas" % rC)
    d = c.outer("%s %s" % (JIRA, sC), c.mid("jira"), m_ackC, "%s %s" % (mC, m_ackC), frm="CFCS Service Desk <%s>" % c.addr,
                ctype="text/plain; charset=utf-8") + b"\r\n" + c.sq_clearsign(t)
    w.add("reply-en-not-yet-received-attachment", "reply", C,
          "English 'We have not yet received the attachment you mention ... we will let you know once it has been released' "
          "on C (no final full stop): negated receipt and a status, no request: reply, not ack. sq cleartext", d, t)

    # 033 ---------------------------------------------------------------- C: "Sagen er ikke lukket endnu"
    t = ("Hej\n\nKort status på %s: Sagen er ikke lukket endnu. Vi afventer svar fra hostingudbyderen om,\n"
         "hvilke netværk angrebstrafikken kom fra, og vender tilbage, når vi har det.\n%s"
         % (rC, sig_da("Åse Østergård", "5590")))
    ctype, body = c.signed(text_entity(t, "utf-8", "base64"))
    d = c.outer("SV: " + sC, c.mid(), mC, mC, ctype=ctype, extra=outlook) + b"\r\n" + body
    w.add("reply-da-sagen-er-ikke-lukket", "reply", C,
          "Danish 'Sagen er ikke lukket endnu. Vi afventer svar fra hostingudbyderen' on C: negated closure and a status "
          "update: reply, not closed", d, t)

    # 034 ---------------------------------------------------------------- B: "port ... is now closed"
    t = ("Hi,\n\nFollowing up on %s: our scan from this morning shows that TCP port 3389 on 203.0.113.10\n"
         "is now closed, and the mail relay no longer accepts unauthenticated connections. Thanks for the\n"
         "quick fix.\n%s" % (rB, sig_en("Peter Lund, duty officer")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"), tool="sq")
    d = c.outer("%s Scan result" % RT, c.mid("rt"), m_ackB, "%s %s" % (mB, m_ackB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("reply-en-port-is-now-closed", "reply", B,
          "English scan result on B: 'TCP port 3389 ... is now closed': 'closed' about a port, not the case: reply, not "
          "closed. sq detached signature", d, t)

    # 035 ---------------------------------------------------------------- A: "Vi har videregivet sagen til"
    t = ("Hej\n\nTil orientering: Vi har videregivet sagen %s til Rigspolitiets NC3, som har overtaget\n"
         "efterforskningen af afpresningsdelen. NC3 kontakter jer direkte. Vi følger fortsat sagen\n"
         "teknisk.\n%s" % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    cs = c.clearsign(t, charset="iso-8859-1")
    d = c.outer("[%s] Videregivet til NC3" % OTRS, c.mid("otrs"), m_qA, "%s %s" % (mA, m_qA), ctype="text/plain; charset=iso-8859-1",
                extra=otrs_h + [("Content-Transfer-Encoding", "base64")]) + b"\r\n" + b64(crlf(cs))
    w.add("reply-da-videregivet-til-nc3", "reply", A,
          "Danish 'Til orientering: Vi har videregivet sagen ... til Rigspolitiets NC3' on A: a status update, neither "
          "receipt, question nor closure ('overtaget' is not 'afsluttet'): reply. Clearsigned ISO-8859-1 sent base64", d, t)

    # 036 ---------------------------------------------------------------- C: FYI
    t = ("FYI regarding %s: the domain stresser-panel.example.net that you saw in the attack traffic was\n"
         "taken down and sinkholed last night in a joint action with Europol. We see no further traffic\n"
         "from the panel. No action needed on your side.\n\nJonas\nCFCS Network Security Service\n" % rC)
    inner = text_entity(t, "utf-8", "quoted-printable", extra=[("Subject", "FYI: %s" % rC)])
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    d = c.outer("...", c.mid("jira"), m_ackC, "%s %s" % (mC, m_ackC), ctype=ctype) + b"\r\n" + body
    w.add("reply-en-fyi-sinkholed", "reply", C,
          "English FYI on C ('the domain ... was taken down and sinkholed ... No action needed on your side'): information "
          "only, reply. Signed+encrypted PGP/MIME", d, t)

    # 037 ---------------------------------------------------------------- A: advice with "Hvis I har spørgsmål til ovenstående"
    t = ("Hej\n\nVedr. %s: Ud fra de tilsendte logfiler anbefaler vi, at I nulstiller alle\n"
         "domæneadministratorkonti, spærrer VPN-adgang uden totrinsbekræftelse og genskaber filserveren\n"
         "fra den offline backup fra i forgårs.\n\n"
         "Hvis I har spørgsmål til ovenstående, er I velkomne til at ringe til vagten.\n%s"
         % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    alt_b = "alt_%08x" % c.rng.getrandbits(32)
    actype, abody = multipart("alternative", [text_entity(t, "utf-8", "quoted-printable"),
                                              text_entity("<html><body><p>%s</p></body></html>\n" %
                                                          html_entities(t).replace("\n\n", "</p>\n<p>").replace("\n", "<br>\n"),
                                                          "utf-8", "quoted-printable", ctype="text/html")], alt_b)
    ctype, body = c.signed(entity(actype, abody))
    d = c.outer("[%s] Anbefalinger" % OTRS, c.mid("otrs"), m_qA, "%s %s" % (mA, m_qA), ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("reply-da-advice-hvis-i-har-spoergsmaal", "reply", A,
          "Danish advice on A ('anbefaler vi, at I nulstiller ...') ending 'Hvis I har spørgsmål til ovenstående, er I "
          "velkomne til at ringe': recommendations are not a request for information and the polite phrase is no question: "
          "reply. Signed text+HTML alternative", d, t)

    # 038 ---------------------------------------------------------------- B: "We will close this ticket unless we hear from you"
    t = ("Hello,\n\nWe have not heard from you since our last update on %s. The phishing campaign appears to\n"
         "have stopped and the sending domain has been suspended.\n\n"
         "We will close this ticket unless we hear from you within 5 working days.\n%s"
         % (rB, sig_en("Peter Lund, duty officer")))
    ctype, body = c.signed(text_entity(t, "us-ascii", "7bit"))
    d = c.outer("%s Pending closure" % RT, c.mid("rt"), m_ackB, "%s %s" % (mB, m_ackB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("reply-en-will-close-unless-we-hear", "reply", B,
          "English 'We will close this ticket unless we hear from you within 5 working days' on B. Decided: reply. It is not "
          "closed (a conditional, future closure: the case is still open, and the real closure follows later in this set); it "
          "asks for nothing (no information is needed: silence is an acceptable answer, so the reporter owes no answer, "
          "which is what certmail's question state means); it confirms no receipt. A pending-closure notice is a status "
          "update", d, t)

    # ======================================================================== phase 2: closures, reopenings
    # Each incident: a closure, a reopening, a second closure; nothing else touches an incident after its last closure.

    # 039 ---------------------------------------------------------------- A: "Sagen er hermed lukket"
    t = ("Hej\n\nVi har ikke hørt yderligere fra jer vedr. %s, og NC3 har overtaget efterforskningen.\n"
         "Sagen er hermed lukket hos CFCS.\n%s" % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    cs = c.clearsign(t, charset="iso-8859-1")
    m_clA = c.mid("otrs")
    d = c.outer("[%s] Sagen er lukket" % OTRS, m_clA, m_qA, "%s %s" % (mA, m_qA), ctype="text/plain; charset=iso-8859-1",
                extra=otrs_h + [("Content-Transfer-Encoding", "quoted-printable")]) + b"\r\n" + crlf(quopri.encodestring(lf(cs)))
    w.add("closed-da-sagen-er-hermed-lukket", "closed", A,
          "Danish 'Sagen er hermed lukket hos CFCS' on A: closure. Clearsigned ISO-8859-1, QP", d, t)

    # 040 ---------------------------------------------------------------- B: "Vi lukker sagen"
    t = ("Hej\n\nDa vi ikke har hørt fra jer inden for fristen, og kampagnen er stoppet, lukker vi sagen\n"
         "%s vedr. %s.\n%s" % (RT, rB, sig_da("Søren Ærbø, vagthavende", "5587")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    m_clB = c.mid("rt")
    d = c.outer("%s Sagen lukkes" % RT, m_clB, m_ackB, "%s %s" % (mB, m_ackB), ctype=ctype, extra=rt_h) + b"\r\n" + body
    w.add("closed-da-vi-lukker-sagen", "closed", B,
          "Danish '..., lukker vi sagen [cfcs.dk #123456] vedr. ...' on B (inverted word order after a subordinate clause): "
          "closure. multipart/signed, QP UTF-8", d, t)

    # 041 ---------------------------------------------------------------- C: "This case is now closed"
    t = ("Hello,\n\nThe attack on your self-service platform has stopped, and the infrastructure behind it has\n"
         "been taken down. This case is now closed.\n\nReference: %s\n%s" % (rC, sig_en("Jonas Friis, analyst")))
    inner = text_entity(t, "utf-8", "base64", extra=[("Subject", "Re: " + sC), ("In-Reply-To", m_ackC)])
    ctype, body = c.encrypted(c.sign_encrypt(inner))
    m_clC = c.mid("jira")
    d = c.outer("...", m_clC, m_ackC, "%s %s" % (mC, m_ackC), ctype=ctype) + b"\r\n" + body
    w.add("closed-en-this-case-is-now-closed", "closed", C,
          "English 'This case is now closed.' on C, signed+encrypted PGP/MIME, base64 inside", d, t)

    # 042 ---------------------------------------------------------------- A: "Vi genåbner sagen"
    t = ("Hej\n\nVi genåbner sagen %s, da en samarbejdspartner i dag har rapporteret forbindelser fra\n"
         "jeres IP-område til den samme C2-server som under angrebet. Vi undersøger det og vender tilbage.\n%s"
         % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"), tool="sq")
    m_roA = c.mid("otrs")
    d = c.outer("[%s] Sagen genåbnet" % OTRS, m_roA, m_clA, "%s %s" % (mA, m_clA), ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("reply-da-vi-genaabner-sagen", "reply", A,
          "Danish 'Vi genåbner sagen ..., da en samarbejdspartner ... Vi undersøger det og vender tilbage' on A after its "
          "closure. Decided: reply. A reopening is not a closure (it is the opposite), asks nothing and confirms no "
          "receipt; certmail has no 'reopened' kind, so it is a plain reply, and by the contract a good bound reply means "
          "acknowledged. (It is the first message in the corpora to touch an incident the CERT closed.)", d, t)

    # 043 ---------------------------------------------------------------- B: "This ticket has been reopened"
    t = ("Hello,\n\nWe have reopened ticket %s (%s): the same sender infrastructure has resurfaced in a new\n"
         "campaign against Danish municipalities this morning. No action is needed on your part for now.\n%s"
         % (RT, rB, sig_en("Peter Lund, duty officer")))
    d = c.outer("%s Reopened: %s" % (RT, sB), c.mid("rt"), m_clB, "%s %s" % (mB, m_clB), ctype="text/plain; charset=us-ascii",
                extra=rt_h) + b"\r\n" + c.clearsign(t)
    w.add("reply-en-ticket-reopened", "reply", B,
          "English 'We have reopened ticket [cfcs.dk #123456] ... No action is needed on your part' on B after its closure: "
          "reply (as the Danish reopening), clearsigned 7bit", d, t)

    # 044 ---------------------------------------------------------------- C: reopened with a question
    t = ("Hej\n\nVi har genåbnet sagen %s, fordi vi siden kl. 06 i morges igen ser store mængder trafik mod\n"
         "jeres adresser fra de samme netværk. Kan I bekræfte, at I også ser den på jeres side?\n%s"
         % (rC, sig_da("Åse Østergård", "5590")))
    ctype, body = c.signed(text_entity(t, "iso-8859-1", "base64"))
    d = c.outer("SV: " + sC, c.mid(), m_clC, "%s %s" % (mC, m_clC), ctype=ctype, extra=outlook) + b"\r\n" + body
    w.add("question-da-genaabnet-kan-i-bekraefte", "question", C,
          "Danish 'Vi har genåbnet sagen ..., Kan I bekræfte ...?' on C after its closure: a reopening that asks: question. "
          "multipart/signed, base64 ISO-8859-1", d, t)

    # 045 ---------------------------------------------------------------- A: "Tak for anmeldelsen. Sagen er nu afsluttet."
    t = ("Hej\n\nTak for anmeldelsen og for jeres hurtige hjælp med logfilerne. Forbindelserne til C2-serveren\n"
         "stammede fra en glemt testmaskine, som I har slukket. Sagen %s er nu afsluttet.\n%s"
         % (rA, sig_da("Mads Holm, vagthavende", "5583")))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"))
    d = c.outer("[%s] Sagen er afsluttet" % OTRS, c.mid("otrs"), m_roA, "%s %s" % (mA, m_roA), ctype=ctype, extra=otrs_h) + b"\r\n" + body
    w.add("closed-da-tak-for-anmeldelsen-afsluttet", "closed", A,
          "Danish 'Tak for anmeldelsen ... Sagen ... er nu afsluttet.' on A after the reopening: thanks for the notification "
          "(ack wording) and a closure: closed wins over ack. A's last message", d, t)

    # 046 ---------------------------------------------------------------- B: RT "Resolved" template, "Status: resolved"
    t = ("According to our records, your request %s regarding \"%s\" has been resolved.\n"
         "If you have any further questions or concerns, please respond to this message.\n\n"
         "  Ticket: %s\n  Status: resolved\n  Owner:  plund\n" % (RT, sB, RT))
    ctype, body = c.signed(text_entity(t, "utf-8", "quoted-printable"), tool="sq")
    d = c.outer("%s Resolved: %s" % (RT, sB), c.mid("rt"), m_clB, "%s %s" % (mB, m_clB), frm="CFCS via RT <%s>" % c.addr,
                ctype=ctype, extra=rt_h + [("Precedence", "bulk")]) + b"\r\n" + body
    w.add("closed-en-rt-resolved-status", "closed", B,
          "RT's 'Resolved' notification on B ('your request ... has been resolved', a ticket block with 'Status: resolved') "
          "after the reopening: closure. 'If you have any further questions or concerns, please respond' is the template's "
          "polite line, no question. B's last message", d, t)

    # 047 ---------------------------------------------------------------- C: JSM "Resolved", HTML only, terse
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\n"
            "<div style=\"color:#999;font-size:11px\">Reply above this line.</div>\n"
            "<h2 style=\"font-size:18px\">Resolved</h2>\n"
            "<p>Jonas Friis resolved this as <b>Done</b>.</p>\n"
            "<table style=\"color:#6b778c\"><tr><td>Request</td><td>%s – %s</td></tr>\n"
            "<tr><td>Reference</td><td>%s</td></tr><tr><td>Status</td><td>Resolved</td></tr></table>\n"
            "<p style=\"color:#6b778c\">View request · Turn off this request’s notifications</p>\n"
            "<p style=\"color:#6b778c;font-size:11px\">Sent by Atlassian Jira Service Management</p>\n</body></html>\n"
            % (JIRA, sC, rC))
    ctype, body = c.signed(text_entity(html, "utf-8", "quoted-printable", ctype="text/html"))
    d = c.outer("%s Resolved" % JIRA, c.mid("jira"), m_clC, "%s %s" % (mC, m_clC), frm="CFCS Service Desk <%s>" % c.addr,
                ctype=ctype, extra=jsm) + b"\r\n" + body
    w.add("closed-en-jsm-resolved-html-only", "closed", C,
          "Jira Service Management status notification on C, HTML only: heading 'Resolved', 'resolved this as Done', "
          "'Status: Resolved'; Auto-Submitted: auto-generated but it says the request is resolved: closed. C's last "
          "message", d, html)


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
    tmp = tempfile.mkdtemp(prefix="certmail-wordings-")
    c = None
    try:
        c = mc.Corpus(m, a.out, tmp)
        c.rng = random.Random(20261201)
        build(c)
        c.write_expected()
        print("wrote %d messages and expected.json to %s" % (len(c.cases), a.out))
    finally:
        if c:
            c.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
