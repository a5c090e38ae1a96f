//! The daemon's resident memory once it has started.
//!
//! Starting up touches much that the steady state never touches again: building the control
//! router composes every route's OpenAPI schemas (about 2 MB of short-lived heap), and the
//! code that parses flags, config, scenarios and schemas is spread over most of the binary,
//! whose pages the kernel maps in 64 KiB windows around each fault. [`settle`] gives both back
//! once everything is built, so the resident set is what serving scrapes and requests uses.
//! Nothing is lost: freed heap is free, and a code page is read back from the page cache (a
//! minor fault) if it ever runs again.

use std::fs;

/// Returns the startup's freed heap to the kernel and drops this process's mappings of clean,
/// read-only file pages (its own code and constants, and the shared libraries'). Returns the
/// bytes unmapped, for the log.
pub fn settle() -> u64 {
    trim_heap();
    let Ok(smaps) = fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    clean_mappings(&smaps)
        .into_iter()
        .map(|Clean { start, len, .. }| {
            // SAFETY: the range is a whole mapping of a file, read-only, holding no anonymous
            // (copied-on-write) page, so dropping its pages loses nothing: the next access
            // maps the same page cache page again.
            let dropped =
                unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
            if dropped == 0 { len as u64 } else { 0 }
        })
        .sum()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of glibc's arenas.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

/// A mapping [`settle`] drops.
#[derive(Debug, PartialEq)]
struct Clean {
    start: usize,
    len: usize,
    /// Its `Rss:` when read, in KiB.
    rss_kib: u64,
}

/// Each mapping in `smaps` that is backed by a file, not writable, and holds no anonymous
/// page: a relocated read-only section (RELRO) holds anonymous pages and is left alone, as is
/// every writable or anonymous mapping. (`Rss:` comes before `Anonymous:` in each entry.)
fn clean_mappings(smaps: &str) -> Vec<Clean> {
    let mut out = Vec::new();
    let mut current: Option<Clean> = None;
    for line in smaps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(first) = fields.next() else { continue };
        let kib = fields.clone().next().and_then(|v| v.parse::<u64>().ok());
        match (first, kib) {
            ("Rss:", Some(rss)) => {
                if let Some(c) = current.as_mut() {
                    c.rss_kib = rss;
                }
            }
            ("Anonymous:", anon) => {
                if let (Some(c), Some(0)) = (current.take(), anon) {
                    out.push(c);
                }
            }
            _ => {
                if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':'))
                {
                    current = mapping(start, end, fields.collect());
                }
            }
        }
    }
    out
}

/// A mapping header (`start-end perms offset dev inode path`) worth dropping: read-only,
/// private and named by an absolute path (a file, not `[heap]`, `[vdso]` or anonymous).
fn mapping(start: &str, end: &str, rest: Vec<&str>) -> Option<Clean> {
    let [perms, _offset, _dev, inode, path, ..] = rest.as_slice() else {
        return None;
    };
    let read_only = perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-');
    if !read_only || !perms.ends_with('p') || *inode == "0" || !path.starts_with('/') {
        return None;
    }
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    (end > start).then_some(Clean {
        start,
        len: end - start,
        rss_kib: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55b8ced13000-55b8cef5d000 r--p 00000000 fe:00 5358188                    /usr/bin/jolt
Size:               2344 kB
Rss:                1204 kB
Anonymous:             0 kB
VmFlags: rd mr mw me sd
55b8cef5d000-55b8cf7cd000 r-xp 00249000 fe:00 5358188                    /usr/bin/jolt
Size:               8640 kB
Anonymous:             0 kB
55b8cf7cd000-55b8cf81f000 r--p 00ab8000 fe:00 5358188                    /usr/bin/jolt
Size:                328 kB
Anonymous:           328 kB
55b8cf81f000-55b8cf822000 rw-p 00b09000 fe:00 5358188                    /usr/bin/jolt
Anonymous:             0 kB
55b8d2d3d000-55b8d30c1000 rw-p 00000000 00:00 0                          [heap]
Anonymous:          2392 kB
7fca84000000-7fca84060000 r--p 00000000 00:00 0 
Anonymous:             0 kB
7ffd1b7f4000-7ffd1b7f6000 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
7fca9a9fd000-7fca9ab53000 r-xp 00026000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        let clean = |start, end, rss_kib| Clean {
            start,
            len: end - start,
            rss_kib,
        };
        assert_eq!(
            clean_mappings(SMAPS),
            vec![
                clean(0x55b8ced13000, 0x55b8cef5d000, 1204),
                clean(0x55b8cef5d000, 0x55b8cf7cd000, 0),
                clean(0x7fca9a9fd000, 0x7fca9ab53000, 0),
            ]
        );
    }

    /// `Rss:` summed over the mappings [`settle`] drops.
    fn resident_kib(smaps: &str) -> u64 {
        clean_mappings(smaps).iter().map(|c| c.rss_kib).sum()
    }

    #[test]
    fn settling_drops_clean_pages_and_the_code_keeps_running() {
        let smaps = || fs::read_to_string("/proc/self/smaps").unwrap();
        let before = resident_kib(&smaps());
        let unmapped = settle();
        // Reading smaps again runs code that was just dropped: it is read back on use.
        let after = resident_kib(&smaps());
        assert!(
            unmapped > 0,
            "the test binary has clean read-only file mappings"
        );
        assert!(
            after < before,
            "resident clean pages: {before} KiB before, {after} KiB after"
        );
    }
}
