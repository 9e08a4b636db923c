//! A reader for the Python literals `fail2ban-client -d` prints, one command per line
//! (`['set', 'sshd', 'maxretry', 3]`): lists, tuples, quoted strings with Python's escapes,
//! integers, floats, `True`, `False` and `None`, and the dicts and sets `fail2ban-regex --out`
//! prints (`{'user': 'x'}`, `set()`). It is total (every input gives a value or an
//! error, never a panic) and knows nothing about what the commands mean.

/// One Python literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    /// A list, a tuple or a set.
    List(Vec<Literal>),
    /// A dict, its pairs in the order written.
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Literal::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON (lists stay lists).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Literal::Str(s) => Value::String(s.clone()),
            Literal::Int(i) => Value::from(*i),
            Literal::Float(f) => Value::from(*f),
            Literal::Bool(b) => Value::Bool(*b),
            Literal::None => Value::Null,
            Literal::List(items) => Value::Array(items.iter().map(Literal::to_json).collect()),
            // JSON keys are strings: a non-string key is written as its JSON text.
            Literal::Dict(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Literal::Str(s) => s.clone(),
                            other => other.to_json().to_string(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
        }
    }
}

/// Why a line is not a literal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a Python literal at byte {at}: {reason}")]
pub struct LiteralError {
    pub at: usize,
    pub reason: &'static str,
}

/// Nesting deeper than this is refused (the dump nests three levels at most).
const MAX_DEPTH: usize = 16;

/// Parses one complete literal; trailing text other than whitespace is an error.
pub fn parse(text: &str) -> Result<Literal, LiteralError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let value = p.value(0)?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing text"));
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> LiteralError {
        LiteralError { at: self.i, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, LiteralError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'[') => self.sequence(b']', depth),
            Some(b'(') => self.sequence(b')', depth),
            Some(b'{') => self.braces(depth),
            Some(q @ (b'\'' | b'"')) => self.string(q).map(Literal::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.word(),
            None => Err(self.err("unexpected end")),
        }
    }

    fn sequence(&mut self, close: u8, depth: usize) -> Result<Literal, LiteralError> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(Literal::List(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return Err(self.err("expected `,` or the end of the list")),
            }
        }
    }

    /// A dict (`{k: v, …}`) or a non-empty set (`{a, b}`); `{}` is an empty dict.
    fn braces(&mut self, depth: usize) -> Result<Literal, LiteralError> {
        self.i += 1;
        let mut pairs = Vec::new();
        let mut members = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(if members.is_empty() {
                    Literal::Dict(pairs)
                } else {
                    Literal::List(members)
                });
            }
            let key = self.value(depth + 1)?;
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.i += 1;
                pairs.push((key, self.value(depth + 1)?));
            } else {
                members.push(key);
            }
            if !pairs.is_empty() && !members.is_empty() {
                return Err(self.err("a dict and a set mixed"));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }

    fn string(&mut self, quote: u8) -> Result<String, LiteralError> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.i += 1;
            if b == quote {
                break;
            }
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated escape"));
            };
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'\\' | b'\'' | b'"' => out.push(e),
                b'x' => self.hex_char(2, &mut out)?,
                b'u' => self.hex_char(4, &mut out)?,
                b'U' => self.hex_char(8, &mut out)?,
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }

    fn hex_char(&mut self, digits: usize, out: &mut Vec<u8>) -> Result<(), LiteralError> {
        let end = self.i + digits;
        let hex = self
            .s
            .get(self.i..end)
            .and_then(|h| std::str::from_utf8(h).ok())
            .ok_or_else(|| self.err("short escape"))?;
        let code = u32::from_str_radix(hex, 16).map_err(|_| self.err("bad escape"))?;
        let c = char::from_u32(code).ok_or_else(|| self.err("bad code point"))?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.i = end;
        Ok(())
    }

    fn number(&mut self) -> Result<Literal, LiteralError> {
        let start = self.i;
        self.i += 1;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
            .map_err(|_| self.err("bad number"))?;
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Literal::Int(i));
        }
        text.parse::<f64>()
            .map(Literal::Float)
            .map_err(|_| self.err("bad number"))
    }

    fn word(&mut self) -> Result<Literal, LiteralError> {
        let rest = self.s.get(self.i..).unwrap_or_default();
        for (word, value) in [
            (&b"True"[..], Literal::Bool(true)),
            (b"False", Literal::Bool(false)),
            (b"None", Literal::None),
            (b"set()", Literal::List(Vec::new())),
        ] {
            if rest.starts_with(word) {
                self.i += word.len();
                return Ok(value);
            }
        }
        Err(self.err("unknown word"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_lines_fail2ban_client_dumps() {
        assert_eq!(
            parse("['set', 'sshd', 'maxretry', 3]").unwrap(),
            Literal::List(vec![
                Literal::Str("set".into()),
                Literal::Str("sshd".into()),
                Literal::Str("maxretry".into()),
                Literal::Int(3),
            ])
        );
        let v = parse(r#"['set', 'sshd', 'ignoreself', False, "it's", '\\d+\n', None, [1, -2.5]]"#)
            .unwrap();
        let Literal::List(items) = v else { panic!() };
        assert_eq!(items[3], Literal::Bool(false));
        assert_eq!(items[4], Literal::Str("it's".into()));
        assert_eq!(items[5], Literal::Str("\\d+\n".into()));
        assert_eq!(items[6], Literal::None);
        assert_eq!(
            items[7],
            Literal::List(vec![Literal::Int(1), Literal::Float(-2.5)])
        );
        assert_eq!(parse("'caf\\xe9'").unwrap(), Literal::Str("café".into()));
    }

    #[test]
    fn refuses_broken_input_without_panicking() {
        for bad in [
            "", "[", "['a'", "'abc", "[1 2]", "Nope", "'\\x4'", "[1],", "'\\",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).is_err());
    }
}
