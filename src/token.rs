//! The control API's bearer token as people hand it over: inline (`JOLT_CONTROL_TOKEN`) or in
//! a file. Shared by the server's `control:` config and the CLI client, so the client does not
//! depend on the server's configuration to read its own credentials.

use std::path::{Path, PathBuf};

/// Why a token could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token file could not be read.
    #[error("control.token_file: cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file named.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The token file holds nothing but whitespace.
    #[error("control.token_file: {} is empty", path.display())]
    Empty {
        /// The file named.
        path: PathBuf,
    },
}

/// The effective token: an inline `token` wins over `token_file`; an empty inline token means
/// none; a file must hold one.
pub fn resolve(
    token: Option<&str>,
    token_file: Option<&Path>,
) -> Result<Option<String>, TokenError> {
    if let Some(t) = token {
        return Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty()));
    }
    let Some(path) = token_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|source| TokenError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let t = text.trim().to_string();
    if t.is_empty() {
        return Err(TokenError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_wins_and_files_are_trimmed_and_must_hold_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, " s3cret\n").unwrap();
        assert_eq!(
            resolve(Some(" x "), Some(&file)).unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(resolve(Some("  "), None).unwrap(), None);
        assert_eq!(
            resolve(None, Some(&file)).unwrap().as_deref(),
            Some("s3cret")
        );
        assert_eq!(resolve(None, None).unwrap(), None);
        std::fs::write(&file, "\n").unwrap();
        let e = resolve(None, Some(&file)).unwrap_err().to_string();
        assert!(e.contains("is empty"), "{e}");
        let e = resolve(None, Some(&dir.path().join("nope"))).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
