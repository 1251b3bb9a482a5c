//! sea-orm entities: one module per table. These are database rows, not wire types; they are
//! converted into `shared` DTOs at the API boundary (see the `From` impls next to each entity).

pub mod agent;
pub mod user;

pub use agent::Entity as Agent;
pub use user::Entity as User;
