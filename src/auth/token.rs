//! Bearer tokens made by `iwmo gebruikers toevoegen`: 256 random bits, shown once; only their
//! sha256 is stored.

use sha2::{Digest, Sha256};

/// What every iwmo bearer token starts with (tells it apart from a JWT, and makes a leaked token
/// easy to recognise for secret scanners).
pub const PREFIX: &str = "iwmo_";

/// A new bearer token: "iwmo_" and 32 random bytes of the operating system in base64url (43
/// characters).
///
/// # Panics
/// When the operating system gives no random bytes (no usable `getrandom`/`/dev/urandom`): a
/// token must never be made from anything weaker.
pub fn nieuw_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("het besturingssysteem geeft geen willekeurige bytes");
    format!("{PREFIX}{}", super::b64::encode(&bytes))
}

/// The sha256 (hex) of a token, as stored and looked up. A plain fast hash is right here: a
/// token holds 256 random bits, so a stolen hash cannot be reversed by guessing, and a slow
/// password hash (argon2, bcrypt) would only slow every request down.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_43_characters_of_base64url() {
        let a = nieuw_token();
        let b = nieuw_token();
        assert_ne!(a, b);
        let body = a.strip_prefix(PREFIX).unwrap();
        assert_eq!(body.len(), 43);
        assert_eq!(super::super::b64::decode(body).map(|v| v.len()), Some(32));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
