//! Writes a run's files into its output folder, all or nothing.
//!
//! Files are written into a temporary sibling folder (`.<name>.tmp-<pid>`),
//! which replaces the destination only once everything is written: an
//! interrupted or failed run leaves the previous results in place. On Linux
//! the replacement is one atomic exchange of the two folders, so even a kill
//! at the last moment leaves either the old or the new results, complete.
//! The new files and folder are synced to disk before the exchange, and the
//! parent folder, which records it, after: a power cut cannot undo it.
//!
//! Every output folder holds a marker file, [`MARKER`], naming the format
//! ([`MARKER_CONTENT`]): only a folder with it (or an empty one, or one of
//! an earlier sancsim: see [`write_folder`]) may be replaced.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Refuses an output folder that holds one of the run's own input files,
/// which replacing the folder would delete.
pub fn check_not_inside(dest: &Path, inputs: &[&Path]) -> Result<(), Error> {
    let Ok(d) = dest.canonicalize() else { return Ok(()) };
    for input in inputs {
        if input.canonicalize().is_ok_and(|f| f.starts_with(&d)) {
            return Err(Error::Usage(format!(
                "{}: the output folder holds the input {}, which writing the results would delete: choose another --out",
                dest.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// File written into every output folder, marking it as sancsim's own.
pub const MARKER: &str = ".sancsim-output";
/// First line of [`MARKER`]: names the format of the folder's files.
pub const MARKER_CONTENT: &str = "sancsim-output/1\n";
/// What a [`MARKER`] of any version starts with.
const MARKER_FAMILY: &str = "sancsim-output/";

/// Whether `dest` holds a [`MARKER`]: a plain file (not a link) that starts
/// with [`MARKER_FAMILY`].
fn has_marker(dest: &Path) -> bool {
    let path = dest.join(MARKER);
    let plain = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() < 4096);
    plain && fs::read(&path).is_ok_and(|b| b.starts_with(MARKER_FAMILY.as_bytes()))
}

/// Whether `dest` is an output folder of a sancsim from before the marker:
/// its `summary.json` reads as a sancsim [`Summary`](crate::results::Summary),
/// or its `partial.json` names a sancsim partial-result format. A file that
/// merely has one of these names does not count.
fn is_earlier_output(dest: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Format {
        format: String,
    }
    let read = |name: &str| {
        let path = dest.join(name);
        let plain = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if plain { fs::read(&path).ok() } else { None }
    };
    let summary = read("summary.json").is_some_and(|b| serde_json::from_slice::<crate::results::Summary>(&b).is_ok());
    let partial = read(crate::partial::FILE_NAME)
        .is_some_and(|b| serde_json::from_slice::<Format>(&b).is_ok_and(|f| f.format.starts_with("sancsim-partial/")));
    summary || partial
}

fn check_replaceable(dest: &Path) -> Result<(), Error> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dest, e)),
    };
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "{}: {why}; sancsim only replaces an empty folder or one it wrote (marked by its \
             {MARKER} file): choose another --out, or delete the folder if it is an old result",
            dest.display()
        )))
    };
    if !meta.is_dir() {
        return refuse("exists and is not a folder");
    }
    if let (Ok(d), Ok(cwd)) = (
        dest.canonicalize(),
        std::env::current_dir().and_then(|c| c.canonicalize()),
    ) {
        if cwd.starts_with(&d) {
            return refuse("is the working folder or contains it");
        }
    }
    let mut entries = fs::read_dir(dest).map_err(|e| Error::io(dest, e))?;
    if entries.next().is_none() || has_marker(dest) || is_earlier_output(dest) {
        return Ok(());
    }
    refuse("exists and does not hold sancsim results")
}

/// Syncs a folder's entries to disk (`fsync` on the folder): what makes a
/// file created in it, or a rename within it, survive a power cut. Where
/// folders cannot be opened or synced (not Unix; some network file systems
/// answer EINVAL), there is nothing more to do, so that is no error.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let result = fs::File::open(dir).and_then(|d| d.sync_all());
        if let Err(e) = result {
            // EINVAL and ENOTSUP: this file system does not sync folders.
            let unsupported = matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
            );
            if !unsupported {
                return Err(Error::io(dir, e));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The folder that holds `dest` (`.` for a bare name), created if missing.
fn existing_parent(dest: &Path) -> Result<std::path::PathBuf, Error> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    Ok(parent)
}

/// Writes `files` (name, bytes) and the [`MARKER`] as the whole content of
/// folder `dest`.
///
/// An existing `dest` is replaced only if it is empty, holds a [`MARKER`],
/// or is an output folder of a sancsim from before the marker (its
/// summary.json is a sancsim summary, or its partial.json a sancsim partial
/// result): anything else is refused, so a mistyped `--out` can never wipe
/// an unrelated folder.
///
/// Durability: each file is synced, then the new folder, before it takes
/// `dest`'s place; the parent folder is synced after, so the exchange
/// itself reaches the disk.
///
/// `cancelled` is asked between files and just before the folder is put in
/// place; when it says yes, the temporary folder is removed and the result
/// is [`Error::Interrupted`], with `dest` untouched.
pub fn write_folder(dest: &Path, files: &[(String, Vec<u8>)], cancelled: &dyn Fn() -> bool) -> Result<(), Error> {
    check_replaceable(dest)?;
    let parent = existing_parent(dest)?;
    let name = dest
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{}: output folder needs a name", dest.display())))?
        .to_string_lossy()
        .to_string();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let marker = (MARKER.to_string(), MARKER_CONTENT.as_bytes().to_vec());
    let result = (|| {
        fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        for (file, bytes) in files.iter().chain([&marker]) {
            if cancelled() {
                return Err(Error::Interrupted);
            }
            let path = tmp.join(file);
            let mut f = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            f.write_all(bytes).map_err(|e| Error::io(&path, e))?;
            f.sync_all().map_err(|e| Error::io(&path, e))?;
        }
        sync_dir(&tmp)?;
        if cancelled() {
            return Err(Error::Interrupted);
        }
        if dest.exists() && exchange(&tmp, dest).is_ok() {
            let synced = sync_dir(&parent);
            // `tmp` now holds the previous results.
            let _ = fs::remove_dir_all(&tmp);
            return synced;
        }
        if dest.exists() {
            fs::rename(dest, &old).map_err(|e| Error::io(dest, e))?;
        }
        fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))?;
        let synced = sync_dir(&parent);
        let _ = fs::remove_dir_all(&old);
        synced
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
        if !dest.exists() && old.exists() {
            let _ = fs::rename(&old, dest);
        }
    }
    result
}

/// Swaps two paths in one atomic step (Linux `renameat2` with
/// `RENAME_EXCHANGE`): at every instant `b` is either the old or the new folder.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both arguments are valid NUL-terminated paths that outlive the
    // call; AT_FDCWD resolves them relative to the working directory.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere: no atomic exchange; the caller falls back to two renames.
#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Writes one file atomically: into a temporary sibling, then renamed over
/// `dest`.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = existing_parent(dest)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))?;
        sync_dir(&parent)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_replace_a_folder_that_is_not_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("thesis");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("chapter1.txt"), "precious").unwrap();
        let err = write_folder(&dest, &[("summary.json".into(), b"{}".to_vec())], &|| false).unwrap_err();
        assert!(err.to_string().contains("does not hold sancsim results"), "{err}");
        assert_eq!(fs::read_to_string(dest.join("chapter1.txt")).unwrap(), "precious");
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(write_folder(&file, &[], &|| false).is_err());
    }

    #[test]
    fn replaces_the_whole_folder() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        write_folder(
            &dest,
            &[("summary.json".into(), b"1".to_vec()), ("b.txt".into(), b"2".to_vec())],
            &|| false,
        )
        .unwrap();
        write_folder(&dest, &[("summary.json".into(), b"3".to_vec())], &|| false).unwrap();
        assert_eq!(fs::read(dest.join("summary.json")).unwrap(), b"3");
        assert!(!dest.join("b.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary folders left behind");
    }

    #[test]
    fn an_interrupt_while_writing_leaves_the_old_folder_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        write_folder(&dest, &[("summary.json".into(), b"old".to_vec())], &|| false).unwrap();
        let asked = std::cell::Cell::new(0);
        let files = [
            ("summary.json".into(), b"new".to_vec()),
            ("b.txt".into(), b"2".to_vec()),
        ];
        // `cancelled` is asked before each of the two files, before the
        // marker and just before the exchange: interrupted after the first
        // file, and (second case) at the last check, just before the exchange.
        for after in [1, 3] {
            asked.set(0);
            let cancelled = || {
                asked.set(asked.get() + 1);
                asked.get() > after
            };
            let err = write_folder(&dest, &files, &cancelled).unwrap_err();
            assert!(matches!(err, Error::Interrupted), "{err}");
            assert_eq!(fs::read(dest.join("summary.json")).unwrap(), b"old");
            let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(leftovers.len(), 1, "temporary folders left behind");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exchange_swaps_two_folders_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("x"), "new").unwrap();
        fs::write(b.join("x"), "old").unwrap();
        exchange(&a, &b).unwrap();
        assert_eq!(fs::read_to_string(b.join("x")).unwrap(), "new");
        assert_eq!(fs::read_to_string(a.join("x")).unwrap(), "old");
    }
}
