//! Authentication: JWT issuing and checking, password hashing off the async executor, and the
//! extractors that put "who may call this" into a handler's signature.

pub mod cache;
pub mod extract;
pub mod jwt;
pub mod password;
pub mod throttle;

pub use extract::{AdminUser, AgentUser, AuthUser, CustomerUser, JsonBody};
pub use jwt::JwtKeys;
