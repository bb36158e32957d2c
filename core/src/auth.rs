//! The bearer-token check of a scrape (CONTRACT section 2).
//!
//! The token is the app GUID. The scheme is matched case-insensitively (RFC 7235), the
//! whole value is trimmed of surrounding whitespace, scheme and token may be separated by
//! spaces or tabs, and the token is compared in constant time with `subtle`, so response
//! timing does not reveal how many leading bytes of a guess were right.

use crate::header::trim;
use subtle::ConstantTimeEq;

/// What to do with a scrape, given its `Authorization` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDecision {
    /// Auth is off, or the right token was presented.
    Allow,
    /// No `Authorization` header: `401` with a `WWW-Authenticate` challenge.
    MissingCredentials,
    /// A header that is not `Bearer <the app GUID>`, or several headers: `403`.
    Forbidden,
}

impl AuthDecision {
    /// The HTTP status for this decision.
    pub fn status(self) -> u16 {
        match self {
            AuthDecision::Allow => 200,
            AuthDecision::MissingCredentials => 401,
            AuthDecision::Forbidden => 403,
        }
    }
}

/// Decides a scrape from every `Authorization` header value it carried, in order.
/// `expected` is `None` when auth is off.
pub fn authorize(expected: Option<&str>, authorization: &[&[u8]]) -> AuthDecision {
    let Some(expected) = expected else {
        return AuthDecision::Allow;
    };
    match authorization {
        [] => AuthDecision::MissingCredentials,
        [value] if bearer_token(value).is_some_and(|token| tokens_equal(token, expected.as_bytes())) => {
            AuthDecision::Allow
        }
        _ => AuthDecision::Forbidden,
    }
}

/// The token of a `Bearer` credential, or `None` for any other scheme or shape. Works on
/// bytes so that non-ASCII or non-UTF-8 header values are simply not a match.
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = trim(value);
    let scheme_end = value.iter().position(|b| is_blank(*b))?;
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = trim(rest);
    if token.is_empty() || token.iter().any(|b| is_blank(*b)) {
        return None;
    }
    Some(token)
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Compares in time independent of where the first difference is. Lengths may differ
/// observably; the length of a GUID is no secret.
fn tokens_equal(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_is_found_after_any_blank_run() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b" bEaReR \t abc \t"), Some(&b"abc"[..]));
    }

    #[test]
    fn other_schemes_and_shapes_have_no_token() {
        for value in [
            &b"Basic abc"[..],
            b"Bearer",
            b"Bearer ",
            b"Bearerabc",
            b"Bearer a b",
            b"",
        ] {
            assert_eq!(bearer_token(value), None, "{:?}", String::from_utf8_lossy(value));
        }
    }
}
