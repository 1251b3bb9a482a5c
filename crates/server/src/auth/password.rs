//! bcrypt hashing and verification, run on the blocking thread pool so a login never stalls
//! the async workers.

use std::sync::OnceLock;

use crate::error::ApiError;

/// Hashes a password with the given cost.
pub async fn hash(password: String, cost: u32) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing failed: {e}")))
}

/// Checks a password against a stored hash. A malformed stored hash counts as a mismatch.
pub async fn verify(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("verification task failed: {e}")))
}

/// Burns the same time as a real verification, so an unknown email cannot be told apart from
/// a wrong password by timing.
pub async fn verify_dummy(password: String, cost: u32) -> Result<(), ApiError> {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let stored = match DUMMY.get() {
        Some((c, h)) if *c == cost => h.clone(),
        _ => {
            let h = hash("dummy-password-for-timing".to_owned(), cost).await?;
            let _ = DUMMY.set((cost, h.clone()));
            h
        }
    };
    verify(password, stored).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("s3cret-pass".to_owned(), 4).await.expect("hash");
        assert!(
            verify("s3cret-pass".to_owned(), h.clone())
                .await
                .expect("verify")
        );
        assert!(!verify("wrong-pass1".to_owned(), h).await.expect("verify"));
        assert!(
            !verify("x".to_owned(), "not-a-hash".to_owned())
                .await
                .expect("verify")
        );
    }
}
