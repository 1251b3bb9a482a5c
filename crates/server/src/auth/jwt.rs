//! HS256 tokens valid for seven days. A token names the user, their role when issued and the
//! account's `token_version`; the extractor re-checks all three against the database.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use shared::{ErrorCode, Role};
use uuid::Uuid;

use crate::error::ApiError;

/// How long a token stays valid.
pub const TOKEN_LIFETIME: Duration = Duration::days(7);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    pub role: Role,
    /// Must equal the account's current `token_version`.
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and verification keys derived from `JWT_SECRET`.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// Issues a token for the user; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        token_version: i32,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let expires_at = now + TOKEN_LIFETIME;
        let claims = Claims {
            sub: user_id,
            role,
            ver: token_version,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing token: {e}")))?;
        Ok((token, expires_at))
    }

    /// Checks signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::Unauthorized(
                    ErrorCode::TokenExpired,
                    "your session has expired; sign in again".to_owned(),
                ),
                _ => ApiError::Unauthorized(
                    ErrorCode::InvalidToken,
                    "the token is invalid".to_owned(),
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify() {
        let keys = JwtKeys::new("test-secret");
        let id = Uuid::new_v4();
        let (token, exp) = keys.issue(id, Role::Agent, 3, Utc::now()).expect("issue");
        let claims = keys.verify(&token).expect("verify");
        assert_eq!(claims.sub, id);
        assert_eq!(claims.role, Role::Agent);
        assert_eq!(claims.ver, 3);
        assert_eq!(claims.exp, exp.timestamp());
    }

    #[test]
    fn forged_and_expired_tokens_fail_with_their_codes() {
        let keys = JwtKeys::new("test-secret");
        let other = JwtKeys::new("another-secret");
        let (forged, _) = other
            .issue(Uuid::new_v4(), Role::Admin, 0, Utc::now())
            .expect("issue");
        assert_eq!(
            keys.verify(&forged).err().map(|e| e.code()),
            Some(ErrorCode::InvalidToken)
        );
        let (old, _) = keys
            .issue(
                Uuid::new_v4(),
                Role::Customer,
                0,
                Utc::now() - Duration::days(8),
            )
            .expect("issue");
        assert_eq!(
            keys.verify(&old).err().map(|e| e.code()),
            Some(ErrorCode::TokenExpired)
        );
        assert_eq!(
            keys.verify("not.a.token").err().map(|e| e.code()),
            Some(ErrorCode::InvalidToken)
        );
    }

    #[test]
    fn alg_none_is_rejected() {
        let keys = JwtKeys::new("test-secret");
        // {"alg":"none","typ":"JWT"} . {"sub":...,"exp":far future} . (no signature)
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let payload = "eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJyb2xlIjoiYWRtaW4iLCJ2ZXIiOjAsImlhdCI6MCwiZXhwIjo0MTAyNDQ0ODAwfQ";
        let token = format!("{header}.{payload}.");
        assert!(keys.verify(&token).is_err());
    }
}
