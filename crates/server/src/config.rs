//! Settings read from the environment (and a `.env` file), with the names of the design's
//! configuration table. Secrets are never printed: `Debug` redacts them.

use std::{fmt, net::SocketAddr, path::PathBuf};

/// The development-only JWT secret; `APP_ENV=production` refuses to start with it.
pub const DEV_JWT_SECRET: &str = "helpdesk-development-secret-do-not-use-in-production";
/// Shortest JWT secret accepted in production (HS256 wants at least 256 bits of key).
pub const MIN_PRODUCTION_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Everything the server needs to start.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// `BIND_ADDR`: listen address; port 0 picks a free port.
    pub bind_addr: SocketAddr,
    /// `APP_ENV`: `production` enforces a real JWT secret and adds secure headers.
    pub app_env: AppEnv,
    /// `JWT_SECRET`: HMAC key for HS256 tokens.
    pub jwt_secret: String,
    /// `CORS_ORIGIN`: a browser origin allowed to call the API cross-site (unset = same origin only).
    pub cors_origin: Option<String>,
    /// `STATIC_DIR`: the built SPA served at `/`.
    pub static_dir: PathBuf,
    /// `UPLOAD_DIR`: where attachments are stored.
    pub upload_dir: PathBuf,
    /// `BCRYPT_COST`: bcrypt work factor (4..=31; 12 in production, lower only in tests).
    pub bcrypt_cost: u32,
    /// `REDIS_URL`: optional cross-instance event fan-out.
    pub redis_url: Option<String>,
    /// Worker threads for the HTTP server (`HTTP_WORKERS`, default: number of CPUs).
    pub workers: Option<usize>,
    /// Run the assignment loop and SLA monitor in this process (`BACKGROUND_JOBS`, default
    /// true). Tests that drive the jobs by hand turn them off.
    pub background_jobs: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "JWT_SECRET must be set to a random value of at least {MIN_PRODUCTION_SECRET_LEN} characters when APP_ENV=production"
    )]
    WeakProductionSecret,
}

impl Settings {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the first lookup failing.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable source; tests use this with a map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let app_env = match var("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") | Some("test") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV",
                    reason: format!("`{other}` (expected development or production)"),
                });
            }
        };

        let jwt_secret = var("JWT_SECRET");
        let jwt_secret = match (app_env, jwt_secret) {
            (AppEnv::Production, Some(s))
                if s.len() >= MIN_PRODUCTION_SECRET_LEN && s != DEV_JWT_SECRET =>
            {
                s
            }
            (AppEnv::Production, _) => return Err(ConfigError::WeakProductionSecret),
            (AppEnv::Development, Some(s)) => s,
            (AppEnv::Development, None) => DEV_JWT_SECRET.to_owned(),
        };

        let bind_addr = var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind_addr = bind_addr.trim().parse().map_err(|e| ConfigError::Invalid {
            name: "BIND_ADDR",
            reason: format!("`{bind_addr}`: {e}"),
        })?;

        let bcrypt_cost = match var("BCRYPT_COST") {
            None => 12,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "BCRYPT_COST",
                    reason: format!("`{v}` (expected 4..=31)"),
                })?,
        };

        let workers = match var("HTTP_WORKERS") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "HTTP_WORKERS",
                        reason: format!("`{v}` (expected a positive number)"),
                    })?,
            ),
        };

        let background_jobs = match var("BACKGROUND_JOBS").as_deref().map(str::trim) {
            None | Some("1") | Some("true") | Some("on") => true,
            Some("0") | Some("false") | Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "BACKGROUND_JOBS",
                    reason: format!("`{other}` (expected true or false)"),
                });
            }
        };

        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/helpdesk.db?mode=rwc".to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: "expected a sqlite:// or postgres:// URL".to_owned(),
            });
        }

        Ok(Self {
            database_url,
            bind_addr,
            app_env,
            jwt_secret,
            cors_origin: var("CORS_ORIGIN"),
            static_dir: var("STATIC_DIR").unwrap_or_else(|| "dist".into()).into(),
            upload_dir: var("UPLOAD_DIR")
                .unwrap_or_else(|| "data/uploads".into())
                .into(),
            bcrypt_cost,
            redis_url: var("REDIS_URL"),
            workers,
            background_jobs,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// `sqlite` or `postgres`, for logs and `/api/health`.
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// The database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("app_env", &self.app_env)
            .field("jwt_secret", &"***")
            .field("cors_origin", &self.cors_origin)
            .field("static_dir", &self.static_dir)
            .field("upload_dir", &self.upload_dir)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("workers", &self.workers)
            .field("background_jobs", &self.background_jobs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(s.database_url, "sqlite://data/helpdesk.db?mode=rwc");
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.app_env, AppEnv::Development);
        assert_eq!(s.jwt_secret, DEV_JWT_SECRET);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.static_dir, PathBuf::from("dist"));
        assert_eq!(s.upload_dir, PathBuf::from("data/uploads"));
    }

    #[test]
    fn production_refuses_missing_default_or_short_secret() {
        for vars in [
            vec![("APP_ENV", "production")],
            vec![("APP_ENV", "production"), ("JWT_SECRET", "short")],
            vec![("APP_ENV", "production"), ("JWT_SECRET", DEV_JWT_SECRET)],
        ] {
            assert!(matches!(
                settings(&vars),
                Err(ConfigError::WeakProductionSecret)
            ));
        }
        let ok = settings(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .expect("a long secret is accepted");
        assert!(ok.is_production());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let err = settings(&[("BCRYPT_COST", "99")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("BCRYPT_COST")));
        let err = settings(&[("BIND_ADDR", "nowhere")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("BIND_ADDR")));
        assert!(settings(&[("DATABASE_URL", "mysql://x")]).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let s = settings(&[
            ("JWT_SECRET", "super-secret-value"),
            ("DATABASE_URL", "postgres://app:hunter2@db/helpdesk"),
        ])
        .expect("valid");
        let shown = format!("{s:?}");
        assert!(!shown.contains("super-secret-value"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://app:***@db/helpdesk"));
    }
}
