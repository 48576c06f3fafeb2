//! The YAML frontmatter of a command or skill file, read strictly: one `key: value` per line,
//! where a value is a plain scalar, a quoted string, `true`/`false`, or a flow list of plain
//! scalars. Anything YAML would read differently from how it looks (a plain value holding `: ` or
//! ` #`, or starting with an indicator such as `[`, `*`, `&`, `!`, `|`, `>`) is refused with a hint
//! to quote it, so what passes here means the same to Claude Code's YAML parser.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Bool(bool),
    List(Vec<String>),
}

impl Field {
    pub fn kind(&self) -> &'static str {
        match self {
            Field::Str(_) => "a string",
            Field::Bool(_) => "a boolean",
            Field::List(_) => "a list",
        }
    }
}

/// The frontmatter fields and the body of a Markdown file.
pub fn parse(text: &str) -> Result<(BTreeMap<String, Field>, String), String> {
    let text = text.replace("\r\n", "\n");
    let rest = text
        .strip_prefix("---\n")
        .ok_or("the file must start with a `---` line (YAML frontmatter)")?;
    let (head, body) = match rest.find("\n---\n") {
        Some(i) => (&rest[..i], &rest[i + 5..]),
        None => match rest.strip_suffix("\n---") {
            Some(h) => (h, ""),
            None => return Err("the frontmatter has no closing `---` line".into()),
        },
    };
    let mut fields = BTreeMap::new();
    for (n, line) in head.lines().enumerate() {
        let n = n + 2;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(format!(
                "line {n}: indented lines (nested YAML) are not used in command or skill frontmatter"
            ));
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("line {n}: expected `key: value`"))?;
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("line {n}: `{key}` is not a plain key"));
        }
        if !(value.is_empty() || value.starts_with(' ')) {
            return Err(format!("line {n}: put a space after `{key}:`"));
        }
        let field = value_of(value.trim()).map_err(|e| format!("line {n} (`{key}`): {e}"))?;
        if fields.insert(key.to_owned(), field).is_some() {
            return Err(format!("line {n}: `{key}` appears twice"));
        }
    }
    Ok((fields, body.to_owned()))
}

fn value_of(v: &str) -> Result<Field, String> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or("a double-quoted value must end with `\"`")?;
        return double_quoted(inner).map(Field::Str);
    }
    if let Some(inner) = v.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or("a single-quoted value must end with `'`")?;
        if inner.replace("''", "").contains('\'') {
            return Err("a `'` inside a single-quoted value must be doubled".into());
        }
        return Ok(Field::Str(inner.replace("''", "'")));
    }
    if let Some(inner) = v.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or("a flow list must end with `]`")?;
        let items: Vec<String> = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| plain(s).map(str::to_owned))
            .collect::<Result<_, _>>()?;
        return Ok(Field::List(items));
    }
    match v {
        "true" => Ok(Field::Bool(true)),
        "false" => Ok(Field::Bool(false)),
        "" => Err("empty value (YAML reads it as null)".into()),
        _ if matches!(v, "null" | "~" | "yes" | "no" | "on" | "off") => {
            Err(format!("`{v}` is not a string in YAML: quote it"))
        }
        _ => plain(v).map(|s| Field::Str(s.to_owned())),
    }
}

/// A plain (unquoted) scalar that YAML reads as exactly this text.
fn plain(v: &str) -> Result<&str, String> {
    let first = v.chars().next().ok_or("empty value")?;
    let indicator = "[]{},#&*!|>'\"%@`".contains(first)
        || (matches!(first, '-' | '?' | ':') && v[1..].starts_with([' ', '\t']))
        || v == "-";
    if indicator {
        return Err(format!(
            "`{v}` starts with a YAML indicator: quote the value"
        ));
    }
    if v.contains(": ") || v.ends_with(':') || v.contains(" #") || v.contains('\t') {
        return Err(format!(
            "`{v}` holds `: `, ` #` or a tab, which YAML reads differently: quote the value"
        ));
    }
    Ok(v)
}

fn double_quoted(inner: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => return Err(format!("unsupported escape `\\{}`", other.unwrap_or(' '))),
            },
            '"' => return Err("a `\"` inside a double-quoted value must be escaped".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_body_are_read() {
        let (f, body) = parse(
            "---\ndescription: Ask Codex a question\nargument-hint: \"[browser|device]\"\n\
             allowed-tools: [Read, Grep]\ndisable-model-invocation: true\nname: 'it''s'\n---\n\nBody $ARGUMENTS\n",
        )
        .unwrap();
        assert_eq!(f["description"], Field::Str("Ask Codex a question".into()));
        assert_eq!(f["argument-hint"], Field::Str("[browser|device]".into()));
        assert_eq!(
            f["allowed-tools"],
            Field::List(vec!["Read".into(), "Grep".into()])
        );
        assert_eq!(f["disable-model-invocation"], Field::Bool(true));
        assert_eq!(f["name"], Field::Str("it's".into()));
        assert_eq!(body, "\nBody $ARGUMENTS\n");
        let (f, body) = parse("---\nname: x\n---").unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(body, "");
    }

    #[test]
    fn what_yaml_would_read_differently_is_refused() {
        for bad in [
            "description: a: b",
            "description: ends with:",
            "description: x #comment",
            "argument-hint: [browser|device",
            "argument-hint: *ref",
            "description: - item",
            "description: | block",
            "description:",
            "description: null",
            "description: \"unterminated",
            "description: 'it's'",
            "description: \"say \"hi\"\"",
            "  nested: x",
            "bad key: x",
            "description:x",
            "description: a\ndescription: b",
        ] {
            let text = format!("---\n{bad}\n---\nbody\n");
            assert!(parse(&text).is_err(), "accepted: {bad}");
        }
        assert!(parse("no frontmatter").is_err());
        assert!(parse("---\nname: x\n").is_err());
    }

    #[test]
    fn plain_values_with_harmless_punctuation_pass() {
        for ok in [
            "description: Set up Codex - sign in, list models",
            "argument-hint: <question or task for Codex>",
            "description: Uses OpenAI's model (GPT); not for secrets.",
            "description: a:b and c#d",
        ] {
            let text = format!("---\n{ok}\n---\n");
            assert!(parse(&text).is_ok(), "refused: {ok}");
        }
    }
}
