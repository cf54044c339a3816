//! certmail's one integration test target: the binary end to end in throwaway homes,
//! with GnuPG and Debian's `sq` as independent readers of what it sends.

mod analyst;
mod authors;
mod compose;
mod contract;
mod corpus;
mod delivery;
mod docs;
mod doctor;
mod golden;
mod hooks;
mod identity;
mod imap;
mod ingest;
mod init;
mod isolation;
mod keyring;
mod keys;
mod log;
mod moving;
mod new;
mod notify;
mod pg;
mod regimes;
mod regimes_blind;
mod report;
mod routing;
mod sending;
mod smtp;
mod stress;
mod support;
mod team;
mod validation;
