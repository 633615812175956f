//! The asymmetric signature algorithms a JWKS verifier may accept.
//!
//! HMAC algorithms are deliberately not representable here: a key from a JWKS is public, so an
//! HS* token "signed" with it proves nothing (the classic algorithm-confusion attack).

use jsonwebtoken::{Algorithm, AlgorithmFamily};

/// A JWS signature algorithm with a public verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (what Cognito uses).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl JwsAlgorithm {
    /// Every supported algorithm: the default allow-list.
    pub const ALL: [JwsAlgorithm; 9] = [
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The name used in JWS headers and JWKs (`"RS256"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parses a header or JWK `alg` value; `None` for anything else (including HMAC and none).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    pub(crate) fn to_jsonwebtoken(self) -> Algorithm {
        match self {
            Self::RS256 => Algorithm::RS256,
            Self::RS384 => Algorithm::RS384,
            Self::RS512 => Algorithm::RS512,
            Self::PS256 => Algorithm::PS256,
            Self::PS384 => Algorithm::PS384,
            Self::PS512 => Algorithm::PS512,
            Self::ES256 => Algorithm::ES256,
            Self::ES384 => Algorithm::ES384,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }

    pub(crate) fn family(self) -> AlgorithmFamily {
        self.to_jsonwebtoken().family()
    }
}

/// A header `alg` value made safe to echo in an error message: known names pass, the rest
/// (attacker-chosen text) is replaced.
pub(crate) fn printable_alg(name: &str) -> String {
    const KNOWN: [&str; 13] = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
        "HS256", "HS384", "HS512",
    ];
    if KNOWN.contains(&name) {
        name.to_owned()
    } else {
        "unrecognised".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_hmac_is_not_representable() {
        for alg in JwsAlgorithm::ALL {
            assert_eq!(JwsAlgorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(JwsAlgorithm::from_name("HS256"), None);
        assert_eq!(JwsAlgorithm::from_name("none"), None);
        assert_eq!(printable_alg("<script>"), "unrecognised");
    }
}
