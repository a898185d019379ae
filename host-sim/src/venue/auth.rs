//! Kalshi API-key authentication: RSA-PSS (SHA-256, MGF1-SHA-256, salt = 32 bytes) over
//! `timestamp_ms + METHOD + path`, where `path` starts at `/trade-api/...` and excludes the
//! query string; the base64 signature travels in `KALSHI-ACCESS-SIGNATURE` beside
//! `KALSHI-ACCESS-KEY` and `KALSHI-ACCESS-TIMESTAMP`.
//!
//! Key material is never printed: the `Debug` impls redact it.

use std::fmt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::pss::{BlindedSigningKey, Signature, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use super::VenueError;

/// Header carrying the API key id.
pub const HEADER_KEY: &str = "KALSHI-ACCESS-KEY";
/// Header carrying the request time, milliseconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "KALSHI-ACCESS-TIMESTAMP";
/// Header carrying the base64 RSA-PSS signature.
pub const HEADER_SIGNATURE: &str = "KALSHI-ACCESS-SIGNATURE";

/// Environment variable naming the API key id.
pub const ENV_KEY_ID: &str = "KALSHI_API_KEY_ID";
/// Environment variable naming the PEM file of the private key.
pub const ENV_PRIVATE_KEY_PATH: &str = "KALSHI_PRIVATE_KEY_PATH";

/// An API key id and its RSA private key.
#[derive(Clone)]
pub struct Credentials {
    key_id: String,
    private_key: RsaPrivateKey,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &"<redacted>")
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// Parse a private key from PEM, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, VenueError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| VenueError::Auth("private key is neither PKCS#8 nor PKCS#1 RSA PEM".into()))
}

/// Parse a public key from PEM (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN RSA PUBLIC KEY`).
pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, VenueError> {
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| VenueError::Auth("public key is neither SPKI nor PKCS#1 RSA PEM".into()))
}

impl Credentials {
    /// Credentials from a key id and an already parsed private key.
    pub fn new(key_id: impl Into<String>, private_key: RsaPrivateKey) -> Credentials {
        Credentials {
            key_id: key_id.into(),
            private_key,
        }
    }

    /// Credentials from a key id and PEM text.
    pub fn from_pem(key_id: impl Into<String>, pem: &str) -> Result<Credentials, VenueError> {
        Ok(Credentials::new(key_id, private_key_from_pem(pem)?))
    }

    /// Credentials from a key id and a PEM file.
    pub fn from_pem_file(
        key_id: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<Credentials, VenueError> {
        let pem = std::fs::read_to_string(path.as_ref()).map_err(|e| {
            VenueError::Auth(format!(
                "cannot read private key {}: {}",
                path.as_ref().display(),
                e.kind()
            ))
        })?;
        Credentials::from_pem(key_id, &pem)
    }

    /// Credentials from `KALSHI_API_KEY_ID` and `KALSHI_PRIVATE_KEY_PATH`.
    pub fn from_env() -> Result<Credentials, VenueError> {
        let key_id = std::env::var(ENV_KEY_ID)
            .map_err(|_| VenueError::Auth(format!("{ENV_KEY_ID} is not set")))?;
        let path = std::env::var(ENV_PRIVATE_KEY_PATH)
            .map_err(|_| VenueError::Auth(format!("{ENV_PRIVATE_KEY_PATH} is not set")))?;
        Credentials::from_pem_file(key_id, path)
    }

    /// The public half of the key (for a test exchange or for checking a key pair).
    pub fn public_key(&self) -> RsaPublicKey {
        self.private_key.to_public_key()
    }

    /// The API key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// A signer for requests.
    pub fn signer(&self) -> RequestSigner {
        RequestSigner {
            key_id: self.key_id.clone(),
            signing_key: BlindedSigningKey::<Sha256>::new(self.private_key.clone()),
        }
    }
}

/// Signs requests (RSA-PSS SHA-256, salt length 32 = digest length).
#[derive(Clone)]
pub struct RequestSigner {
    key_id: String,
    signing_key: BlindedSigningKey<Sha256>,
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSigner")
            .field("key_id", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The exact bytes signed: `timestamp_ms + METHOD + path` (query string removed).
pub fn signing_message(timestamp_ms: u64, method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    format!("{timestamp_ms}{}{path}", method.to_ascii_uppercase())
}

impl RequestSigner {
    /// Base64 signature of one request.
    pub fn sign(&self, timestamp_ms: u64, method: &str, path: &str) -> String {
        let msg = signing_message(timestamp_ms, method, path);
        let sig = self
            .signing_key
            .sign_with_rng(&mut rsa::rand_core::OsRng, msg.as_bytes());
        BASE64.encode(sig.to_bytes())
    }

    /// The three authentication headers `(name, value)` for a request made now.
    pub fn headers(&self, method: &str, path: &str) -> [(&'static str, String); 3] {
        let ts = now_ms();
        [
            (HEADER_KEY, self.key_id.clone()),
            (HEADER_TIMESTAMP, ts.to_string()),
            (HEADER_SIGNATURE, self.sign(ts, method, path)),
        ]
    }
}

/// Check a request signature with the public key (what the exchange does).
pub fn verify_signature(
    public_key: &RsaPublicKey,
    timestamp_ms: &str,
    method: &str,
    path: &str,
    signature_b64: &str,
) -> bool {
    let Ok(ts) = timestamp_ms.parse::<u64>() else {
        return false;
    };
    let Ok(bytes) = BASE64.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    let msg = signing_message(ts, method, path);
    VerifyingKey::<Sha256>::new(public_key.clone())
        .verify(msg.as_bytes(), &sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_drops_query() {
        assert_eq!(
            signing_message(
                1700000000000,
                "get",
                "/trade-api/v2/portfolio/orders?status=resting"
            ),
            "1700000000000GET/trade-api/v2/portfolio/orders"
        );
    }
}
