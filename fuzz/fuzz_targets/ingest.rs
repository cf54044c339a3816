//! Fuzz target for the ingest path: the structural prescan, the parser, reading
//! through the OpenPGP layers (signatures parsed and checked against no pinned key,
//! no decryption key), the whole-message verdict and the classifier. Any bytes must
//! give a result (a reading or a reason it is malformed) within the limits, never a
//! panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certmail::reply::limits::prescan(data);
    if let Ok(mail) = certmail::reply::parse(data) {
        if let certmail::reply::Content::Plain { parts } = &mail.content {
            let text = certmail::reply::readable_text(parts);
            let _ = certmail::reply::classify_text(&text);
            let _ = certmail::reply::references_in(&text);
            let _ = certmail::reply::cert_case_number(&text);
        }
    }
    let _ = certmail::ingest::read_untrusted(data, std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000));
    let _ = certmail::reply::split_mbox(data);
});
