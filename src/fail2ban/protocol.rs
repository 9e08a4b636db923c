//! fail2ban's socket protocol, without I/O: a request is a pickled list of strings followed by
//! `<F2B_END_COMMAND>`; a reply is a pickled `(code, value)` (protocol 5 with frames) followed by
//! the same marker. Owns a small, total pickle reader for the opcodes fail2ban emits: any input
//! gives a [`PyValue`] or a [`ProtocolError`], never a panic, and memory stays proportional to
//! the input (memo references are expanded under a node budget, nesting under a depth limit).
//! It must not do I/O or know about jails and commands.
//!
//! Over 500 lines on purpose: it is one job, a total decoder of the pickle opcodes fail2ban
//! emits, and each opcode is a few lines of one `match`; splitting the match would only hide
//! which opcodes exist.

/// Terminates every request and reply.
pub const END_MARKER: &[u8] = b"<F2B_END_COMMAND>";
/// Sent before closing a connection politely.
pub const CLOSE_MARKER: &[u8] = b"<F2B_CLOSE_COMMAND>";

/// Deepest nesting of containers accepted in a reply.
pub const MAX_DEPTH: usize = 64;

/// Pickles `words` as a protocol-2 list of unicode strings and appends the end marker.
pub fn encode_request(words: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + words.iter().map(|w| w.len() + 5).sum::<usize>());
    out.extend_from_slice(&[0x80, 0x02, b']']); // PROTO 2, EMPTY_LIST
    if !words.is_empty() {
        out.push(b'('); // MARK
        for w in words {
            out.push(b'X'); // BINUNICODE
            out.extend_from_slice(&(w.len() as u32).to_le_bytes());
            out.extend_from_slice(w.as_bytes());
        }
        out.push(b'e'); // APPENDS
    }
    out.push(b'.'); // STOP
    out.extend_from_slice(END_MARKER);
    out
}

/// A decoded Python value. fail2ban's `IPAddr` (pickled as `builtins.str(text)`) arrives as
/// [`PyValue::Str`]; sets arrive as lists; other reduced objects (exceptions) as
/// [`PyValue::Object`] with their `module.Class` name.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    Global { module: String, name: String },
    Object { class: String, args: Vec<PyValue> },
}

impl PyValue {
    /// A string, also when wrapped in a 1-tuple (a reduced `str` subclass seen another way).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            PyValue::Tuple(v) | PyValue::List(v) if v.len() == 1 => v.first()?.as_str(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PyValue::Int(i) => Some(*i),
            PyValue::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PyValue::Bool(b) => Some(*b),
            PyValue::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    /// The items of a list, tuple or set.
    pub fn as_list(&self) -> Option<&[PyValue]> {
        match self {
            PyValue::List(v) | PyValue::Tuple(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, PyValue::None)
    }

    /// Items of a list of `(name, value)` pairs, as fail2ban's `status` replies are built.
    pub fn pairs(&self) -> Option<Vec<(&str, &PyValue)>> {
        self.as_list()?
            .iter()
            .map(|item| match item.as_list()? {
                [k, v] => Some((k.as_str()?, v)),
                _ => None,
            })
            .collect()
    }

    /// The value for `key` in a list of pairs.
    pub fn field(&self, key: &str) -> Option<&PyValue> {
        self.pairs()?
            .into_iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// Human-readable text for messages.
    pub fn display(&self) -> String {
        match self {
            PyValue::None => "None".into(),
            PyValue::Bool(b) => if *b { "True" } else { "False" }.into(),
            PyValue::Int(i) => i.to_string(),
            PyValue::Float(f) => f.to_string(),
            PyValue::Str(s) => s.clone(),
            PyValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            PyValue::List(v) | PyValue::Tuple(v) => {
                let items: Vec<String> = v.iter().map(PyValue::display).collect();
                format!("[{}]", items.join(", "))
            }
            PyValue::Dict(v) => {
                let items: Vec<String> = v
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.display(), v.display()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            PyValue::Global { module, name } => format!("{module}.{name}"),
            PyValue::Object { class, args } => {
                let items: Vec<String> = args.iter().map(PyValue::display).collect();
                format!("{class}({})", items.join(", "))
            }
        }
    }
}

/// Why bytes are not a fail2ban reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at byte {offset})")]
pub struct ProtocolError {
    pub offset: usize,
    pub reason: String,
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `(0, value)`.
    Ok(PyValue),
    /// `(code != 0, exception)`: the exception's `module.Class` and its message.
    Error { class: String, message: String },
    /// A bare string instead of a tuple: fail2ban could not read the request (`'ERROR: …'`).
    Bare(String),
}

/// Decodes one reply (end marker already stripped; trailing bytes after STOP are ignored).
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, ProtocolError> {
    let value = decode(bytes)?;
    match value {
        PyValue::Tuple(mut items) if items.len() == 2 => {
            let value = items.pop().unwrap_or(PyValue::None);
            let code = items.pop().and_then(|c| c.as_i64()).ok_or(ProtocolError {
                offset: 0,
                reason: "the reply code is not an integer".into(),
            })?;
            if code == 0 {
                return Ok(Reply::Ok(value));
            }
            Ok(match value {
                PyValue::Object { class, args } => {
                    let message = match args.as_slice() {
                        [] => String::new(),
                        [one] => one.display(),
                        many => PyValue::Tuple(many.to_vec()).display(),
                    };
                    Reply::Error { class, message }
                }
                other => Reply::Error {
                    class: String::new(),
                    message: other.display(),
                },
            })
        }
        PyValue::Str(s) => Ok(Reply::Bare(s)),
        other => Err(ProtocolError {
            offset: 0,
            reason: format!(
                "expected a (code, value) tuple, got {}",
                truncate(&other.display(), 80)
            ),
        }),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[derive(Debug)]
enum Node {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>),
    Global(String, String),
    Object(String, Vec<usize>),
    /// The same value as another node (`builtins.str(s)` is just `s`).
    Alias(usize),
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Mark,
    Node(usize),
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    stack: Vec<Slot>,
    /// Memo slots; keys are bounded by the input length (a pickler numbers them densely).
    memo: Vec<Option<usize>>,
    /// Number of occupied memo slots (the key MEMOIZE uses next).
    memo_count: u64,
}

/// Decodes one pickle into a value. Total: every input gives a value or an error.
pub fn decode(input: &[u8]) -> Result<PyValue, ProtocolError> {
    let mut m = Machine {
        input,
        pos: 0,
        nodes: Vec::new(),
        stack: Vec::new(),
        memo: Vec::new(),
        memo_count: 0,
    };
    let root = m.run()?;
    // Memo references can share a node many times; cap the expanded size.
    let mut budget = input.len().saturating_mul(4).max(1024);
    m.build(root, 0, &mut budget)
}

impl<'a> Machine<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, ProtocolError> {
        Err(ProtocolError {
            offset: self.pos,
            reason: reason.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = match self.pos.checked_add(n) {
            Some(end) if end <= self.input.len() => end,
            _ => return self.err("truncated pickle"),
        };
        let slice = self.input.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn uint(&mut self, n: usize) -> Result<u64, ProtocolError> {
        let mut buf = [0u8; 8];
        let bytes = self.take(n)?;
        for (dst, src) in buf.iter_mut().zip(bytes) {
            *dst = *src;
        }
        Ok(u64::from_le_bytes(buf))
    }

    fn len(&mut self, n: usize) -> Result<usize, ProtocolError> {
        let v = self.uint(n)?;
        match usize::try_from(v) {
            Ok(len) if len <= self.input.len().saturating_sub(self.pos) => Ok(len),
            _ => self.err("length beyond the end of the reply"),
        }
    }

    fn line(&mut self) -> Result<&'a str, ProtocolError> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let Some(n) = rest.iter().position(|b| *b == b'\n') else {
            return self.err("unterminated text line");
        };
        let bytes = self.take(n + 1)?;
        match std::str::from_utf8(bytes.get(..n).unwrap_or_default()) {
            Ok(s) => Ok(s),
            Err(_) => self.err("text line is not UTF-8"),
        }
    }

    fn push(&mut self, node: Node) {
        self.nodes.push(node);
        self.stack.push(Slot::Node(self.nodes.len() - 1));
    }

    fn pop(&mut self) -> Result<usize, ProtocolError> {
        match self.stack.pop() {
            Some(Slot::Node(id)) => Ok(id),
            Some(Slot::Mark) => self.err("unexpected mark"),
            None => self.err("stack underflow"),
        }
    }

    fn top(&self) -> Result<usize, ProtocolError> {
        match self.stack.last() {
            Some(Slot::Node(id)) => Ok(*id),
            _ => self.err("no value on the stack"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<usize>, ProtocolError> {
        let Some(mark) = self.stack.iter().rposition(|s| matches!(s, Slot::Mark)) else {
            return self.err("no mark on the stack");
        };
        let items = self
            .stack
            .split_off(mark)
            .into_iter()
            .filter_map(|s| match s {
                Slot::Node(id) => Some(id),
                Slot::Mark => None,
            })
            .collect();
        Ok(items)
    }

    fn node(&mut self, id: usize) -> Result<&mut Node, ProtocolError> {
        let pos = self.pos;
        self.nodes.get_mut(id).ok_or(ProtocolError {
            offset: pos,
            reason: "dangling reference".into(),
        })
    }

    fn string(&mut self, n: usize) -> Result<(), ProtocolError> {
        let len = self.len(n)?;
        let bytes = self.take(len)?;
        self.push(Node::Str(String::from_utf8_lossy(bytes).into_owned()));
        Ok(())
    }

    fn bytes(&mut self, n: usize) -> Result<(), ProtocolError> {
        let len = self.len(n)?;
        let bytes = self.take(len)?.to_vec();
        self.push(Node::Bytes(bytes));
        Ok(())
    }

    fn memo_put(&mut self, key: u64) -> Result<(), ProtocolError> {
        let id = self.top()?;
        let key = match usize::try_from(key) {
            Ok(k) if k <= self.input.len() => k,
            _ => return self.err("memo key out of range"),
        };
        if key >= self.memo.len() {
            self.memo.resize(key + 1, None);
        }
        if let Some(slot) = self.memo.get_mut(key)
            && slot.replace(id).is_none()
        {
            self.memo_count += 1;
        }
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), ProtocolError> {
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.memo.get(k))
            .copied()
            .flatten()
        {
            Some(id) => {
                self.stack.push(Slot::Node(id));
                Ok(())
            }
            None => self.err("memo reference to nothing"),
        }
    }

    fn append(&mut self, items: Vec<usize>) -> Result<(), ProtocolError> {
        let target = self.top()?;
        match self.node(target)? {
            Node::List(v) => {
                v.extend(items);
                Ok(())
            }
            _ => self.err("append to a non-list"),
        }
    }

    fn set_items(&mut self, items: Vec<usize>) -> Result<(), ProtocolError> {
        if !items.len().is_multiple_of(2) {
            return self.err("odd number of dict items");
        }
        let target = self.top()?;
        let pairs: Vec<(usize, usize)> = items
            .chunks(2)
            .filter_map(|c| match c {
                [k, v] => Some((*k, *v)),
                _ => None,
            })
            .collect();
        match self.node(target)? {
            Node::Dict(d) => {
                d.extend(pairs);
                Ok(())
            }
            _ => self.err("setitem on a non-dict"),
        }
    }

    fn reduce(&mut self, callable: usize, args: usize) -> Result<(), ProtocolError> {
        let class = match self.nodes.get(callable) {
            Some(Node::Global(m, n)) => format!("{m}.{n}"),
            _ => return self.err("reduce of a non-global"),
        };
        let arg_ids = match self.nodes.get(args) {
            Some(Node::Tuple(v)) => v.clone(),
            _ => return self.err("reduce arguments are not a tuple"),
        };
        let node = match (class.as_str(), arg_ids.as_slice()) {
            ("builtins.str" | "__builtin__.str" | "__builtin__.unicode", [one]) => {
                match self.nodes.get(*one) {
                    Some(Node::Str(_)) => Node::Alias(*one),
                    _ => Node::Object(class, arg_ids),
                }
            }
            (
                "builtins.set"
                | "builtins.frozenset"
                | "builtins.list"
                | "__builtin__.set"
                | "__builtin__.frozenset",
                [one],
            ) => match self.nodes.get(*one) {
                Some(Node::List(v) | Node::Tuple(v)) => Node::List(v.clone()),
                _ => Node::Object(class, arg_ids),
            },
            _ => Node::Object(class, arg_ids),
        };
        self.push(node);
        Ok(())
    }

    fn run(&mut self) -> Result<usize, ProtocolError> {
        loop {
            let op = match self.byte() {
                Ok(op) => op,
                Err(_) => return self.err("no STOP opcode"),
            };
            match op {
                0x80 => {
                    self.byte()?; // PROTO
                }
                0x95 => {
                    self.take(8)?; // FRAME
                }
                b'.' => return self.pop(),
                0x94 => {
                    // Like Python: the next key is the number of stored entries.
                    self.memo_put(self.memo_count)?;
                }
                b'q' => {
                    let k = self.uint(1)?;
                    self.memo_put(k)?;
                }
                b'r' => {
                    let k = self.uint(4)?;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = self.uint(1)?;
                    self.memo_get(k)?;
                }
                b'j' => {
                    let k = self.uint(4)?;
                    self.memo_get(k)?;
                }
                b'K' => {
                    let v = self.uint(1)?;
                    self.push(Node::Int(v as i64));
                }
                b'M' => {
                    let v = self.uint(2)?;
                    self.push(Node::Int(v as i64));
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32;
                    self.push(Node::Int(i64::from(v)));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.len(1)?
                    } else {
                        self.len(4)?
                    };
                    if n > 8 {
                        return self.err("integer wider than 64 bits");
                    }
                    let bytes = self.take(n)?;
                    let mut buf = [0u8; 8];
                    if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                        buf = [0xff; 8];
                    }
                    for (dst, src) in buf.iter_mut().zip(bytes) {
                        *dst = *src;
                    }
                    self.push(Node::Int(i64::from_le_bytes(buf)));
                }
                b'G' => {
                    let bytes = self.take(8)?;
                    let mut buf = [0u8; 8];
                    for (dst, src) in buf.iter_mut().zip(bytes) {
                        *dst = *src;
                    }
                    self.push(Node::Float(f64::from_be_bytes(buf)));
                }
                0x8c => self.string(1)?,
                b'X' => self.string(4)?,
                0x8d => self.string(8)?,
                b'C' => self.bytes(1)?,
                b'B' => self.bytes(4)?,
                0x8e => self.bytes(8)?,
                b'N' => self.push(Node::None),
                0x88 => self.push(Node::Bool(true)),
                0x89 => self.push(Node::Bool(false)),
                b']' | 0x8f => self.push(Node::List(Vec::new())),
                b'}' => self.push(Node::Dict(Vec::new())),
                b')' => self.push(Node::Tuple(Vec::new())),
                b'(' => self.stack.push(Slot::Mark),
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Node::Tuple(items));
                }
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Node::List(items));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Node::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    self.push(Node::Dict(Vec::new()));
                    self.set_items(items)?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Node::Tuple(items));
                }
                b'0' => {
                    if self.stack.pop().is_none() {
                        return self.err("stack underflow");
                    }
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let id = self.top()?;
                    self.stack.push(Slot::Node(id));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (self.nodes.get(module), self.nodes.get(name)) {
                        (Some(Node::Str(m)), Some(Node::Str(n))) => {
                            let g = Node::Global(m.clone(), n.clone());
                            self.push(g);
                        }
                        _ => return self.err("global names are not strings"),
                    }
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.push(Node::Global(module, name));
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.reduce(callable, args)?;
                }
                b'b' => {
                    // BUILD: object state (e.g. an exception's __dict__) is not needed.
                    self.pop()?;
                    self.top()?;
                }
                other => return self.err(format!("unsupported pickle opcode 0x{other:02x}")),
            }
        }
    }

    fn build(&self, id: usize, depth: usize, budget: &mut usize) -> Result<PyValue, ProtocolError> {
        let fail = |reason: &str| ProtocolError {
            offset: self.input.len(),
            reason: reason.into(),
        };
        if depth > MAX_DEPTH {
            return Err(fail("the reply nests too deeply (or refers to itself)"));
        }
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| fail("the reply expands beyond its size budget"))?;
        let node = self
            .nodes
            .get(id)
            .ok_or_else(|| fail("dangling reference"))?;
        let list = |ids: &[usize], budget: &mut usize| -> Result<Vec<PyValue>, ProtocolError> {
            ids.iter()
                .map(|c| self.build(*c, depth + 1, budget))
                .collect()
        };
        Ok(match node {
            Node::None => PyValue::None,
            Node::Bool(b) => PyValue::Bool(*b),
            Node::Int(i) => PyValue::Int(*i),
            Node::Float(f) => PyValue::Float(*f),
            Node::Str(s) => {
                *budget = budget
                    .checked_sub(s.len() / 16)
                    .ok_or_else(|| fail("the reply expands beyond its size budget"))?;
                PyValue::Str(s.clone())
            }
            Node::Bytes(b) => {
                *budget = budget
                    .checked_sub(b.len() / 16)
                    .ok_or_else(|| fail("the reply expands beyond its size budget"))?;
                PyValue::Bytes(b.clone())
            }
            Node::List(ids) => PyValue::List(list(ids, budget)?),
            Node::Tuple(ids) => PyValue::Tuple(list(ids, budget)?),
            Node::Dict(pairs) => PyValue::Dict(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            self.build(*k, depth + 1, budget)?,
                            self.build(*v, depth + 1, budget)?,
                        ))
                    })
                    .collect::<Result<_, ProtocolError>>()?,
            ),
            Node::Global(m, n) => PyValue::Global {
                module: m.clone(),
                name: n.clone(),
            },
            Node::Alias(other) => self.build(*other, depth + 1, budget)?,
            Node::Object(class, ids) => PyValue::Object {
                class: class.clone(),
                args: list(ids, budget)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_a_pickled_list_of_strings_then_the_marker() {
        let bytes = encode_request(&["status", "sshd"]);
        let body = &bytes[..bytes.len() - END_MARKER.len()];
        let back: Vec<String> =
            serde_pickle::from_slice(body, serde_pickle::DeOptions::new()).expect("decodes");
        assert_eq!(back, vec!["status", "sshd"]);
        assert!(bytes.ends_with(END_MARKER));
        assert_eq!(
            decode(body).unwrap(),
            PyValue::List(vec![
                PyValue::Str("status".into()),
                PyValue::Str("sshd".into())
            ])
        );
    }

    #[test]
    fn a_list_that_contains_itself_is_an_error_not_a_hang() {
        // EMPTY_LIST MEMOIZE BINGET 0 APPEND STOP
        let err = decode(&[b']', 0x94, b'h', 0, b'a', b'.']).unwrap_err();
        assert!(err.reason.contains("nests too deeply"), "{err}");
    }

    #[test]
    fn repeated_memo_references_cannot_blow_up_memory() {
        // A list doubled 40 times through memo references would be 2^40 items.
        let mut p = vec![b']', 0x94, b'(', b'K', 1, b'e'];
        for i in 0..40u8 {
            p.extend_from_slice(&[b']', 0x94, b'(', b'h', i, b'h', i, b'e']);
        }
        p.push(b'.');
        let err = decode(&p).unwrap_err();
        assert!(
            err.reason.contains("budget") || err.reason.contains("deeply"),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_empty_input_give_errors() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[0x80, 0x05, 0x95]).is_err());
        assert!(decode(&[b'X', 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0xfe]).is_err());
    }
}
