//! Property tests of the pickle decoder (run for a bounded number of cases; the CI check
//! `scripts/checks/20-fail2ban-fuzz` runs many more with `F2B_PROPTEST_CASES`):
//! - decoding is total: mutated recorded replies and random bytes give a value or an error,
//!   never a panic, and the decoded value is never larger than a fixed multiple of the input;
//! - values pickled the way Python does (protocol 5, frames, memo) decode to themselves;
//! - requests decode back to their words.

use bangui::fail2ban::protocol::{END_MARKER, PyValue, decode, decode_reply, encode_request};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn cases(default: u32) -> u32 {
    std::env::var("F2B_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("F2B_PROPTEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x05ee_df2b)
}

fn fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fail2ban-1.0.2-replies");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .filter(|b| b.len() < 8192)
        .collect();
    out.sort();
    out
}

fn size(v: &PyValue) -> usize {
    match v {
        PyValue::Str(s) => 1 + s.len() / 16,
        PyValue::Bytes(b) => 1 + b.len() / 16,
        PyValue::List(items) | PyValue::Tuple(items) => 1 + items.iter().map(size).sum::<usize>(),
        PyValue::Object { args, .. } => 1 + args.iter().map(size).sum::<usize>(),
        PyValue::Dict(pairs) => 1 + pairs.iter().map(|(k, v)| size(k) + size(v)).sum::<usize>(),
        _ => 1,
    }
}

fn mutate(rng: &mut StdRng, input: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..6) {
        match rng.random_range(0..6) {
            0 if !b.is_empty() => {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !b.is_empty() => {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            2 => {
                let i = rng.random_range(0..=b.len());
                b.insert(i, rng.random());
            }
            3 if !b.is_empty() => {
                let cut = rng.random_range(0..b.len());
                b.truncate(cut);
            }
            4 => {
                let other = &pool[rng.random_range(0..pool.len())];
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    let to = rng.random_range(from..=other.len());
                    let at = rng.random_range(0..=b.len());
                    b.splice(at..at, other[from..to].iter().copied());
                }
            }
            _ => {
                // Repeat a slice (memo references, nested containers).
                if !b.is_empty() {
                    let from = rng.random_range(0..b.len());
                    let to = (from + rng.random_range(1..16)).min(b.len());
                    let piece = b[from..to].to_vec();
                    for _ in 0..rng.random_range(1..8) {
                        b.splice(from..from, piece.iter().copied());
                    }
                }
            }
        }
    }
    b
}

#[test]
fn mutated_recorded_replies_decode_to_a_value_or_an_error_within_the_size_bound() {
    let pool = fixtures();
    let mut rng = StdRng::seed_from_u64(seed());
    for _ in 0..cases(3000) {
        let base = &pool[rng.random_range(0..pool.len())];
        let input = mutate(&mut rng, base, &pool);
        if let Ok(v) = decode(&input) {
            assert!(
                size(&v) <= input.len().saturating_mul(4).max(1024) + 1,
                "{input:?}"
            );
        }
        let _ = decode_reply(&input);
    }
}

#[test]
fn random_bytes_decode_to_a_value_or_an_error() {
    let mut rng = StdRng::seed_from_u64(seed() ^ 1);
    for _ in 0..cases(3000) {
        let len = rng.random_range(0..256);
        let input: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let _ = decode_reply(&input);
    }
}

/// Pickles a value the way CPython's protocol-5 pickler does (frame, memoised strings and
/// containers, MARK/APPENDS batches, TUPLE1..3, STACK_GLOBAL + REDUCE for `builtins.str`).
struct Pickler {
    out: Vec<u8>,
    memo: u32,
}

impl Pickler {
    fn memoize(&mut self) {
        self.out.push(0x94);
        self.memo += 1;
    }

    fn str(&mut self, s: &str) {
        if s.len() < 256 {
            self.out.push(0x8c);
            self.out.push(s.len() as u8);
        } else {
            self.out.push(b'X');
            self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
        self.memoize();
    }

    fn value(&mut self, v: &PyValue) {
        match v {
            PyValue::None => self.out.push(b'N'),
            PyValue::Bool(true) => self.out.push(0x88),
            PyValue::Bool(false) => self.out.push(0x89),
            PyValue::Int(i) if (0..256).contains(i) => {
                self.out.extend_from_slice(&[b'K', *i as u8])
            }
            PyValue::Int(i) if (0..65536).contains(i) => {
                self.out.push(b'M');
                self.out.extend_from_slice(&(*i as u16).to_le_bytes());
            }
            PyValue::Int(i) if i32::try_from(*i).is_ok() => {
                self.out.push(b'J');
                self.out.extend_from_slice(&(*i as i32).to_le_bytes());
            }
            PyValue::Int(i) => {
                self.out.extend_from_slice(&[0x8a, 8]);
                self.out.extend_from_slice(&i.to_le_bytes());
            }
            PyValue::Str(s) => self.str(s),
            PyValue::List(items) => {
                self.out.push(b']');
                self.memoize();
                if !items.is_empty() {
                    self.out.push(b'(');
                    for item in items {
                        self.value(item);
                    }
                    self.out.push(b'e');
                }
            }
            PyValue::Tuple(items) if (1..=3).contains(&items.len()) => {
                for item in items {
                    self.value(item);
                }
                self.out.push(0x84 + items.len() as u8);
                self.memoize();
            }
            PyValue::Tuple(items) => {
                self.out.push(b'(');
                for item in items {
                    self.value(item);
                }
                self.out.push(b't');
                self.memoize();
            }
            PyValue::Dict(pairs) => {
                self.out.push(b'}');
                self.memoize();
                if !pairs.is_empty() {
                    self.out.push(b'(');
                    for (k, v) in pairs {
                        self.value(k);
                        self.value(v);
                    }
                    self.out.push(b'u');
                }
            }
            other => panic!("not generated: {other:?}"),
        }
    }

    /// An IPAddr: `builtins.str(text)` via STACK_GLOBAL + REDUCE.
    fn reduced_str(&mut self, s: &str) {
        self.str("builtins");
        self.str("str");
        self.out.push(0x93);
        self.memoize();
        self.str(s);
        self.out.push(0x85);
        self.memoize();
        self.out.push(b'R');
        self.memoize();
    }

    fn finish(self) -> Vec<u8> {
        let mut out = vec![0x80, 5, 0x95];
        out.extend_from_slice(&((self.out.len() + 1) as u64).to_le_bytes());
        out.extend_from_slice(&self.out);
        out.push(b'.');
        out
    }
}

fn random_text(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..40);
    (0..len)
        .map(|_| match rng.random_range(0..10) {
            0 => 'é',
            1 => '\t',
            2 => '🛡',
            _ => rng.random_range(b' '..=b'~') as char,
        })
        .collect()
}

fn random_value(rng: &mut StdRng, depth: u32) -> PyValue {
    let pick = if depth >= 4 {
        rng.random_range(0..5)
    } else {
        rng.random_range(0..8)
    };
    match pick {
        0 => PyValue::None,
        1 => PyValue::Bool(rng.random()),
        2 => PyValue::Int(match rng.random_range(0..4) {
            0 => rng.random_range(0..256),
            1 => rng.random_range(0..65536),
            2 => i64::from(rng.random::<i32>()),
            _ => rng.random(),
        }),
        3 | 4 => PyValue::Str(random_text(rng)),
        5 => PyValue::List(
            (0..rng.random_range(0..6))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        6 => PyValue::Tuple(
            (0..rng.random_range(0..5))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => PyValue::Dict(
            (0..rng.random_range(0..4))
                .map(|_| (PyValue::Str(random_text(rng)), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn values_pickled_like_python_does_decode_to_themselves() {
    let mut rng = StdRng::seed_from_u64(seed() ^ 2);
    for _ in 0..cases(2000) {
        let value = random_value(&mut rng, 0);
        let mut p = Pickler {
            out: Vec::new(),
            memo: 0,
        };
        p.value(&PyValue::Tuple(vec![PyValue::Int(0), value.clone()]));
        let bytes = p.finish();
        assert_eq!(
            decode(&bytes).unwrap(),
            PyValue::Tuple(vec![PyValue::Int(0), value]),
            "{bytes:?}"
        );
    }
}

#[test]
fn reduced_strings_in_lists_decode_to_plain_strings() {
    let mut rng = StdRng::seed_from_u64(seed() ^ 3);
    for _ in 0..cases(500) {
        let ips: Vec<String> = (0..rng.random_range(0..20))
            .map(|_| {
                format!(
                    "10.{}.{}.{}",
                    rng.random::<u8>(),
                    rng.random::<u8>(),
                    rng.random::<u8>()
                )
            })
            .collect();
        let mut p = Pickler {
            out: Vec::new(),
            memo: 0,
        };
        p.out.push(b']');
        p.memoize();
        if !ips.is_empty() {
            p.out.push(b'(');
            for ip in &ips {
                p.reduced_str(ip);
            }
            p.out.push(b'e');
        }
        let decoded = decode(&p.finish()).unwrap();
        let expected = PyValue::List(ips.into_iter().map(PyValue::Str).collect());
        assert_eq!(decoded, expected);
    }
}

#[test]
fn requests_decode_back_to_their_words() {
    let mut rng = StdRng::seed_from_u64(seed() ^ 4);
    for _ in 0..cases(1000) {
        let words: Vec<String> = (0..rng.random_range(0..8))
            .map(|_| random_text(&mut rng))
            .collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let bytes = encode_request(&refs);
        let body = &bytes[..bytes.len() - END_MARKER.len()];
        assert_eq!(
            decode(body).unwrap(),
            PyValue::List(words.into_iter().map(PyValue::Str).collect())
        );
    }
}
