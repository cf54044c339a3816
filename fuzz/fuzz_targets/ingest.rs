//! Fuzz target for the ingest path: the structural prescan, the parser, reading
//! through the OpenPGP layers (signatures parsed and checked against no pinned key,
//! no decryption key), the whole-message verdict and the classifier, all inside
//! `ingest::read_untrusted`; and the mbox splitter. Any bytes must give a result (a
//! reading or a reason it is malformed) within the limits, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let _ = certmail::ingest::read_untrusted(data, now);
    let _ = certmail::reply::split_mbox(data);
});
