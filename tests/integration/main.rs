//! certmail's one integration test target: the binary end to end in throwaway homes,
//! with GnuPG and Debian's `sq` as independent readers of what it sends.

mod golden;
mod keys;
mod notify;
mod support;
mod validation;
