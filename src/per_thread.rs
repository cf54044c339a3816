//! Values built once for the process and used through each thread's own handle.
//!
//! A `regex::Regex` searches with scratch space from a pool that only the thread
//! that used it first takes without a lock. Ingest parses, classifies and prescans
//! on several threads at once, where a shared regex took a lock on every search but
//! one thread's. A clone shares the compiled automata and brings a pool of its own,
//! so each thread clones the one compiled value, once.

/// Declares `static NAME: TYPE` as this thread's handle on a value that `INIT`
/// builds once for the process; read it with `NAME.with(|value| ...)`. The type's
/// `Clone` must be cheap (a regex's clone shares what was compiled).
macro_rules! per_thread {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        thread_local! {
            $(#[$meta])*
            static $name: $ty = {
                static BUILT: std::sync::OnceLock<$ty> = std::sync::OnceLock::new();
                BUILT.get_or_init(|| $init).clone()
            };
        }
    };
}
