//! The OpenAPI document's frame: title, security scheme, tags and shared schemas. Paths are
//! collected from the route table by `utoipa_actix_web`.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helpdesk API",
        description = "REST API of the Helpdesk customer support system. Every response is an \
envelope: `{\"success\": true, \"data\": ...}` on success (lists add `count`, `page`, `pages`), \
`{\"success\": false, \"error\": \"...\", \"code\": \"snake_case\", \"details\": {...}}` on failure. \
Authenticate with `Authorization: Bearer <token>` from `/api/auth/login`."
    ),
    modifiers(&BearerAuth),
    // The route table collects the schemas of request and response bodies, not those that
    // only `IntoParams` fields use (roles, ticket sorting): those are listed here.
    components(schemas(
        shared::ErrorBody,
        shared::ErrorCode,
        shared::Role,
        shared::tickets::TicketSort,
        shared::tickets::SortOrder,
    )),
    tags(
        (name = "auth", description = "Registration, sign-in and one's own profile"),
        (name = "users", description = "Account management (admins)"),
        (name = "tickets", description = "Tickets, their conversation and history"),
        (name = "attachments", description = "Image uploads and downloads"),
        (name = "journeys", description = "Guided intake flows"),
        (name = "agents", description = "Agent profiles, status and metrics"),
        (name = "analytics", description = "Numbers for admins (agents: their own)"),
        (name = "settings", description = "SLA policies and queue behaviour (admins)"),
        (name = "health", description = "Service health"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
