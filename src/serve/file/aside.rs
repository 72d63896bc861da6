//! Where a file goes when it leaves the inbox: `done/` or `failed/`, under its own name, or with
//! a suffix `~2`, `~3`, … before the extension when that name is taken (`x.xml`, `x~2.xml`), so
//! it can be moved back to the inbox as it is. A failed file gets its own reason file beside it,
//! `<that name>.reden.txt`, whatever the name clashes.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `name` with `~n` before its extension (n ≥ 2); a name without extension gets it at the end,
/// a hidden name without a further dot too.
fn suffixed(name: &OsStr, n: u32) -> OsString {
    let p = Path::new(name);
    let (stem, ext) = match (p.file_stem(), p.extension()) {
        (Some(stem), Some(ext)) => (stem.to_os_string(), Some(ext)),
        _ => (name.to_os_string(), None),
    };
    let mut s = stem;
    s.push(format!("~{n}"));
    if let Some(ext) = ext {
        s.push(".");
        s.push(ext);
    }
    s
}

/// The reason file of a file in `failed/`.
pub fn reason_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_os_string();
    s.push(".reden.txt");
    PathBuf::from(s)
}

/// A free name in `dir` for `name`: neither it nor its reason file exists. With `reserve`, the
/// reason file is created at once (exclusively), so two workers never pick the same name.
fn free_target(
    dir: &Path,
    name: &OsStr,
    reserve: bool,
) -> std::io::Result<(PathBuf, Option<std::fs::File>)> {
    for n in 1..=100_000u32 {
        let candidate = if n == 1 {
            name.to_os_string()
        } else {
            suffixed(name, n)
        };
        let target = dir.join(&candidate);
        if std::fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        if !reserve {
            return Ok((target, None));
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(reason_path(&target))
        {
            Ok(f) => return Ok((target, Some(f))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
}

/// Moves `from` (a file, or a link, FIFO or directory itself: never what a link points to) into
/// `dir` under a free name; returns that name.
pub fn to_done(from: &Path, dir: &Path, name: &OsStr) -> std::io::Result<PathBuf> {
    let (target, _) = free_target(dir, name, false)?;
    std::fs::rename(from, &target)?;
    Ok(target)
}

/// Moves `from` into `failed/` under a free name with its own reason file (`reason`, one line in
/// Dutch); returns where it went.
pub fn to_failed(from: &Path, dir: &Path, name: &OsStr, reason: &str) -> std::io::Result<PathBuf> {
    let (target, file) = free_target(dir, name, true)?;
    if let Some(mut f) = file {
        f.write_all(format!("{}\n", reason.trim_end()).as_bytes())?;
    }
    if let Err(e) = std::fs::rename(from, &target) {
        let _ = std::fs::remove_file(reason_path(&target));
        return Err(e);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_goes_before_the_extension() {
        let s = |n: &str, i| suffixed(OsStr::new(n), i).to_string_lossy().to_string();
        assert_eq!(s("x.xml", 2), "x~2.xml");
        assert_eq!(s("a.b.xml", 3), "a.b~3.xml");
        assert_eq!(s("README", 2), "README~2");
        assert_eq!(s(".verborgen", 2), ".verborgen~2");
    }

    #[test]
    fn every_failed_file_gets_its_own_reason() {
        let d = tempfile::tempdir().unwrap();
        let (inbox, failed) = (d.path().join("in"), d.path().join("failed"));
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&failed).unwrap();
        for i in 0..3 {
            let f = inbox.join("x.xml");
            std::fs::write(&f, format!("{i}")).unwrap();
            to_failed(&f, &failed, OsStr::new("x.xml"), &format!("reden {i}")).unwrap();
        }
        for (name, i) in [("x.xml", 0), ("x~2.xml", 1), ("x~3.xml", 2)] {
            assert_eq!(
                std::fs::read_to_string(failed.join(name)).unwrap(),
                format!("{i}")
            );
            let r = std::fs::read_to_string(failed.join(format!("{name}.reden.txt"))).unwrap();
            assert_eq!(r, format!("reden {i}\n"));
        }
    }
}
