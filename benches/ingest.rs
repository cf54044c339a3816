//! Ingest benchmarks (run with `cargo bench --bench ingest -- MAILDIR`):
//! mail-parser's raw parse rate over a Maildir's messages, next to certmail's own
//! parse + classification of the same messages; and decrypt + verify of a 4 KiB
//! signed, encrypted reply in-process. The whole `certmail ingest` (with the
//! committed log) is timed by scripts/bench-ingest. Numbers go to BENCHMARKS.md.

use std::time::{Duration, Instant, SystemTime};

fn main() {
    let dir = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "target/bench-maildir".into());
    let mut files: Vec<Vec<u8>> = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(std::path::Path::new(&dir).join(sub)) {
            for e in entries.flatten() {
                files.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    if files.is_empty() {
        eprintln!("no messages in {dir}/new or {dir}/cur: make them with scripts/make-maildir.py {dir} 10000");
    } else if std::env::var_os("CLASSIFY_ONLY").is_some() {
        // For profiling the classifier alone: its texts, classified five times.
        let texts = texts_of(&files);
        // What they came out as, so a faster classifier can be held to the same answers.
        let mut kinds = std::collections::BTreeMap::new();
        let mut sequence = 0u64;
        for text in &texts {
            let kind = certmail::reply::classify(text, false);
            *kinds.entry(kind.key()).or_insert(0usize) += 1;
            sequence = sequence.wrapping_mul(31).wrapping_add(kind as u64 + 1);
        }
        println!("kinds: {kinds:?}, sequence {sequence:016x}");
        for _ in 0..5 {
            let t = Instant::now();
            let kinds: usize = texts.iter().map(|text| certmail::reply::classify(text, false) as usize).sum();
            std::hint::black_box(kinds);
            println!("classify alone: {} texts in {:.3} s", texts.len(), t.elapsed().as_secs_f64());
        }
    } else {
        let bytes: usize = files.iter().map(Vec::len).sum();
        let rate = |label: &str, f: &dyn Fn(&[u8]) -> usize| {
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                let mut n = 0;
                for m in &files {
                    n += f(m);
                }
                std::hint::black_box(n);
                best = best.min(t.elapsed());
            }
            println!(
                "{label}: {} messages ({} MB) in {:.3} s = {:.0} messages/s",
                files.len(),
                bytes / 1_000_000,
                best.as_secs_f64(),
                files.len() as f64 / best.as_secs_f64()
            );
        };
        rate("mail-parser alone (parse, text bodies)", &|m| {
            let msg = mail_parser::MessageParser::default().parse(m).unwrap();
            (0..msg.text_body_count()).filter_map(|i| msg.body_text(i)).map(|t| t.len()).sum()
        });
        rate("certmail reply::parse + classify", &|m| {
            let mail = certmail::reply::parse(m).unwrap();
            match &mail.content {
                certmail::reply::Content::Plain { parts } => {
                    let text = certmail::reply::readable_text(parts);
                    certmail::reply::classify_text(&text) as usize + certmail::reply::references_in(&text).len()
                }
                _ => 0,
            }
        });
        rate("certmail ingest::prepare (a parser thread's whole work per message)", &|m| {
            std::hint::black_box(certmail::ingest::prepare("bench", m.to_vec()));
            1
        });
        let texts = texts_of(&files);
        let t = Instant::now();
        let kinds: usize = texts.iter().map(|text| certmail::reply::classify(text, false) as usize).sum();
        std::hint::black_box(kinds);
        println!("classify alone: {} texts in {:.3} s", texts.len(), t.elapsed().as_secs_f64());
    }
    decrypt_verify();
}

/// The readable text of each plain message, as the classifier gets it.
fn texts_of(files: &[Vec<u8>]) -> Vec<String> {
    files
        .iter()
        .filter_map(|m| match certmail::reply::parse(m).ok()?.content {
            certmail::reply::Content::Plain { parts } => Some(certmail::reply::readable_text(&parts)),
            _ => None,
        })
        .collect()
}

fn decrypt_verify() {
    use certmail::crypto;
    let now = SystemTime::now();
    let (_, reporter) = crypto::generate_identity("Reporter <r@example.dk>", None, now).unwrap();
    let (_, cert) = crypto::generate_identity("Example CERT — test only <cert@example-cert.test>", None, now).unwrap();
    let reporter_public = crypto::read_cert(&reporter.public_armored().unwrap()).unwrap();
    let cert_public = crypto::read_cert(&cert.public_armored().unwrap()).unwrap();
    let body = "Vi har modtaget jeres underretning. ".repeat(4096 / 36);
    let mut message = Vec::new();
    let signer = cert.unlock(None, now).unwrap();
    crypto::sign_and_encrypt(&cert, &signer, &reporter_public, &[], now, &mut message, |w| w.write_all(body.as_bytes())).unwrap();
    let keys = reporter.decryptor(None).unwrap();
    let runs = 200;
    let t = Instant::now();
    for _ in 0..runs {
        let crypto::Decrypted { plaintext: plain, verified, .. } =
            crypto::decrypt(&keys, std::slice::from_ref(&cert_public), &message, &[], now, 1 << 20).unwrap();
        assert_eq!(verified.status, crypto::SignatureStatus::Good);
        std::hint::black_box(plain);
    }
    println!(
        "decrypt + verify of a {} byte signed, encrypted reply: {:.2} ms each (mean of {runs})",
        body.len(),
        t.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );
}
