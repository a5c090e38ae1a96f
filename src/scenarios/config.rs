//! Where custom scenarios live.

use clap::Args;
use serde::Deserialize;
use std::path::PathBuf;

/// The `scenarios:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenariosConfig {
    /// Directory of custom scenario files (`<name>.yaml`, `.yml` or `.json`), read at start
    /// and on SIGHUP; `PUT /scenarios/{name}` saves into it. Unset: custom scenarios live in
    /// memory only.
    pub dir: Option<PathBuf>,
}

/// Flags of the scenario catalog.
#[derive(Debug, Clone, Default, Args)]
pub struct ScenariosArgs {
    /// Directory of custom scenarios (read at start and on SIGHUP; PUT saves into it)
    #[arg(long, env = "JOLT_SCENARIOS_DIR", value_name = "DIR")]
    pub scenarios_dir: Option<PathBuf>,
}

impl ScenariosArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ScenariosConfig) {
        crate::merge::set(&mut cfg.dir, self.scenarios_dir.clone().map(Some));
    }
}
