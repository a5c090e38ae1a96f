//! Just enough of Prometheus's alert templates (Go text/template) to write the annotations an
//! alert will carry in a promtool test: `$labels.x`, `$value`, `printf`, `humanize`,
//! `humanizePercentage`, `humanizeDuration`, `query | first | value`, `if`/`with`/`else`/`end`.
//! A template using anything else is refused, and the caller leaves that alert out.

use std::collections::BTreeMap;

/// A template value.
#[derive(Debug, Clone)]
pub enum Val {
    /// Nothing (Go's nil / empty).
    Nil,
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// Query results.
    Samples(Vec<(BTreeMap<String, String>, f64)>),
    /// One query result.
    Sample(f64),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Nil => false,
            Val::Str(s) => !s.is_empty(),
            Val::Num(v) => *v != 0.0,
            Val::Samples(s) => !s.is_empty(),
            Val::Sample(_) => true,
        }
    }

    fn text(&self) -> String {
        match self {
            Val::Nil => "<no value>".into(),
            Val::Str(s) => s.clone(),
            Val::Num(v) => go_float(*v),
            Val::Samples(_) | Val::Sample(_) => "<sample>".into(),
        }
    }

    fn num(&self) -> Result<f64, String> {
        match self {
            Val::Num(v) => Ok(*v),
            Val::Str(s) => s.parse().map_err(|_| format!("`{s}` is not a number")),
            Val::Sample(v) => Ok(*v),
            _ => Err("not a number".into()),
        }
    }
}

/// Query results: (labels, value).
pub type Samples = Vec<(BTreeMap<String, String>, f64)>;

/// What a template can see.
pub struct Scope<'a> {
    /// `$labels`.
    pub labels: &'a BTreeMap<String, String>,
    /// `$value`.
    pub value: f64,
    /// Answers `query`: a selector → its samples at the evaluation time.
    pub query: &'a dyn Fn(&str) -> Samples,
}

/// Go's `%v` of a float64 (shortest representation; exponent form when large or small).
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if (-4..21).contains(&exp) {
        format!("{v}")
    } else {
        exp_form(&format!("{v:e}"))
    }
}

/// Rust's `1.5e-7` → Go's `1.5e-07`.
fn exp_form(s: &str) -> String {
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    format!("{m}e{sign}{digits:0>2}")
}

/// Go's `%.{prec}g`.
pub fn go_g(v: f64, prec: usize) -> String {
    if !v.is_finite() {
        return go_float(v);
    }
    if v == 0.0 {
        return "0".into();
    }
    let e = format!("{v:.*e}", prec.saturating_sub(1));
    let exp: i32 = e.split_once('e').map_or(0, |(_, x)| x.parse().unwrap_or(0));
    if exp < -4 || exp >= prec as i32 {
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        exp_form(&format!("{m}e{x}"))
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// Prometheus's `humanizeDuration`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 4);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", go_g(v, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, 4))
}

/// Go's `%q` of a string.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `printf` for the verbs alert templates use (`%s %v %q %d %.Nf`).
fn printf(fmt: &str, args: &[Val]) -> Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            chars.next();
            if d.is_ascii_alphabetic() || d == '%' {
                spec.push(d);
                break;
            }
            spec.push(d);
        }
        let verb = spec.pop().ok_or("a lone % in printf")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args.next().ok_or("printf: too few arguments")?;
        match (verb, spec.as_str()) {
            ('q', "") => out.push_str(&go_quote(&arg.text())),
            ('s' | 'v', "") => out.push_str(&arg.text()),
            ('d', "") => out.push_str(&format!("{}", arg.num()? as i64)),
            ('f', p) => {
                let prec: usize = p.trim_start_matches('.').parse().unwrap_or(6);
                out.push_str(&format!("{:.prec$}", arg.num()?));
            }
            ('g', p) => {
                let prec: usize = p.trim_start_matches('.').parse().unwrap_or(6);
                out.push_str(&go_g(arg.num()?, prec));
            }
            _ => return Err(format!("printf verb %{spec}{verb} is not supported")),
        }
    }
    Ok(out)
}

/// Splits a pipeline's text into words (strings kept whole).
fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' || c == '`' {
            chars.next();
            w.push(c);
            let mut closed = false;
            while let Some(d) = chars.next() {
                if c == '"' && d == '\\' {
                    if let Some(e) = chars.next() {
                        w.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    continue;
                }
                if d == c {
                    closed = true;
                    break;
                }
                w.push(d);
            }
            if !closed {
                return Err("unterminated string".into());
            }
        } else if c == '|' {
            chars.next();
            w.push('|');
        } else {
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || d == '|' {
                    break;
                }
                w.push(d);
                chars.next();
            }
        }
        out.push(w);
    }
    Ok(out)
}

fn term(w: &str, dot: &Val, scope: &Scope) -> Result<Val, String> {
    if let Some(s) = w.strip_prefix('"').or_else(|| w.strip_prefix('`')) {
        return Ok(Val::Str(s.to_string()));
    }
    if w == "." {
        return Ok(dot.clone());
    }
    if w == "$value" {
        return Ok(Val::Num(scope.value));
    }
    if let Some(l) = w.strip_prefix("$labels.") {
        return Ok(scope
            .labels
            .get(l)
            .map_or(Val::Nil, |v| Val::Str(v.clone())));
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Val::Num(n));
    }
    Err(format!("`{w}` is not supported"))
}

/// Evaluates a pipeline.
fn pipeline(text: &str, dot: &Val, scope: &Scope) -> Result<Val, String> {
    let ws = words(text)?;
    let mut val: Option<Val> = None;
    for cmd in ws.split(|w| w == "|") {
        let Some((head, rest)) = cmd.split_first() else {
            return Err("empty command".into());
        };
        let mut args: Vec<Val> = rest
            .iter()
            .map(|w| term(w, dot, scope))
            .collect::<Result<_, _>>()?;
        if let Some(v) = val.take() {
            args.push(v);
        }
        let one = |args: &[Val]| args.last().cloned().ok_or(format!("{head}: no argument"));
        val = Some(match head.as_str() {
            "printf" => {
                let (fmt, rest) = args.split_first().ok_or("printf: no format")?;
                Val::Str(printf(&fmt.text(), rest)?)
            }
            "humanizePercentage" => Val::Str(format!("{}%", go_g(one(&args)?.num()? * 100.0, 4))),
            "humanizeDuration" => Val::Str(humanize_duration(one(&args)?.num()?)),
            "query" => Val::Samples((scope.query)(&one(&args)?.text())),
            "first" => match one(&args)? {
                Val::Samples(s) => s
                    .into_iter()
                    .next()
                    .map_or(Val::Nil, |(_, v)| Val::Sample(v)),
                _ => return Err("first: not a query result".into()),
            },
            "value" => Val::Num(one(&args)?.num()?),
            _ if args.is_empty() => term(head, dot, scope)?,
            other => return Err(format!("function `{other}` is not supported")),
        });
    }
    val.ok_or("empty pipeline".into())
}

/// Renders `template` in `scope`.
pub fn render(template: &str, scope: &Scope) -> Result<String, String> {
    // Frames: (emitting, dot, seen a true branch).
    let mut frames: Vec<(bool, Val, bool)> = vec![(true, Val::Nil, true)];
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if frames.last().is_some_and(|f| f.0) {
            out.push_str(&rest[..open]);
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or("unclosed {{")?;
        let action = after[..close].trim().trim_matches('-').trim();
        rest = &after[close + 2..];
        let (emitting, dot) = {
            let f = frames.last().ok_or("unbalanced end")?;
            (f.0, f.1.clone())
        };
        let parent_emitting = frames.len() < 2 || frames[frames.len() - 2].0;
        if let Some(p) = action.strip_prefix("if ") {
            let v = if emitting {
                pipeline(p, &dot, scope)?.truthy()
            } else {
                false
            };
            frames.push((emitting && v, dot, v));
        } else if let Some(p) = action.strip_prefix("with ") {
            let v = if emitting {
                pipeline(p, &dot, scope)?
            } else {
                Val::Nil
            };
            let t = v.truthy();
            frames.push((emitting && t, if t { v } else { dot }, t));
        } else if action == "else" {
            let f = frames.last_mut().ok_or("else outside a block")?;
            f.0 = parent_emitting && !f.2;
            f.2 = true;
        } else if action == "end" {
            if frames.len() < 2 {
                return Err("unbalanced end".into());
            }
            frames.pop();
        } else if emitting {
            out.push_str(&pipeline(action, &dot, scope)?.text());
        }
    }
    if frames.len() != 1 {
        return Err("a block is not closed".into());
    }
    out.push_str(rest);
    Ok(out)
}
