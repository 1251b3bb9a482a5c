//! Entry point of the Helpdesk single-page app (Leptos, client-side rendered; built by
//! `scripts/build-spa`, or by `trunk serve` in development).
//!
//! `api` talks to the server, `session` owns the token and the signed-in user, `ws` keeps the
//! live connection, `format` says how values read, `components` holds shared UI pieces and
//! `pages` one module per screen; `app` ties them to the routes.

mod api;
mod app;
mod components;
mod format;
mod pages;
mod session;
mod ws;

fn main() {
    // Panics become readable messages in the browser console instead of "unreachable".
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
