//! A minimal HTTP/1.1 keep-alive client connection for load generation: one prebuilt request
//! written as is, the response head parsed by `httparse`, the body skipped by its framing
//! (Content-Length, chunked, or until close).
//!
//! Why not hyper's client: a load generator must cost less than what it loads. Measured here
//! against jolt's own /echo, hyper's client took about twice the CPU per request of hyper's
//! server (request and response objects, a dispatch channel and a callback per request), which
//! capped the traffic action well below `wrk`. This reads into one reused buffer and allocates
//! nothing per request, as `wrk` does.

use std::io::{Error, ErrorKind, Result};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Response heads larger than this are refused.
const MAX_HEAD: usize = 64 * 1024;
/// Headers per response at most.
const MAX_HEADERS: usize = 64;

/// One connection.
pub struct Http1 {
    stream: TcpStream,
    /// Bytes read but not consumed are `buf[pos..filled]`.
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
}

/// How the body of a response is delimited.
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidData, msg.to_string())
}

impl Http1 {
    /// Connects with Nagle off (requests are small and latency matters).
    pub async fn connect(addr: SocketAddr) -> Result<Http1> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Http1 {
            stream,
            buf: vec![0; 8 * 1024],
            pos: 0,
            filled: 0,
        })
    }

    /// Sends `request` (a complete request) and reads the whole response; returns its status
    /// code and whether the connection may be reused.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<(u16, bool)> {
        self.stream.write_all(request).await?;
        self.pos = 0;
        self.filled = 0;
        let (code, framing, keep) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp
                .parse(&self.buf[self.pos..self.filled])
                .map_err(|e| bad(&format!("malformed response head: {e}")))?
            {
                httparse::Status::Complete(n) => {
                    let head = head(&resp)?;
                    self.pos += n;
                    // An interim 1xx answer: the real one follows.
                    if (100..200).contains(&head.0) {
                        continue;
                    }
                    break head;
                }
                httparse::Status::Partial => {
                    if self.filled - self.pos >= MAX_HEAD {
                        return Err(bad("response head too large"));
                    }
                    self.fill().await?;
                }
            }
        };
        match framing {
            Framing::None => {}
            Framing::Length(n) => self.skip(n).await?,
            Framing::Chunked => self.skip_chunks().await?,
            Framing::UntilClose => {
                while self.fill_or_eof().await? {
                    self.pos = self.filled;
                }
                return Ok((code, false));
            }
        }
        // Anything beyond the response means the framing was not what it said.
        Ok((code, keep && self.pos == self.filled))
    }

    /// Reads more into the buffer; an error at end of stream.
    async fn fill(&mut self) -> Result<()> {
        if self.fill_or_eof().await? {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::UnexpectedEof,
                "connection closed mid-response",
            ))
        }
    }

    /// Reads more into the buffer (compacting or growing it first); false at end of stream.
    async fn fill_or_eof(&mut self) -> Result<bool> {
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
        }
        if self.filled == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.filled, 0);
                self.filled -= self.pos;
                self.pos = 0;
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        Ok(n > 0)
    }

    /// Consumes `n` body bytes.
    async fn skip(&mut self, mut n: u64) -> Result<()> {
        loop {
            let have = (self.filled - self.pos) as u64;
            if have >= n {
                self.pos += n as usize;
                return Ok(());
            }
            n -= have;
            self.pos = self.filled;
            self.fill().await?;
        }
    }

    /// Consumes a chunked body and its trailers.
    async fn skip_chunks(&mut self) -> Result<()> {
        loop {
            let (used, size) = loop {
                match httparse::parse_chunk_size(&self.buf[self.pos..self.filled])
                    .map_err(|_| bad("malformed chunk size"))?
                {
                    httparse::Status::Complete(v) => break v,
                    httparse::Status::Partial => self.fill().await?,
                }
            };
            self.pos += used;
            if size == 0 {
                // Trailer lines, up to an empty one.
                loop {
                    let line = self.line_len().await?;
                    self.pos += line;
                    if line == 2 {
                        return Ok(());
                    }
                }
            }
            self.skip(size + 2).await?;
        }
    }

    /// Length of the next line including its CRLF, reading more as needed.
    async fn line_len(&mut self) -> Result<usize> {
        loop {
            let rest = &self.buf[self.pos..self.filled];
            if let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                return Ok(i + 2);
            }
            if rest.len() >= MAX_HEAD {
                return Err(bad("trailer too large"));
            }
            self.fill().await?;
        }
    }
}

/// Status, body framing and keep-alive from a parsed head.
fn head(resp: &httparse::Response<'_, '_>) -> Result<(u16, Framing, bool)> {
    let code = resp.code.ok_or_else(|| bad("no status code"))?;
    let mut keep = resp.version == Some(1);
    let mut framing = Framing::UntilClose;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad("bad content-length"))?;
            if !matches!(framing, Framing::Chunked) {
                framing = Framing::Length(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let chunked = h
                .value
                .rsplit(|b| *b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if chunked {
                framing = Framing::Chunked;
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = h.value.trim_ascii();
            if v.eq_ignore_ascii_case(b"close") {
                keep = false;
            } else if v.eq_ignore_ascii_case(b"keep-alive") {
                keep = true;
            }
        }
    }
    if code == 204 || code == 304 || (100..200).contains(&code) {
        framing = Framing::None;
    }
    if matches!(framing, Framing::UntilClose) {
        keep = false;
    }
    Ok((code, framing, keep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Serves `answers` in order on one connection, each after reading one request head.
    async fn server(answers: Vec<&'static [u8]>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for a in answers {
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                // Split the answer in two writes to exercise partial reads.
                let (a1, a2) = a.split_at(a.len() / 2);
                s.write_all(a1).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                s.write_all(a2).await.unwrap();
            }
        });
        addr
    }

    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    #[tokio::test]
    async fn keeps_alive_across_every_framing() {
        let addr = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
            b"HTTP/1.1 503 Down\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
        ])
        .await;
        let mut c = Http1::connect(addr).await.unwrap();
        assert_eq!(c.exchange(REQ).await.unwrap(), (200, true));
        assert_eq!(c.exchange(REQ).await.unwrap(), (204, true));
        assert_eq!(c.exchange(REQ).await.unwrap(), (500, true));
        assert_eq!(c.exchange(REQ).await.unwrap(), (503, false));
    }

    #[tokio::test]
    async fn a_body_until_close_is_read_and_not_reused() {
        let addr = server(vec![b"HTTP/1.0 200 OK\r\n\r\nsome body"]).await;
        let mut c = Http1::connect(addr).await.unwrap();
        assert_eq!(c.exchange(REQ).await.unwrap(), (200, false));
    }

    #[tokio::test]
    async fn garbage_and_truncation_are_errors() {
        let addr = server(vec![b"NOT HTTP AT ALL\r\n\r\n"]).await;
        let mut c = Http1::connect(addr).await.unwrap();
        assert!(c.exchange(REQ).await.is_err());
        let addr = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"]).await;
        let mut c = Http1::connect(addr).await.unwrap();
        assert!(c.exchange(REQ).await.is_err());
    }
}
