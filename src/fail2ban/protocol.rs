//! fail2ban's socket protocol, without I/O: a request is a pickled list of strings followed by
//! `<F2B_END_COMMAND>`; a reply is a pickled `(code, value)` followed by the same marker.

/// Terminates every request and reply.
pub const END_MARKER: &[u8] = b"<F2B_END_COMMAND>";
/// Sent before closing a connection politely.
pub const CLOSE_MARKER: &[u8] = b"<F2B_CLOSE_COMMAND>";

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
    }
}
