//! Reading a message file as operators drop them: only regular files (no symlinks, FIFOs,
//! devices or directories), the size cap enforced on the file's size *before* reading and again
//! while reading (a file that grows is not read past the cap), and every failure told in Dutch
//! with the operating system's reason — never with the file's contents.

use std::io::Read;
use std::path::Path;

/// How much of an oversized or unreadable file is kept for the operator (never the whole body).
pub const PREVIEW_BYTES: usize = 512;

/// Why a file could not be taken as a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadFailure {
    /// The file could not be opened or read; `reason` is the OS error in Dutch.
    #[error("kan bestand niet lezen: {reason}")]
    Io { reason: String },
    /// Not a regular file: a symbolic link, FIFO, socket, device or directory.
    #[error("geen gewoon bestand ({what}); alleen gewone bestanden worden verwerkt")]
    NotRegular { what: &'static str },
    /// Larger than the cap (by its size on disk, or it grew past the cap while being read).
    #[error("bericht is te groot: {size} bytes, maximaal {limit} bytes toegestaan")]
    TooLarge {
        size: u64,
        limit: usize,
        /// The first bytes, for the operator's record.
        preview: Vec<u8>,
        /// SHA-256 (hex) of the whole file, read in small chunks (memory stays bounded): tells
        /// the same oversized file apart from another one with the same first bytes.
        sha256: String,
    },
}

impl ReadFailure {
    /// Stable machine name (JSON output, metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            ReadFailure::Io { .. } => "io",
            ReadFailure::NotRegular { .. } => "not-regular",
            ReadFailure::TooLarge { .. } => "too-large",
        }
    }
}

/// The OS error in Dutch, by kind (the raw errno text is English and means nothing to a user).
pub fn os_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let text = match e.kind() {
        K::NotFound => "bestand of map bestaat niet (meer)",
        K::PermissionDenied => "geen toegang (rechten op bestand of map)",
        K::AlreadyExists => "bestaat al",
        K::IsADirectory => "is een map, geen bestand",
        K::NotADirectory => "een deel van het pad is geen map",
        K::DirectoryNotEmpty => "map is niet leeg",
        K::StorageFull => "schijf is vol",
        K::ReadOnlyFilesystem => "bestandssysteem is alleen-lezen",
        K::FileTooLarge => "bestand is te groot voor het bestandssysteem",
        K::Interrupted | K::WouldBlock | K::TimedOut => "lezen onderbroken of verlopen",
        K::UnexpectedEof => "bestand eindigde onverwacht",
        K::InvalidInput | K::InvalidData => "ongeldige invoer voor het besturingssysteem",
        K::OutOfMemory => "onvoldoende geheugen",
        K::CrossesDevices => "verplaatsen naar een ander bestandssysteem kan niet",
        K::ResourceBusy => "bestand of apparaat is bezet",
        _ => "fout van het besturingssysteem",
    };
    match e.raw_os_error() {
        Some(code) => format!("{text} (os-fout {code})"),
        None => text.to_string(),
    }
}

/// What kind of non-regular file this is, in Dutch.
pub fn describe(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "symbolische link"
    } else if ft.is_dir() {
        "map"
    } else if ft.is_fifo() {
        "named pipe (FIFO)"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "apparaatbestand"
    } else {
        "onbekend soort bestand"
    }
}

/// Reads a regular file of at most `max_bytes`; symbolic links are not followed.
pub fn read_message_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, ReadFailure> {
    let io = |e: std::io::Error| ReadFailure::Io {
        reason: os_reason(&e),
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(ReadFailure::NotRegular {
            what: describe(&meta.file_type()),
        });
    }
    let file = open_no_follow(path).map_err(io)?;
    // The file may have been swapped between the check and the open: check what was opened.
    let opened = file.metadata().map_err(io)?;
    if !opened.file_type().is_file() {
        return Err(ReadFailure::NotRegular {
            what: describe(&opened.file_type()),
        });
    }
    if opened.len() > max_bytes as u64 {
        return Err(too_large(file, Vec::new(), max_bytes).map_err(io)?);
    }
    let mut buf = Vec::with_capacity(opened.len() as usize + 1);
    let mut file = file;
    (&mut file)
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() > max_bytes {
        // It grew past the cap while being read.
        return Err(too_large(file, buf, max_bytes).map_err(io)?);
    }
    Ok(buf)
}

/// The record of an oversized file: its first bytes, its length and its hash, read on in
/// chunks of 64 KiB after `head` (what was already read).
fn too_large(mut file: std::fs::File, head: Vec<u8>, limit: usize) -> std::io::Result<ReadFailure> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(&head);
    let mut size = head.len() as u64;
    let mut preview: Vec<u8> = head.iter().take(PREVIEW_BYTES).copied().collect();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        let want = PREVIEW_BYTES.saturating_sub(preview.len()).min(n);
        preview.extend_from_slice(&chunk[..want]);
        hasher.update(&chunk[..n]);
        size += n as u64;
    }
    Ok(ReadFailure::TooLarge {
        size,
        limit,
        preview,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NOFOLLOW | O_NONBLOCK: a link is refused, and opening a FIFO never blocks.
    const O_NOFOLLOW: i32 = 0o400000;
    const O_NONBLOCK: i32 = 0o4000;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NOFOLLOW | O_NONBLOCK)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_fifos_and_oversize_without_reading_all() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.xml");
        std::fs::write(&f, vec![b'x'; 2000]).unwrap();
        assert_eq!(read_message_file(&f, 2000).unwrap().len(), 2000);
        match read_message_file(&f, 1000) {
            Err(ReadFailure::TooLarge {
                size,
                preview,
                sha256,
                ..
            }) => {
                assert_eq!(size, 2000);
                assert_eq!(preview.len(), PREVIEW_BYTES);
                assert_eq!(sha256, crate::pipeline::sha256_hex(&vec![b'x'; 2000]));
            }
            other => panic!("{other:?}"),
        }
        let l = dir.path().join("l.xml");
        std::os::unix::fs::symlink(&f, &l).unwrap();
        assert!(matches!(
            read_message_file(&l, 5000),
            Err(ReadFailure::NotRegular {
                what: "symbolische link"
            })
        ));
        let missing = read_message_file(&dir.path().join("weg.xml"), 10).unwrap_err();
        assert!(missing.to_string().contains("bestaat niet"), "{missing}");
        assert!(matches!(
            read_message_file(dir.path(), 10),
            Err(ReadFailure::NotRegular { what: "map" })
        ));
    }
}
