//! The memory worker: `jolt __memory-worker`, a child process that holds the memory so an
//! out-of-memory kill takes it and not the exporter.
//!
//! Protocol, one decimal number per line: the daemon writes target sizes on the worker's stdin;
//! the worker answers on stdout with its resident anonymous bytes (`RssAnon`) after every step
//! towards a target and every [`IDLE_REPORT_MS`] while holding. A line `error <text>` reports a
//! failure before exiting. End of stdin makes it exit.
//!
//! It raises its `oom_score_adj` to 1000 (the kernel's first choice) and asks for SIGKILL when
//! its parent dies, so it can never outlive the daemon.

use std::io::Write;
use std::process::ExitCode;

/// How much is touched between two reports while growing (and between two looks at stdin).
const STEP: usize = 32 << 20;

/// Report period while holding: the worker sleeps in `poll`, burning no CPU.
const IDLE_REPORT_MS: i32 = 1000;

/// Runs the worker; `max_bytes` is the largest target it will be asked for, `parent` the
/// daemon's pid.
pub fn main(max_bytes: u64, parent: u32) -> ExitCode {
    match serve(max_bytes, parent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stdout(), "error {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(max_bytes: u64, parent: u32) -> Result<(), String> {
    // SAFETY: prctl and getppid on the calling process only.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() as u32 != parent {
            return Err("the daemon exited before the worker started".into());
        }
    }
    std::fs::write("/proc/self/oom_score_adj", "1000")
        .map_err(|e| format!("cannot raise oom_score_adj: {e}"))?;
    let len = usize::try_from(max_bytes).map_err(|_| "size too large".to_string())?;
    let mut region = Region::map(len)?;
    let mut target = 0usize;
    let mut input = Input::default();
    let mut out = std::io::stdout().lock();
    loop {
        let growing = region.touched < target;
        match input.poll(if growing { 0 } else { IDLE_REPORT_MS })? {
            Some(Command::Target(t)) => target = usize::try_from(t).unwrap_or(len).min(len),
            Some(Command::Eof) => return Ok(()),
            None => {}
        }
        region.resize(target);
        writeln!(out, "{}", resident_anon())
            .and_then(|_| out.flush())
            .map_err(|_| "the daemon stopped listening".to_string())?;
    }
}

/// One anonymous mapping, touched from its start up to `touched`.
struct Region {
    ptr: *mut u8,
    len: usize,
    touched: usize,
    page: usize,
}

impl Region {
    /// Reserves `len` bytes of address space; nothing is resident until touched.
    fn map(len: usize) -> Result<Region, String> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let len = len.max(1).div_ceil(page) * page;
        // SAFETY: a fresh private anonymous mapping; checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!(
                "cannot map {len} bytes: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Region {
            ptr: ptr.cast(),
            len,
            touched: 0,
            page,
        })
    }

    /// One step towards `target`: touches up to [`STEP`] more pages, or gives back everything
    /// beyond the target at once.
    fn resize(&mut self, target: usize) {
        let target = (target.div_ceil(self.page) * self.page).min(self.len);
        if target > self.touched {
            let end = target.min(self.touched + STEP);
            // SAFETY: the range is page-aligned and inside the mapping. MADV_POPULATE_WRITE
            // (Linux 5.14+) faults it in writable, as touching would, in one call.
            let populated = unsafe {
                libc::madvise(
                    self.ptr.add(self.touched).cast(),
                    end - self.touched,
                    libc::MADV_POPULATE_WRITE,
                )
            } == 0;
            if !populated {
                let mut at = self.touched;
                while at < end {
                    // SAFETY: `at` is inside the mapping; a volatile write makes it resident.
                    unsafe { self.ptr.add(at).write_volatile(1) };
                    at += self.page;
                }
            }
            self.touched = end;
        } else if target < self.touched {
            // SAFETY: the range is page-aligned and inside the mapping; MADV_DONTNEED frees the
            // pages at once (they read back as zero if touched again).
            unsafe {
                libc::madvise(
                    self.ptr.add(target).cast(),
                    self.touched - target,
                    libc::MADV_DONTNEED,
                );
            }
            self.touched = target;
        }
    }
}

/// Resident anonymous memory of this process, from `/proc/self/status`.
fn resident_anon() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What arrived on stdin.
enum Command {
    Target(u64),
    Eof,
}

/// Line-oriented reads of stdin that never block longer than asked.
#[derive(Default)]
struct Input {
    buf: Vec<u8>,
}

impl Input {
    /// Waits up to `timeout_ms` for input; returns the last complete target line, if any.
    fn poll(&mut self, timeout_ms: i32) -> Result<Option<Command>, String> {
        let mut fds = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut fds, 1, timeout_ms) };
        if n <= 0 {
            return Ok(None);
        }
        let mut chunk = [0u8; 512];
        // SAFETY: reads into a local buffer of the given length.
        let got = unsafe { libc::read(0, chunk.as_mut_ptr().cast(), chunk.len()) };
        if got <= 0 {
            return Ok(Some(Command::Eof));
        }
        self.buf.extend_from_slice(&chunk[..got as usize]);
        let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') else {
            return Ok(None);
        };
        let lines: Vec<u8> = self.buf.drain(..=end).collect();
        let last = String::from_utf8_lossy(&lines);
        let last = last.trim_end().rsplit('\n').next().unwrap_or("").trim();
        last.parse()
            .map(|t| Some(Command::Target(t)))
            .map_err(|_| format!("bad target line `{last}`"))
    }
}
