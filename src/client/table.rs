//! Aligned plain-text tables for the client's list commands.

/// Renders `header` and `rows` as left-aligned columns separated by two spaces.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (cell, w) in cells.zip(&widths) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// One row per element of a JSON array (a non-array lists nothing).
pub fn rows(
    list: &serde_json::Value,
    row: impl Fn(&serde_json::Value) -> Vec<String>,
) -> Vec<Vec<String>> {
    list.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(row)
        .collect()
}

/// Prints a list the API returned: pretty JSON with `--json`, else a table of `row`s.
pub fn print_list(
    list: &serde_json::Value,
    json: bool,
    header: &[&str],
    row: impl Fn(&serde_json::Value) -> Vec<String>,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
    } else {
        print!("{}", render(header, &rows(list, row)));
    }
    Ok(())
}

/// A JSON value as a table cell: strings bare, null as `-`, the rest as compact JSON.
pub fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell() {
        let out = render(
            &["ID", "STATE"],
            &[
                vec!["cpu-1".into(), "running".into()],
                vec!["m-10".into(), "-".into()],
            ],
        );
        assert_eq!(out, "ID     STATE\ncpu-1  running\nm-10   -\n");
    }

    #[test]
    fn cells_show_null_as_dash() {
        assert_eq!(cell(&serde_json::Value::Null), "-");
        assert_eq!(cell(&serde_json::json!("x")), "x");
        assert_eq!(cell(&serde_json::json!(0.5)), "0.5");
    }
}
