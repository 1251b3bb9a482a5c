//! `/search?q=`: every ticket matching a search, best match first, each with where it matched
//! (staff). The box on the page searches as you type (after a 250 ms pause) and keeps the text
//! in the page's address, so the navbar's "All results", a reload and the back button all land
//! on the same results.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::Role;

use crate::api;
use crate::components::{
    EmptyState, ErrorPanel, Loading, RequireRole, SearchRow, set_title, ticket_href,
};
use crate::session::use_session;
use crate::ws::debounce;

/// Results on the page.
const PER_PAGE: u64 = 50;

#[component]
pub fn SearchPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Agent, Role::Admin]>
            <Search/>
        </RequireRole>
    }
}

#[component]
fn Search() -> impl IntoView {
    set_title("Search");
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let typed = RwSignal::new(q.get_untracked());
    // The navbar may send a new search while the page is open.
    Effect::new(move |_| typed.set(q.get()));

    let results = LocalResource::new(move || {
        let q = q.get();
        async move {
            if q.trim().is_empty() {
                return Ok(None);
            }
            api::search_tickets(session, q.trim(), PER_PAGE, None)
                .await
                .map(Some)
        }
    });
    let go = {
        let navigate = navigate.clone();
        move || {
            let text = typed.get_untracked();
            let address = format!(
                "/search?q={}",
                String::from(web_sys::js_sys::encode_uri_component(text.trim()))
            );
            navigate(
                &address,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    };
    let apply = debounce(250, go.clone());
    let role = move || session.user().map(|u| u.role);

    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Search"</h1>
            </header>
            <form
                class="card section search-form"
                role="search"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    go();
                }
            >
                <label for="search-q">"Search tickets"</label>
                <input
                    type="search"
                    id="search-q"
                    placeholder="Words, \"a phrase\", -without, #number or an email address"
                    autocomplete="off"
                    prop:value=move || typed.get()
                    on:input=move |ev| {
                        typed.set(event_target_value(&ev));
                        apply();
                    }
                />
            </form>
            <section class="card section" aria-labelledby="search-results-title">
                <h2 id="search-results-title">
                    "Results"
                    {move || results.get().and_then(Result::ok).flatten().map(|p| view! {
                        <span class="count" data-testid="search-count">{p.count}</span>
                    })}
                </h2>
                {move || match results.get() {
                    None => view! { <Loading label="Searching…"/> }.into_any(),
                    Some(Err(err)) => view! {
                        <ErrorPanel message=err.message() on_retry=Callback::new(move |()| results.refetch())/>
                    }
                    .into_any(),
                    Some(Ok(None)) => view! {
                        <EmptyState title="Type something to search for." hint="Subjects, descriptions, answers and the conversation are searched."/>
                    }
                    .into_any(),
                    Some(Ok(Some(page))) if page.items.is_empty() => view! {
                        <EmptyState title="No tickets match." hint="Try fewer or other words."/>
                    }
                    .into_any(),
                    Some(Ok(Some(page))) => view! {
                        <ul class="ticket-list" data-testid="search-results">
                            {page.items.into_iter().map(|t| {
                                let href = ticket_href(role(), t.id);
                                view! { <SearchRow ticket=t href=href/> }
                            }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }}
            </section>
        </section>
    }
}
