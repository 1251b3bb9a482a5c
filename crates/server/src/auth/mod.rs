//! Authentication: JWT issuing and checking, password hashing off the async executor, and the
//! extractors that put "who may call this" into a handler's signature; API tokens and the
//! scope every route needs of one.

pub mod api_token;
pub mod cache;
pub mod extract;
pub mod jwt;
pub mod password;
pub mod scopes;
pub mod throttle;

pub use extract::{AdminUser, AgentUser, AuthUser, CustomerUser, JsonBody};
pub use jwt::JwtKeys;
