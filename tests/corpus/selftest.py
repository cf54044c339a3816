#!/usr/bin/env python3
"""Self-test for make_corpus.py, independent of certmail.

    python3 tests/corpus/selftest.py [--keep DIR]

Makes a throwaway CERT key and reporter key with gpg, a manifest with three invented
incidents, runs make_corpus.py, then checks every signature claim in expected.json with
gpg alone: every OpenPGP object found (multipart/signed, inline clearsigned, inline or
PGP/MIME encrypted, recursively) is verified, and the verdicts are compared with the
expected "signature". Coverage ("partial" vs "good") is by construction and is only
checked as "there is a good CERT signature somewhere".

It then does the same for make_corpus_wordings.py (set "wording", against the same keys
and incidents, as the harness runs it: in a store of its own), and checks each of its
cases further: a good signature by the CERT key, bound, `state_change` following `kind`,
the incident's reference (or, for the one protected-headers case, the notification's
Message-ID) inside what the good signature covers, and no other incident's reference there.

Then make_corpus_heldout.py (set "heldout", in a store of its own too): besides the
signature verdicts (attached message/rfc822 parts are looked into for this set, so the
forwarded ack's signature is found), a bound case's covered content names its incident and
no other, a good unbound one's names nothing of ours, a bound case's state follows its kind
unless an earlier case's signature covered the very same content (a replay: null), nothing
unbound changes state, and no case follows its incident's closure.

    python3 tests/corpus/selftest.py [--keep DIR] [--only main|wording|heldout]

With --keep, the main corpus is kept in DIR, the wording corpus in DIR-wordings and the
held-out corpus in DIR-heldout.
"""

import argparse
import email
import html
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CERT_UID = "Example CERT \u2014 test only <cert@example-cert.test>"


def gpg(home, args, data=b"", timeout=60):
    p = subprocess.run(["gpg", "--homedir", home, "--batch", "--no-tty", "--yes", "--pinentry-mode", "loopback",
                        "--passphrase", "", "--trust-model", "always"] + args,
                       input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p


def make_key(home, uid):
    os.makedirs(home, mode=0o700)
    gpg(home, ["--quick-gen-key", uid, "ed25519", "cert", "never"])
    out = gpg(home, ["--with-colons", "--list-secret-keys", uid]).stdout.decode()
    fpr = next(l for l in out.splitlines() if l.startswith("fpr:")).split(":")[9]
    for algo, use in (("cv25519", "encr"), ("ed25519", "sign")):
        gpg(home, ["--quick-add-key", fpr, algo, use, "never"])
    return fpr


def split_raw(raw, boundary):
    """The raw bytes of each body part of a multipart entity (CRLF), by its boundary."""
    body = raw[raw.index(b"\r\n\r\n") + 4:]
    delim = b"\r\n--" + boundary
    body = b"\r\n" + body
    pieces = body.split(delim)
    parts = []
    for p in pieces[1:]:
        if p.startswith(b"--"):
            break
        parts.append(p[p.index(b"\r\n") + 2:])
    return parts


class Checker:
    def __init__(self, home, cert_fpr):
        self.home, self.cert_fpr = home, cert_fpr
        self.covered = []  # what each good CERT signature of the current file covers
        self.rfc822 = False  # look inside attached messages (the held-out set's forwarded ack)

    def good(self, found, data):
        if "good" in found:
            self.covered.append(data)
        return found

    def status(self, p):
        st = p.stderr.decode(errors="replace")
        found = []
        for l in st.splitlines():
            if l.startswith("[GNUPG:] VALIDSIG"):
                found.append("good" if l.split()[-1] == self.cert_fpr else "good-other")
            elif l.startswith("[GNUPG:] BADSIG"):
                found.append("bad")
            elif l.startswith("[GNUPG:] ERRSIG") or l.startswith("[GNUPG:] NO_PUBKEY"):
                found.append("unknown-signer")
            elif l.startswith("[GNUPG:] DECRYPTION_FAILED") or l.startswith("[GNUPG:] NODATA"):
                found.append("decrypt-failed")
        return found

    def verify_detached(self, data, sig):
        d = tempfile.mkdtemp()
        try:
            open(os.path.join(d, "data"), "wb").write(data)
            open(os.path.join(d, "sig"), "wb").write(sig)
            return self.good(self.status(gpg(self.home, ["--status-fd", "2", "--verify", os.path.join(d, "sig"),
                                                         os.path.join(d, "data")])), data)
        finally:
            shutil.rmtree(d)

    def text(self, t):
        res = []
        if b"-----BEGIN PGP SIGNED MESSAGE-----" in t:
            res += self.good(self.status(gpg(self.home, ["--status-fd", "2", "--verify"], t)), t)
        if b"-----BEGIN PGP MESSAGE-----" in t:
            p = gpg(self.home, ["--status-fd", "2", "--decrypt"], t, timeout=120)
            st = self.status(p)
            if "decrypt-failed" in st:  # e.g. no integrity protection: nothing inside counts
                return res + ["decrypt-failed"]
            res += self.good(st, p.stdout)
            out = p.stdout
            if p.returncode == 0 and out:
                res += ["decrypted"] + self.blob(out)
        return res

    def blob(self, raw):
        """A decrypted or signed payload: a MIME entity if it starts with a header, else text."""
        if re.match(rb"^[A-Za-z-]+:", raw):
            return self.entity(raw)
        return self.text(raw)

    def entity(self, raw):
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        return self.part(msg, raw)

    def part(self, msg, raw):
        ct = msg.get_content_type()
        if ct == "multipart/signed":
            b = msg.get_param("boundary").encode()
            start = raw.index(b"--" + b + b"\r\n") + len(b) + 4
            end = raw.index(b"\r\n--" + b, start)
            signed = raw[start:end]
            parts = msg.get_payload()
            sig = parts[1].get_payload(decode=True) if len(parts) > 1 else b""
            res = self.verify_detached(signed, sig)
            sub = email.message_from_bytes(signed, policy=email.policy.compat32)
            return res + self.part(sub, signed)
        if ct == "message/rfc822":
            if not self.rfc822:
                return []
            return self.entity(raw[raw.index(b"\r\n\r\n") + 4:])
        if msg.get_content_maintype() == "message":  # message/delivery-status: status fields, no OpenPGP
            return []
        if msg.is_multipart():
            res = []
            for sub in split_raw(raw, msg.get_param("boundary").encode()):
                res += self.part(email.message_from_bytes(sub, policy=email.policy.compat32), sub)
            return res
        payload = msg.get_payload(decode=True) or b""
        return self.text(payload)


def readable(raw):
    """Covered bytes as text: raw (latin-1, headers included) plus every text leaf decoded."""
    out = [raw.decode("latin-1")]
    if re.match(rb"^[A-Za-z-]+:", raw):
        msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_maintype() != "text":
                continue
            payload = part.get_payload(decode=True) or b""
            try:
                txt = payload.decode(part.get_content_charset() or "utf-8")
            except (LookupError, UnicodeDecodeError):
                txt = payload.decode("latin-1")
            out.append(html.unescape(txt) if part.get_content_subtype() == "html" else txt)
    return "\n".join(out)


# Corrections (README) where the expectation deliberately differs from what gpg says.
GPG_DIFFERS = {
    # PGP 2.x-style signed message: gpg verifies it; certmail does not and fails closed ("bad").
    "replay-ack-B-as-inline-pgp-to-A": {"good", "decrypted"},
    # The good signature is the attached message's, not the forwarding mail's ("none").
    "forwarded-genuine-ack-as-rfc822-attachment": {"good"},
}

STATE = {"ack": "acknowledged", "reply": "acknowledged", "question": "question", "closed": "closed"}


def heldout_why(e, found, covered, incidents, earlier, closed):
    """The held-out set's own claims, beyond the signature verdict: what a good signature covers names the
    incident when bound and nothing of ours when not; state follows kind for new bound mail and is null for
    replays (whose covered content an earlier case carried) and for everything not bound; nothing after a closure."""
    refs = {i["reference"]: i for i in incidents}
    inc = refs.get(e["incident"])
    ours = [i["reference"] for i in incidents] + [i["message_id"].strip("<>") for i in incidents]
    text = "\n".join(readable(b) for b in covered)
    key = tuple(b.replace(b"\r\n", b"\n") for b in covered)
    if e["incident"] in closed:
        return "incident touched after its closure"
    if e["kind"] not in ("ack", "question", "closed", "reply", "auto-reply", "bounce", "unrelated", "malformed"):
        return "unknown kind"
    if e["bound"]:
        if not inc:
            return "bound without an incident"
        if inc["reference"] not in text and inc["message_id"].strip("<>") not in text:
            return "incident not named in what the signature covers"
        if any(r in text for r in refs if r != e["incident"]):
            return "another incident named in what the signature covers"
        if key in earlier:
            if e["state_change"] is not None:
                return "replay of %s changes state" % earlier[key]
        elif e["state_change"] != STATE.get(e["kind"]):
            return "new bound message whose state does not follow its kind"
    else:
        if e["state_change"] is not None:
            return "state change without binding"
        if e["signature"] == "good" and any(o in text for o in ours):
            return "good but unbound, yet the signature covers something of ours"
        if e["signature"] == "unknown-signer" and "good" in found:
            return "unknown-signer with a good CERT signature"
    if covered and e["signature"] == "good":
        earlier.setdefault(key, e["file"])
    if e["state_change"] == "closed":
        closed.add(e["incident"])
    return ""


def check(ck, out, incidents, sets, wording, heldout=False):
    expected = json.load(open(os.path.join(out, "expected.json"), encoding="utf-8"))
    files = sorted(f for f in os.listdir(out) if f.endswith(".eml"))
    assert files == [e["file"] for e in expected], "expected.json does not list the files in order"
    refs = {i["reference"]: i for i in incidents}
    fails = 0
    earlier, closed = {}, set()
    for e in expected:
        raw = open(os.path.join(out, e["file"]), "rb").read()
        ck.covered = []
        try:
            found = ck.entity(raw) if e["kind"] != "malformed" else ["skipped"]
        except Exception as x:  # hostile input the checker itself cannot read
            found = ["error:%s" % type(x).__name__]
        s = e["signature"]
        ok = {
            "good": "good" in found and not ({"bad", "unknown-signer", "good-other"} & set(found)),
            "partial": "good" in found and "bad" not in found,
            "bad": "bad" in found and "good" not in found,
            "unknown-signer": "unknown-signer" in found and "good" not in found,
            "none": "good" not in found,
        }[s]
        name = e["file"][4:-4]
        if not ok and name in GPG_DIFFERS and set(found) == GPG_DIFFERS[name]:
            ok = True
            found = found + ["(gpg differs by README Corrections)"]
        ok = ok and (e["incident"] is None or e["incident"] in refs)
        ok = ok and (not e["bound"] or s == "good") and (e["state_change"] is None or e["bound"])
        ok = ok and e["set"] in sets
        why = ""
        if wording and ok:
            covered = "\n".join(readable(b) for b in ck.covered)
            inc = refs.get(e["incident"])
            if not (s == "good" and e["bound"] and inc and e["state_change"] == STATE.get(e["kind"])):
                ok, why = False, "not good+bound with the state of its kind"
            elif inc["reference"] not in covered and inc["message_id"].strip("<>") not in covered:
                ok, why = False, "incident not named in what the signature covers"
            elif any(r in covered for r in refs if r != e["incident"]):
                ok, why = False, "another incident named in what the signature covers"
        if heldout and ok:
            why = heldout_why(e, found, ck.covered, incidents, earlier, closed)
            ok = not why
        if not ok:
            fails += 1
        print("%-4s %-58s %-15s %s %s" % ("ok" if ok else "FAIL", e["file"], s, ",".join(found), why))
    counts = {}
    for e in expected:
        counts[e["set"]] = counts.get(e["set"], 0) + 1
    print("%d files %s, %d failures" % (len(expected), counts, fails))
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="write the corpus here (the wording corpus in DIR-wordings, the held-out one in "
                                   "DIR-heldout) and keep it")
    ap.add_argument("--only", choices=("main", "wording", "heldout"), help="generate and check only this corpus")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="corpus-selftest-")
    homes = []
    try:
        cert_home = os.path.join(tmp, "cert", "gnupg")
        os.makedirs(os.path.dirname(cert_home))
        cert_fpr = make_key(cert_home, CERT_UID)
        rep_home = os.path.join(tmp, "reporter")
        rep_fpr = make_key(rep_home, "Jens Ærø <soc@example.dk>")
        homes += [cert_home, rep_home]
        rep_pub = os.path.join(tmp, "reporter.asc")
        open(rep_pub, "wb").write(gpg(rep_home, ["--armor", "--export", rep_fpr]).stdout)
        incidents = [
            {"reference": "CM-7KQ2-M9XD-3RTA", "message_id": "cm.7kq2m9xd3rta.1@example.dk", "title": "Ransomware på filserver"},
            {"reference": "CM-P4WN-8HJL-C2QE", "message_id": "cm.p4wn8hjlc2qe.1@example.dk", "title": "Phishing mod økonomiafdelingen"},
            {"reference": "CM-Z9TB-5RMV-K7NX", "message_id": "cm.z9tb5rmvk7nx.1@example.dk", "title": "DDoS mod selvbetjening"},
        ]
        for i in incidents:
            i["cleartext_subject"] = "[%s] Encrypted message" % i["reference"]
        manifest = {"cert_gnupg_home": cert_home, "cert_fingerprint": cert_fpr, "cert_address": "cert@example-cert.test",
                    "reporter_public_key": rep_pub, "reporter_address": "soc@example.dk", "incidents": incidents}
        mpath = os.path.join(tmp, "manifest.json")
        json.dump(manifest, open(mpath, "w"), ensure_ascii=False)
        subprocess.run(["gpgconf", "--homedir", cert_home, "--kill", "gpg-agent"])
        # Verifier keyring: the CERT's public key and the reporter's secret key only.
        vh = os.path.join(tmp, "verify")
        os.makedirs(vh, mode=0o700)
        homes.append(vh)
        pub = gpg(cert_home, ["--armor", "--export", cert_fpr]).stdout
        sec = gpg(rep_home, ["--armor", "--export-secret-keys", rep_fpr]).stdout
        gpg(vh, ["--import"], pub)
        gpg(vh, ["--import"], sec)
        ck = Checker(vh, cert_fpr)

        fails = 0
        runs = [("main", "make_corpus.py", "", ("dev", "holdout")),
                ("wording", "make_corpus_wordings.py", "-wordings", ("wording",)),
                ("heldout", "make_corpus_heldout.py", "-heldout", ("heldout",))]
        for name, script, suffix, sets in runs:
            if a.only and a.only != name:
                continue
            out = (a.keep.rstrip("/") + suffix) if a.keep else os.path.join(tmp, "out" + suffix)
            if a.keep and os.path.isdir(out):
                shutil.rmtree(out)
            subprocess.run([sys.executable, os.path.join(HERE, script), "--manifest", mpath, "--out", out], check=True)
            ck.rfc822 = name == "heldout"
            fails += check(ck, out, incidents, sets, wording=(name == "wording"), heldout=(name == "heldout"))
        return 1 if fails else 0
    finally:
        for h in homes:
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "gpg-agent"], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
