//! Anything no route matches.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::set_title;

#[component]
pub fn NotFound() -> impl IntoView {
    set_title("Page not found");
    let path = use_location().pathname;
    view! {
        <section class="card narrow">
            <h1 data-testid="page-title">"Page not found"</h1>
            <p>
                "There is no page at " <code>{move || path.get()}</code> "."
            </p>
            <p><a href="/" class="btn btn-primary">"Go to your start page"</a></p>
        </section>
    }
}
