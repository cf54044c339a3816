//! Fuzz target for the fast parse of the commonest reply (`reply::one_text`): when
//! it answers, its answer must be exactly mail-parser's full parse of the same bytes
//! (anything else is a message read differently from how mail-parser reads it).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(fast) = certmail::reply::one_text::parse(data) {
        let full = mail_parser::MessageParser::default().parse(data);
        assert!(Some(fast) == full, "one_text::parse differs from mail-parser's parse");
    }
});
