//! Referral codes: `REF-` and six characters from an alphabet without look-alikes (no 0/O, 1/I/L).

use rand::Rng;

const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const PREFIX: &str = "REF-";

pub fn generate_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let tail: String = (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{PREFIX}{tail}")
}

/// What a user typed, in the stored form: trimmed and upper case, `REF-` added when left out.
pub fn normalise_code(raw: &str) -> String {
    let upper = raw.trim().to_uppercase();
    if upper.starts_with(PREFIX) {
        upper
    } else {
        format!("{PREFIX}{upper}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_prefix_and_no_ambiguous_characters() {
        for _ in 0..200 {
            let code = generate_code();
            assert_eq!(code.len(), 10);
            assert!(code.starts_with("REF-"));
            assert!(!code[4..].contains(['0', 'O', '1', 'I', 'L']));
        }
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_code(" ref-ab3d5f "), "REF-AB3D5F");
        assert_eq!(normalise_code("ab3d5f"), "REF-AB3D5F");
    }
}
