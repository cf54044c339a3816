//! Owner-only files and folders: everything certmail writes under its home may hold
//! incident details or key material, so nothing is ever created world-readable.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::exit::{Failure, io_failure};

/// Creates a folder (and its parents) readable by the owner only.
pub fn private_dir(path: &Path) -> Result<(), Failure> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(|e| io_failure("cannot create folder", path, e))
}

/// Writes a file atomically (temporary file, fsync, rename) with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_private_with(path, |f| f.write_all(bytes))
}

/// Copies a file to `path` atomically with mode 0600, like [`write_private`].
pub fn copy_private(from: &Path, path: &Path) -> Result<(), Failure> {
    write_private_with(path, |f| {
        let mut source = fs::File::open(from)?;
        std::io::copy(&mut source, f).map(drop)
    })
}

fn write_private_with(path: &Path, fill: impl FnOnce(&mut fs::File) -> std::io::Result<()>) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_dir(parent)?;
    }
    let tmp = path.with_extension("certmail-tmp");
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        // The mode above only applies to new files; make sure of it either way.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        fill(&mut f)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_failure("cannot write", path, e)
    })
}

/// Reads a whole file, naming it on failure.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| io_failure("cannot read", path, e))
}
