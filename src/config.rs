//! The daemon's configuration: built-in defaults, then a YAML file, then `JOLT_*` environment
//! variables, then flags. Validated once, before anything binds.
//!
//! Every section lives in a plain serde struct with `deny_unknown_fields`, so a typo in a
//! config file is an error that names the key rather than a silently ignored setting.

use crate::merge::{Invalid, set};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why the configuration cannot be used; each message names the file or the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        /// The file named by `--config`.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The file is not valid YAML for the schema (serde names the key and line).
    #[error("config file {}: {message}", path.display())]
    Parse {
        /// The file named by `--config`.
        path: PathBuf,
        /// serde's sentence.
        message: String,
    },
    /// A value is out of range or contradicts another.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The `control:` section (its token, its browser allowlists).
    #[error(transparent)]
    Control(#[from] crate::control::ControlConfigError),
    /// The `collectors:` section (its checks still return `anyhow`).
    #[error("{0:#}")]
    Collectors(anyhow::Error),
}

/// Everything `jolt serve` needs, after merging all sources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Prometheus scrapes `/metrics`; all interfaces, as exporters do.
    pub metrics_listen: SocketAddr,
    /// The control API; loopback by default because it can load the host.
    pub control_listen: SocketAddr,
    /// The simulated services that traffic actions hit.
    pub services_listen: SocketAddr,
    /// `text` for people, `json` for log shippers.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `jolt=debug`.
    pub log_level: String,
    /// Where scratch files of disk actions (`scratch/`) and run bundles (`runs/`) live; crash
    /// leftovers are removed at start.
    pub state_dir: PathBuf,
    /// Host collectors: which run and what they skip.
    pub collectors: crate::metrics::host::HostConfig,
    /// Control API security and limits.
    pub control: crate::control::ControlConfig,
    /// Action engine limits.
    pub actions: crate::actions::ActionsConfig,
    /// Where custom scenarios live.
    pub scenarios: crate::scenarios::ScenariosConfig,
    /// The simulated services and their baseline traffic.
    pub services: crate::services::ServicesConfig,
    /// Timeouts and connection caps of the three listeners.
    pub http: crate::listener::HttpConfig,
    /// Prometheus and Alertmanager, for verified scenarios.
    pub verify: crate::prom::PromConfig,
    /// Run bundles (retention) and the Grafana reports link to.
    pub reports: crate::reports::ReportsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            metrics_listen: "0.0.0.0:9477".parse().expect("valid default"),
            control_listen: "127.0.0.1:9478".parse().expect("valid default"),
            services_listen: "127.0.0.1:9479".parse().expect("valid default"),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            state_dir: std::env::temp_dir().join("jolt"),
            collectors: Default::default(),
            control: Default::default(),
            actions: Default::default(),
            scenarios: Default::default(),
            services: Default::default(),
            http: Default::default(),
            verify: Default::default(),
            reports: Default::default(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `jolt serve` (also the flags of plain `jolt`). Each is optional so that only what
/// the user set overrides the file; clap reads the `JOLT_*` variable when the flag is absent,
/// which gives the precedence defaults < file < environment < flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// YAML configuration file; unknown keys are an error.
    #[arg(long, env = "JOLT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Metrics listener HOST:PORT (port 0 picks a free port) [default: 0.0.0.0:9477]
    #[arg(long, env = "JOLT_METRICS_LISTEN", value_name = "HOST:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Control API listener HOST:PORT [default: 127.0.0.1:9478]
    #[arg(long, env = "JOLT_CONTROL_LISTEN", value_name = "HOST:PORT")]
    pub control_listen: Option<SocketAddr>,
    /// Simulated services listener HOST:PORT [default: 127.0.0.1:9479]
    #[arg(long, env = "JOLT_SERVICES_LISTEN", value_name = "HOST:PORT")]
    pub services_listen: Option<SocketAddr>,
    /// Log format [default: text]
    #[arg(long, env = "JOLT_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log level or tracing filter, e.g. `debug` or `jolt=debug,info` [default: info]
    #[arg(long, env = "JOLT_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// State directory for scratch files and run bundles [default: $TMPDIR/jolt]
    #[arg(long, env = "JOLT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub collectors: crate::metrics::host::HostArgs,
    #[command(flatten)]
    pub control: crate::control::ControlArgs,
    #[command(flatten)]
    pub actions: crate::actions::ActionsArgs,
    #[command(flatten)]
    pub scenarios: crate::scenarios::ScenariosArgs,
    #[command(flatten)]
    pub services: crate::services::ServicesArgs,
    #[command(flatten)]
    pub http: crate::listener::HttpArgs,
    #[command(flatten)]
    pub verify: crate::prom::PromArgs,
    #[command(flatten)]
    pub reports: crate::reports::ReportsArgs,
}

impl Config {
    /// Merges file, environment and flags over the defaults and validates the result.
    pub fn load(args: &ServeArgs) -> Result<Config, ConfigError> {
        let mut cfg = match &args.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        set(&mut cfg.metrics_listen, args.metrics_listen);
        set(&mut cfg.control_listen, args.control_listen);
        set(&mut cfg.services_listen, args.services_listen);
        set(&mut cfg.log_format, args.log_format);
        set(&mut cfg.log_level, args.log_level.clone());
        set(&mut cfg.state_dir, args.state_dir.clone());
        args.collectors.apply(&mut cfg.collectors);
        args.control.apply(&mut cfg.control);
        args.actions.apply(&mut cfg.actions);
        args.scenarios.apply(&mut cfg.scenarios);
        args.services.apply(&mut cfg.services);
        args.http.apply(&mut cfg.http);
        args.verify.apply(&mut cfg.verify);
        args.reports.apply(&mut cfg.reports);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads a YAML file; serde's messages name the unknown or invalid key and its line.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Checks what serde cannot: cross-field rules and value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.log_level.trim().is_empty() {
            return Err(Invalid::new("log_level", "must not be empty (try `info`)").into());
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|e| {
            Invalid::new(
                "log_level",
                format!("`{}` is not a filter: {e}", self.log_level),
            )
        })?;
        self.collectors
            .validate()
            .map_err(ConfigError::Collectors)?;
        self.control.validate(self.control_listen)?;
        self.actions.validate()?;
        self.services.validate()?;
        self.http.validate()?;
        self.verify.validate()?;
        self.reports.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn unknown_key_is_named() {
        let f = write("metrics_listen: 127.0.0.1:1\nbogus_key: 3\n");
        let err = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(err.contains("bogus_key"), "{err}");
    }

    #[test]
    fn nested_unknown_key_is_named() {
        let f = write("collectors:\n  nope: true\n");
        let err = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn flags_override_file() {
        let f = write("metrics_listen: 127.0.0.1:1111\nlog_level: debug\n");
        let args = ServeArgs {
            config: Some(f.path().into()),
            metrics_listen: Some("127.0.0.1:2222".parse().unwrap()),
            ..Default::default()
        };
        let cfg = Config::load(&args).unwrap();
        assert_eq!(cfg.metrics_listen.port(), 2222);
        assert_eq!(cfg.log_level, "debug");
    }

    #[test]
    fn bad_value_is_an_error() {
        let f = write("metrics_listen: not-an-address\n");
        let err = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(err.contains("metrics_listen"), "{err}");
    }
}
