//! The route table: one file per resource, every path visible here at a glance.
//!
//! All handlers are registered through `utoipa_actix_web` so each one appears in the OpenAPI
//! document served at `/api/openapi.json`.

pub mod auth;
pub mod health;
pub mod users;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api` (the caller mounts this inside the `/api` scope).
///
/// | method | path | who |
/// |---|---|---|
/// | POST | /auth/register | anyone |
/// | POST | /auth/login | anyone |
/// | GET, PUT | /auth/me | signed in |
/// | GET, POST | /users | admin |
/// | GET, PATCH | /users/{id} | admin |
/// | GET | /health | anyone |
pub fn config(cfg: &mut ServiceConfig<'_>) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::me)
        .service(auth::update_me)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(health::health);
}
