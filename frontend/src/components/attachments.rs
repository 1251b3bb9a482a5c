//! Showing uploaded images.
//!
//! `<img src="/api/attachments/…">` cannot send the bearer token, so [`AuthImage`] fetches the
//! image with it and shows a `blob:` URL. Blob URLs are cached per image URL for the session
//! (cleared when the user changes, see [`clear_image_cache`]), so re-rendering a conversation
//! does not download its images again. [`AttachmentThumb`] opens the image full size in the
//! app-wide [`LightboxHost`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use leptos::prelude::*;
use shared::tickets::AttachmentDto;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::icons::{Icon, IconName};
use crate::format::file_size;
use crate::session::{Session, use_session};

/// Most blob URLs kept; the oldest are revoked beyond this.
const CACHE_SIZE: usize = 200;

thread_local! {
    /// Image URL → blob URL, with insertion order for eviction.
    static CACHE: RefCell<(HashMap<String, String>, VecDeque<String>)> =
        RefCell::new((HashMap::new(), VecDeque::new()));
}

/// Revokes every cached blob URL (on sign-out or a change of user).
pub fn clear_image_cache() {
    CACHE.with(|cache| {
        let (map, order) = &mut *cache.borrow_mut();
        for (_, blob) in map.drain() {
            api::revoke_blob_url(&blob);
        }
        order.clear();
    });
}

async fn cached_blob_url(session: Session, url: String) -> Result<String, ApiError> {
    if let Some(hit) = CACHE.with(|c| c.borrow().0.get(&url).cloned()) {
        return Ok(hit);
    }
    let blob = api::attachment_blob_url(session, &url).await?;
    CACHE.with(|cache| {
        let (map, order) = &mut *cache.borrow_mut();
        if let Some(previous) = map.insert(url.clone(), blob.clone()) {
            api::revoke_blob_url(&previous);
        } else {
            order.push_back(url);
        }
        while order.len() > CACHE_SIZE {
            if let Some(old) = order.pop_front()
                && let Some(old_blob) = map.remove(&old)
            {
                api::revoke_blob_url(&old_blob);
            }
        }
    });
    Ok(blob)
}

/// An image fetched with the bearer token. Shows a spinner while loading and a readable
/// placeholder when it cannot be shown.
#[component]
pub fn AuthImage(
    #[prop(into)] url: String,
    #[prop(into)] alt: String,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let session = use_session();
    let src = LocalResource::new(move || cached_blob_url(session, url.clone()));
    move || {
        match src.get() {
        None => view! {
            <span class=format!("img-pending {class}") role="img" aria-label=format!("Loading {alt}")>
                <span class="spinner" aria-hidden="true"></span>
            </span>
        }
        .into_any(),
        Some(Ok(blob)) => view! { <img src=blob alt=alt.clone() class=class/> }.into_any(),
        Some(Err(err)) => view! {
            <span
                class=format!("img-missing {class}")
                role="img"
                aria-label=format!("{alt}: {}", err.message())
                title=err.message()
            >
                <Icon name=IconName::Image/>
                <span>"Image unavailable"</span>
            </span>
        }
        .into_any(),
    }
    }
}

/// What the lightbox shows.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    url: String,
    name: String,
}

/// The app-wide full-size image viewer.
#[derive(Debug, Clone, Copy)]
pub struct Lightbox {
    shown: RwSignal<Option<Shown>>,
    /// The element focused before opening, focused again on close.
    opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl Lightbox {
    pub fn provide() -> Self {
        let lightbox = Lightbox {
            shown: RwSignal::new(None),
            opener: StoredValue::new_local(None),
        };
        provide_context(lightbox);
        lightbox
    }

    pub fn open(&self, url: String, name: String) {
        let active = document()
            .active_element()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        self.opener.set_value(active);
        self.shown.set(Some(Shown { url, name }));
    }

    pub fn close(&self) {
        self.shown.set(None);
        if let Some(el) = self.opener.try_update_value(Option::take).flatten() {
            let _ = el.focus();
        }
    }
}

pub fn use_lightbox() -> Lightbox {
    expect_context::<Lightbox>()
}

/// Renders the open image over the page; Escape, the close button or a click outside the
/// image closes it.
#[component]
pub fn LightboxHost() -> impl IntoView {
    let lightbox = use_lightbox();
    let close_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if lightbox.shown.with(Option::is_some)
            && let Some(button) = close_ref.get()
        {
            let _ = button.focus();
        }
    });
    move || {
        lightbox.shown.get().map(|shown| {
            let name = shown.name.clone();
            let label = name.clone();
            let caption = name.clone();
            view! {
                <div
                    class="lightbox"
                    role="dialog"
                    aria-modal="true"
                    aria-label=label
                    data-testid="lightbox"
                    on:click=move |ev| {
                        // Only a click on the backdrop itself, not on the image.
                        if ev.target() == ev.current_target() {
                            lightbox.close();
                        }
                    }
                    on:keydown=move |ev| match ev.key().as_str() {
                        "Escape" => {
                            ev.prevent_default();
                            lightbox.close();
                        }
                        // The close button is the only control: keep focus inside the dialog.
                        "Tab" => {
                            ev.prevent_default();
                            if let Some(button) = close_ref.get_untracked() {
                                let _ = button.focus();
                            }
                        }
                        _ => {}
                    }
                >
                    <div class="lightbox-bar">
                        <span class="lightbox-name">{caption}</span>
                        <button
                            type="button"
                            class="btn btn-secondary"
                            node_ref=close_ref
                            on:click=move |_| lightbox.close()
                        >
                            <Icon name=IconName::Close/>
                            "Close"
                        </button>
                    </div>
                    <AuthImage url=shown.url alt=name class="lightbox-img"/>
                </div>
            }
        })
    }
}

/// A thumbnail that opens the image full size.
#[component]
pub fn AttachmentThumb(attachment: AttachmentDto) -> impl IntoView {
    let lightbox = use_lightbox();
    let name = attachment.file_name.clone();
    let url = attachment.url.clone();
    let open = {
        let (url, name) = (url.clone(), name.clone());
        move |_| lightbox.open(url.clone(), name.clone())
    };
    view! {
        <figure class="thumb" data-testid="attachment" data-attachment-id=attachment.id.to_string()>
            <button
                type="button"
                class="thumb-button"
                on:click=open
                aria-label=format!("Open {name} full size")
            >
                <AuthImage url=url alt=name.clone() class="thumb-img"/>
            </button>
            <figcaption>
                <span class="thumb-name">{name.clone()}</span>
                <span class="muted">{file_size(attachment.size_bytes)}</span>
            </figcaption>
        </figure>
    }
}

/// A row of thumbnails; nothing when the list is empty.
#[component]
pub fn AttachmentList(attachments: Vec<AttachmentDto>) -> impl IntoView {
    (!attachments.is_empty()).then(|| {
        view! {
            <div class="thumbs">
                {attachments
                    .into_iter()
                    .map(|a| view! { <AttachmentThumb attachment=a/> })
                    .collect_view()}
            </div>
        }
    })
}
