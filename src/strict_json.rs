//! Strict JSON decoding for every body jolt reads: exactly one JSON value (trailing data is an
//! error, not ignored), no byte-order mark, no bare `null` where an object is expected, and
//! error paths that name the field exactly (`steps[0].action.percent`, never a trailing dot).

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// Why a body is not the JSON value it should be.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonError {
    /// The text starts with U+FEFF.
    #[error("the body starts with a byte-order mark (U+FEFF); send UTF-8 JSON without one")]
    ByteOrderMark,
    /// The whole body is `null`.
    #[error("the body is the JSON literal null; send an object, or no body for the defaults")]
    Null,
    /// Not JSON at all, or cut short.
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// A complete value followed by more text.
    #[error("trailing data after the JSON value: {0}; send exactly one JSON object")]
    Trailing(String),
    /// Well-formed JSON whose content is wrong; `path` names the field when there is one.
    #[error("{}{message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
    Data {
        /// The field at fault (`a.b[2].c`), if any.
        path: Option<String>,
        /// What is wrong with it.
        message: String,
    },
}

impl JsonError {
    /// The field at fault, for errors about content.
    pub fn field(&self) -> Option<&str> {
        match self {
            JsonError::Data { path, .. } => path.as_deref(),
            _ => None,
        }
    }
}

/// Decodes exactly one JSON value of type `T` from `text`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    if text.starts_with('\u{feff}') {
        return Err(JsonError::ByteOrderMark);
    }
    if text.trim() == "null" {
        return Err(JsonError::Null);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = exact_path(e.path());
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            JsonError::Syntax(inner.to_string())
        } else {
            JsonError::Data {
                path,
                message: inner.to_string(),
            }
        }
    })?;
    de.end().map_err(|e| JsonError::Trailing(e.to_string()))?;
    Ok(value)
}

/// Decodes exactly one JSON value from raw bytes (which must be UTF-8).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| JsonError::Syntax(format!("the body is not UTF-8 ({e})")))?;
    from_str(text)
}

/// `a.b[2].c` from the segments, leaving out the unknown ones (an untagged or custom
/// deserializer's inner value), so the path never ends in a dot or a `?`.
pub fn exact_path(path: &serde_path_to_error::Path) -> Option<String> {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } if !key.is_empty() => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[test]
    fn one_value_no_bom_no_null() {
        let ok: Outer = from_str(r#" {"items": [{"n": 1}]} "#).unwrap();
        assert_eq!(ok.items, vec![Inner { n: 1 }]);
        let trailing = from_str::<Outer>(r#"{"items": []} xyz"#).unwrap_err();
        assert!(matches!(trailing, JsonError::Trailing(_)), "{trailing}");
        assert!(matches!(
            from_str::<Outer>(r#"{"items": []}{}"#),
            Err(JsonError::Trailing(_))
        ));
        assert_eq!(
            from_str::<Outer>("\u{feff}{\"items\": []}"),
            Err(JsonError::ByteOrderMark)
        );
        assert_eq!(from_str::<Outer>(" null\n"), Err(JsonError::Null));
        assert!(matches!(
            from_str::<Outer>(r#"{"items": ["#),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn paths_are_exact() {
        let e = from_str::<Outer>(r#"{"items": [{"n": 1}, {"n": 300}]}"#).unwrap_err();
        assert_eq!(e.field(), Some("items[1].n"), "{e}");
        assert!(e.to_string().starts_with("items[1].n: "), "{e}");
        let e = from_str::<Outer>(r#"{"items": [{"m": 1}]}"#).unwrap_err();
        assert_eq!(e.field(), Some("items[0].m"), "{e}");
    }
}
