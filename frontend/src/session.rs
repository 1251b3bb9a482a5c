//! Who is signed in: the bearer token and the confirmed user.
//!
//! This is the only place the token is read or written. It is kept in `localStorage` under
//! [`TOKEN_KEY`] so a reload keeps the user signed in, and confirmed with `GET /api/auth/me` at
//! start-up before any page trusts it. [`Session`] is provided as context by the app root and is
//! `Copy`, so components and async tasks can hold it freely. Navigation is not done here: guards
//! and pages react to [`AuthState`] changes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Role;
use shared::users::{AuthResponse, UserDto};

use crate::api::{self, ApiError};

/// The `localStorage` key holding the bearer token.
pub const TOKEN_KEY: &str = "helpdesk.token";

/// Shown on the login page after the server rejected a stored token.
pub const SESSION_EXPIRED: &str = "Your session has expired, please sign in again.";

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// A stored token is being confirmed with the server.
    Checking,
    /// The server confirmed the token belongs to this user.
    SignedIn(UserDto),
    /// There is no usable token.
    SignedOut,
    /// The stored token could not be confirmed because the server was unreachable or failed.
    /// The token is kept, so retrying can still succeed.
    Unconfirmed(String),
}

/// The session handle shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The bearer token; mirrored to `localStorage`. Not reactive on purpose: nothing renders it.
    token: StoredValue<Option<String>>,
    /// The state every guard and the navbar follow.
    state: RwSignal<AuthState>,
    /// A message for the login page, e.g. why the user was signed out.
    notice: RwSignal<Option<String>>,
    /// The page a guard turned away for lack of a session, visited again after signing in.
    return_to: StoredValue<Option<String>>,
}

impl Session {
    /// Reads the stored token, provides the session as context and, if there is a token,
    /// starts confirming it.
    pub fn restore() -> Self {
        let token = storage_get();
        let session = Session {
            state: RwSignal::new(if token.is_some() {
                AuthState::Checking
            } else {
                AuthState::SignedOut
            }),
            token: StoredValue::new(token),
            notice: RwSignal::new(None),
            return_to: StoredValue::new(None),
        };
        provide_context(session);
        if session.token().is_some() {
            spawn_local(session.confirm());
        }
        session
    }

    /// The current token, if any.
    pub fn token(&self) -> Option<String> {
        self.token.get_value()
    }

    /// The state (tracked).
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// The confirmed user, if signed in (tracked).
    pub fn user(&self) -> Option<UserDto> {
        self.state.with(|s| match s {
            AuthState::SignedIn(user) => Some(user.clone()),
            _ => None,
        })
    }

    /// The confirmed user, read once without subscribing (e.g. to prefill a form).
    pub fn user_untracked(&self) -> Option<UserDto> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn(user) => Some(user.clone()),
            _ => None,
        })
    }

    /// A message for the login page (tracked).
    pub fn notice(&self) -> Option<String> {
        self.notice.get()
    }

    pub fn clear_notice(&self) {
        self.notice.set(None);
    }

    /// Stores a fresh token and user; returns the path to continue to. An account without a
    /// time zone gets the browser's, so mail can show times in it (changeable on the account
    /// page).
    pub fn sign_in(&self, auth: AuthResponse) -> String {
        storage_set(Some(&auth.token));
        self.token.set_value(Some(auth.token));
        self.notice.set(None);
        let home = home_for(auth.user.role);
        if auth.user.time_zone.is_none() {
            spawn_local(self.record_time_zone());
        }
        self.state.set(AuthState::SignedIn(auth.user));
        self.return_to
            .try_update_value(Option::take)
            .flatten()
            .unwrap_or_else(|| home.to_owned())
    }

    /// Switches to a token the server reissued for the same user (after a password change).
    pub fn replace_token(&self, token: String) {
        storage_set(Some(&token));
        self.token.set_value(Some(token));
    }

    /// Replaces the signed-in user after the server changed it (e.g. a new name).
    pub fn set_user(&self, user: UserDto) {
        self.state.set(AuthState::SignedIn(user));
    }

    /// Forgets the token and user (the logout button).
    pub fn sign_out(&self) {
        self.clear(None);
    }

    /// Ends the session because the server rejected `token_used`. Does nothing if the user has
    /// meanwhile signed in again, so a slow stale request cannot log out a fresh session.
    pub fn expire(&self, token_used: &str, err: &ApiError) {
        if self.token.with_value(|t| t.as_deref() == Some(token_used)) {
            self.clear(Some(err.message()));
        }
    }

    /// Remembers the page a guard turned away, to return to it after signing in.
    pub fn remember(&self, path: String) {
        self.return_to.set_value(Some(path));
    }

    /// Asks the server again after [`AuthState::Unconfirmed`].
    pub fn retry(&self) {
        if self.token().is_some() {
            self.state.set(AuthState::Checking);
            spawn_local(self.confirm());
        }
    }

    fn clear(&self, notice: Option<String>) {
        storage_set(None);
        self.token.set_value(None);
        self.return_to.set_value(None);
        self.notice.set(notice);
        self.state.set(AuthState::SignedOut);
    }

    /// Stores the browser's time zone on the account (`PUT /api/auth/me`). Best effort: the
    /// account page shows it and can set it again.
    async fn record_time_zone(self) {
        match api::set_time_zone(self, &crate::format::browser_time_zone()).await {
            // Unless someone else signed in (or out) meanwhile.
            Ok(user) if self.user_untracked().is_some_and(|u| u.id == user.id) => {
                self.set_user(user)
            }
            Ok(_) => {}
            Err(err) => leptos::logging::warn!("could not record the time zone: {}", err.message()),
        }
    }

    /// Confirms the stored token with `GET /api/auth/me`.
    async fn confirm(self) {
        match api::me(self).await {
            Ok(user) => self.state.set(AuthState::SignedIn(user)),
            // `api` has already ended the session and left a notice.
            Err(err) if err.ends_session() => {}
            Err(err) => self.state.set(AuthState::Unconfirmed(err.message())),
        }
    }
}

/// The session provided by the app root.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The page each role lands on.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Customer => "/portal",
        Role::Agent => "/agent",
        Role::Admin => "/admin",
    }
}

/// How a role is shown in the interface.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Customer => "Customer",
        Role::Agent => "Agent",
        Role::Admin => "Admin",
    }
}

// `localStorage` can be missing or refuse writes (private modes, disabled storage). The app
// then still works for the life of the tab, so failures are logged, not fatal.

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn storage_get() -> Option<String> {
    storage()
        .and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
        .filter(|t| !t.is_empty())
}

fn storage_set(token: Option<&str>) {
    let Some(storage) = storage() else {
        leptos::logging::warn!("localStorage is unavailable; the session lasts for this tab only");
        return;
    };
    let result = match token {
        Some(token) => storage.set_item(TOKEN_KEY, token),
        None => storage.remove_item(TOKEN_KEY),
    };
    if result.is_err() {
        leptos::logging::warn!("could not update the stored session token");
    }
}
