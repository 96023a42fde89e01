//! Copying to the operator's clipboard with OSC 52: the terminal (or tmux
//! with `set-clipboard on`) puts the text on the clipboard of the machine
//! the operator sits at, also over SSH. Pure: the event loop writes what
//! [`osc52`] returns after a frame.

/// The most bytes sent in one copy (terminals cap OSC 52 around 100 kB).
pub const MAX_BYTES: usize = 64 * 1024;

/// The escape sequence that sets the clipboard to `text` (cut at
/// [`MAX_BYTES`] on a character boundary).
pub fn osc52(text: &str) -> String {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("\x1b]52;c;{}\x07", base64(&text.as_bytes()[..end]))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn the_sequence_sets_the_clipboard_selection() {
        assert_eq!(osc52("foobar"), "\x1b]52;c;Zm9vYmFy\x07");
        // A long text is cut on a character boundary.
        let long = "é".repeat(MAX_BYTES);
        let seq = osc52(&long);
        assert!(seq.len() < MAX_BYTES * 2, "{}", seq.len());
        assert!(seq.ends_with('\x07'));
    }
}
