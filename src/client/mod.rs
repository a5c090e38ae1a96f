//! The CLI client: subcommands that talk to a running daemon's control API over HTTP.
//!
//! [`Client`] is the one HTTP helper every subcommand uses (actions here, scenarios and runs
//! in `scenarios.rs`): it adds the bearer token, turns the API's JSON errors into an
//! `anyhow::Error` carrying the API's own message, and knows nothing about routes.

pub mod actions;
pub mod events;
pub mod fleet;
pub mod report;
pub mod runs;
pub mod scenarios;
pub mod table;
pub mod verify;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

/// How long a plain request may take; stopping an action waits for its cleanup, so generous.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the daemon is and how to authenticate; flattened into every client subcommand.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Control API address of the daemon, HOST:PORT or http://HOST:PORT
    #[arg(
        long,
        env = "JOLT_CONTROL_ADDR",
        value_name = "ADDR",
        default_value = "127.0.0.1:9478"
    )]
    pub control: String,
    /// File with the control API's bearer token
    #[arg(long, env = "JOLT_CONTROL_TOKEN_FILE", value_name = "FILE")]
    pub control_token_file: Option<PathBuf>,
    /// The control API's bearer token (prefer the file)
    #[arg(
        long,
        env = "JOLT_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
}

impl ClientArgs {
    /// The bearer token to send, read from the file now so a bad path fails first.
    pub fn token(&self) -> Result<Option<String>, crate::token::TokenError> {
        crate::token::resolve(
            self.control_token.as_deref(),
            self.control_token_file.as_deref(),
        )
    }
}

/// A blocking client of the control API.
pub struct Client {
    /// `http://host:port`, without a trailing slash.
    base: String,
    /// Sent as `Authorization: Bearer …` when set.
    token: Option<String>,
    /// Returns error statuses as responses so their JSON body can be read.
    agent: ureq::Agent,
    /// Same, without a global timeout, for streams that last as long as the user wants.
    stream_agent: ureq::Agent,
}

impl Client {
    /// A client for the daemon `args` names; reads the token file now so a bad path fails first.
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        Client::with_timeout(args, TIMEOUT)
    }

    /// Same, with requests bounded by `timeout` (a fleet's per-host limit).
    pub fn with_timeout(args: &ClientArgs, timeout: Duration) -> anyhow::Result<Client> {
        let token = args.token()?;
        let addr = args.control.trim().trim_end_matches('/');
        let base = if addr.starts_with("http://") {
            addr.to_string()
        } else if addr.starts_with("https://") {
            bail!(
                "--control {addr}: this client speaks plain HTTP; put TLS in front with a proxy on the daemon's side"
            );
        } else {
            format!("http://{addr}")
        };
        let agent = |timeout| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(timeout)
                .timeout_connect(Some(
                    Duration::from_secs(5).min(timeout.unwrap_or(Duration::MAX)),
                ))
                .build()
                .into()
        };
        Ok(Client {
            base,
            token,
            agent: agent(Some(timeout)),
            stream_agent: agent(None),
        })
    }

    /// `GET path` → the JSON body.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send("GET", path, None)
    }

    /// `POST path` with an optional JSON body → the JSON body.
    pub fn post(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let body = body.map(|b| (b.to_string(), "application/json"));
        self.send("POST", path, body.as_ref().map(|(b, ct)| (b.as_str(), *ct)))
    }

    /// `PUT path` with a body of the given content type → the JSON body.
    pub fn put(&self, path: &str, body: &str, content_type: &str) -> anyhow::Result<Value> {
        self.send("PUT", path, Some((body, content_type)))
    }

    /// `DELETE path` → the JSON body.
    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send("DELETE", path, None)
    }

    /// Any method; `body` is (text, content type). Non-2xx answers become errors carrying the
    /// API's message.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> anyhow::Result<Value> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = match body {
            Some((text, ct)) => {
                let req = req.header("Content-Type", ct).body(text.to_string())?;
                self.agent.run(req)
            }
            None => self.agent.run(req.body(())?),
        }
        .with_context(|| format!("cannot reach the jolt control API at {}", self.base))?;
        let status = resp.status();
        let text = resp
            .into_body()
            .read_to_string()
            .with_context(|| format!("reading the answer to {method} {path}"))?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if !status.is_success() {
            bail!("{}", api_message(status.as_u16(), json.as_ref(), &text));
        }
        Ok(json.unwrap_or(Value::String(text)))
    }

    /// `GET path` as a long-lived stream (server-sent events): a reader of its lines.
    pub fn stream(&self, path: &str) -> anyhow::Result<impl BufRead + use<>> {
        let mut req = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", self.base))
            .header("Accept", "text/event-stream");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = self
            .stream_agent
            .run(req.body(())?)
            .with_context(|| format!("cannot reach the jolt control API at {}", self.base))?;
        let status = resp.status();
        let mut body = resp.into_body();
        if !status.is_success() {
            let text = body.read_to_string().unwrap_or_default();
            let json: Option<Value> = serde_json::from_str(&text).ok();
            bail!("{}", api_message(status.as_u16(), json.as_ref(), &text));
        }
        Ok(std::io::BufReader::new(body.into_reader()))
    }
}

/// The API's own sentence (and field) for an error answer, falling back to the raw body.
fn api_message(status: u16, json: Option<&Value>, text: &str) -> String {
    match json.and_then(|j| j["message"].as_str().map(|m| (j, m))) {
        Some((j, m)) => match j["field"].as_str() {
            Some(f) if !m.contains(f) => format!("{m} (field `{f}`, HTTP {status})"),
            _ => format!("{m} (HTTP {status})"),
        },
        None => format!("HTTP {status}: {}", text.trim()),
    }
}

/// A command that failed, and the exit code the process should end with: 1 for most, 2 for
/// the verdict commands (whose 1 means "the checks failed").
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, for one line on stderr.
    pub error: anyhow::Error,
    /// The process's exit code.
    pub code: u8,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { error, code: 1 }
    }
}

/// What a client command ends with: its exit code, or a failure.
pub type Outcome = Result<u8, Failure>;

/// A command without a verdict: 0 when it worked.
pub fn plain(result: anyhow::Result<()>) -> Outcome {
    result.map(|()| 0).map_err(Failure::from)
}

/// A verdict command: its own code when it ran, 2 when it could not.
pub fn judged(result: anyhow::Result<u8>) -> Outcome {
    result.map_err(|error| Failure { error, code: 2 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_message_prefers_the_api_sentence() {
        let j =
            json!({"error": "bad_request", "message": "unknown field `bogus`", "field": "bogus"});
        assert_eq!(
            api_message(400, Some(&j), ""),
            "unknown field `bogus` (HTTP 400)"
        );
        let j = json!({"error": "unprocessable", "message": "too big", "field": "size"});
        assert_eq!(
            api_message(422, Some(&j), ""),
            "too big (field `size`, HTTP 422)"
        );
        assert_eq!(api_message(502, None, "gateway\n"), "HTTP 502: gateway");
    }
}
