//! `node_uname_info{sysname,release,version,machine,nodename,domainname}`, constant 1, from
//! the `uname(2)` system call as node_exporter does (so it describes the running kernel even
//! when `--procfs` points elsewhere).

use super::Subsystem;
use crate::metrics::family::Family;

/// The `uname` collector.
pub struct Uname;

/// A NUL-terminated `utsname` field as text.
fn field(raw: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Subsystem for Uname {
    fn name(&self) -> &'static str {
        "uname"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        // SAFETY: `utsname` is plain old data that uname(2) fills entirely on success.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        out.push(
            Family::gauge(
                "node_uname_info",
                "Labeled system information as provided by the uname system call.",
            )
            .with(
                &[
                    ("sysname", &field(&u.sysname)),
                    ("release", &field(&u.release)),
                    ("version", &field(&u.version)),
                    ("machine", &field(&u.machine)),
                    ("nodename", &field(&u.nodename)),
                    ("domainname", &field(&u.domainname)),
                ],
                1.0,
            ),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, value};

    #[test]
    fn labels_come_from_the_running_kernel() {
        let fams = collect(&Uname);
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(
            value(
                &fams,
                "node_uname_info",
                &[("sysname", "Linux"), ("release", release.trim())]
            ),
            1.0
        );
        assert_eq!(fams[0].samples[0].labels.len(), 6);
    }
}
