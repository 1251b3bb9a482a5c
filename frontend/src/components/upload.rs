//! Picking and uploading images, with a local preview and per-file progress.
//!
//! [`ImageUploads`] holds the picked images of one form, each tagged with a `group` (the journey
//! question it answers, or `""` for a reply). Files are checked here first (type and size, the
//! same limits the server enforces by content) and then uploaded one request per file to
//! `POST /api/upload`, so each has its own progress bar and error. The answer is the list of
//! returned attachment ids ([`ImageUploads::ids`]). In `simulate` mode (the admin preview)
//! nothing is sent and ids are made up locally. [`ImagePicker`] is the file input plus the
//! previews.

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::icons::{Icon, IconName};
use crate::format::plural;
use crate::session::{Session, use_session};

/// Largest image the server accepts.
pub const MAX_IMAGE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// Image types the server accepts (checked there by content; here by declared type).
pub const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

#[derive(Debug, Clone, PartialEq)]
pub enum PickState {
    /// Being uploaded; progress 0.0–1.0.
    Uploading(f64),
    Done(Uuid),
    Failed(String),
}

/// One picked image.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    key: u64,
    group: String,
    name: String,
    /// A `blob:` URL of the local file, for the preview.
    preview: Option<String>,
    state: PickState,
}

/// The picked images of one form.
#[derive(Debug, Clone, Copy)]
pub struct ImageUploads {
    items: RwSignal<Vec<Picked>>,
    next: StoredValue<u64>,
    simulate: bool,
    session: Session,
}

impl ImageUploads {
    /// `simulate`: do not upload (ids are generated locally), e.g. in a preview.
    pub fn new(simulate: bool) -> Self {
        let items = RwSignal::new(Vec::<Picked>::new());
        on_cleanup(move || {
            items.try_with_untracked(|items| {
                for p in items {
                    if let Some(url) = &p.preview {
                        api::revoke_blob_url(url);
                    }
                }
            });
        });
        Self {
            items,
            next: StoredValue::new(1),
            simulate,
            session: use_session(),
        }
    }

    /// Attachment ids of the group's finished uploads, in pick order (tracked).
    pub fn ids(&self, group: &str) -> Vec<Uuid> {
        self.items.with(|items| {
            items
                .iter()
                .filter(|p| p.group == group)
                .filter_map(|p| match p.state {
                    PickState::Done(id) => Some(id),
                    _ => None,
                })
                .collect()
        })
    }

    /// True while any file is still uploading (tracked).
    pub fn busy(&self) -> bool {
        self.items.with(|items| {
            items
                .iter()
                .any(|p| matches!(p.state, PickState::Uploading(_)))
        })
    }

    /// A local preview of a finished upload, by attachment id.
    pub fn preview_of(&self, id: Uuid) -> Option<(String, String)> {
        self.items.with(|items| {
            items.iter().find_map(|p| match (&p.state, &p.preview) {
                (PickState::Done(done), Some(url)) if *done == id => {
                    Some((url.clone(), p.name.clone()))
                }
                _ => None,
            })
        })
    }

    /// Forgets the group's images (after they were sent) without deleting them.
    pub fn clear(&self, group: &str) {
        self.items.update(|items| {
            items.retain(|p| {
                let keep = p.group != group;
                if !keep && let Some(url) = &p.preview {
                    api::revoke_blob_url(url);
                }
                keep
            });
        });
    }

    fn count(&self, group: &str) -> usize {
        self.items.with_untracked(|items| {
            items
                .iter()
                .filter(|p| p.group == group && !matches!(p.state, PickState::Failed(_)))
                .count()
        })
    }

    /// Checks and uploads `files` into `group`, allowing at most `max` images in the group.
    /// Returns a message for files that were refused before uploading.
    fn add(&self, group: &str, files: Vec<web_sys::File>, max: usize) -> Option<String> {
        let session = self.session;
        let room = max.saturating_sub(self.count(group));
        let mut problems = Vec::new();
        if files.len() > room {
            problems.push(if room == 0 {
                format!("You can add at most {}.", plural(max, "image", "images"))
            } else {
                format!(
                    "Only {} more can be added; the rest were left out.",
                    plural(room, "image", "images")
                )
            });
        }
        for file in files.into_iter().take(room) {
            let name = file.name();
            if !IMAGE_TYPES.contains(&file.type_().as_str()) {
                problems.push(format!("{name} is not a PNG, JPEG, GIF or WebP image."));
                continue;
            }
            if file.size() > MAX_IMAGE_BYTES {
                problems.push(format!("{name} is larger than 5 MB."));
                continue;
            }
            let key = self.next.get_value();
            self.next.set_value(key + 1);
            self.items.update(|items| {
                items.push(Picked {
                    key,
                    group: group.to_owned(),
                    name: name.clone(),
                    preview: api::local_preview_url(&file),
                    state: PickState::Uploading(0.0),
                });
            });
            let items = self.items;
            let set = move |state: PickState| {
                items.try_update(|items| {
                    if let Some(p) = items.iter_mut().find(|p| p.key == key) {
                        p.state = state;
                    }
                });
            };
            if self.simulate {
                set(PickState::Done(Uuid::new_v4()));
                continue;
            }
            spawn_local(async move {
                let progress = move |fraction: f64| set(PickState::Uploading(fraction));
                let result: Result<_, ApiError> =
                    api::upload_images(session, std::slice::from_ref(&file), None, progress).await;
                match result {
                    Ok(stored) => match stored.first() {
                        Some(a) => set(PickState::Done(a.id)),
                        None => set(PickState::Failed("The server stored nothing.".into())),
                    },
                    Err(err) => set(PickState::Failed(err.message())),
                }
            });
        }
        (!problems.is_empty()).then(|| problems.join(" "))
    }

    /// Removes one image (and deletes it on the server if it was uploaded).
    fn remove(&self, key: u64) {
        let mut removed = None;
        self.items.update(|items| {
            if let Some(i) = items.iter().position(|p| p.key == key) {
                removed = Some(items.remove(i));
            }
        });
        let Some(p) = removed else { return };
        if let Some(url) = &p.preview {
            api::revoke_blob_url(url);
        }
        if let (PickState::Done(id), false) = (p.state, self.simulate) {
            let session = self.session;
            spawn_local(async move {
                // Best effort: an orphaned upload is never shown to anyone.
                if let Err(err) = api::delete_attachment(session, id).await {
                    leptos::logging::warn!("could not delete attachment {id}: {err}");
                }
            });
        }
    }

    fn items_of(&self, group: &str) -> Vec<Picked> {
        self.items
            .with(|items| items.iter().filter(|p| p.group == group).cloned().collect())
    }
}

/// A file input for images with previews, progress and remove buttons.
#[component]
pub fn ImagePicker(
    /// The input's id (e.g. `answer-files`).
    input_id: &'static str,
    uploads: ImageUploads,
    #[prop(into)] group: String,
    /// Most images in the group.
    max: usize,
    #[prop(into)] label: String,
    /// Ids of elements describing the input (e.g. the question's help).
    #[prop(optional, into)]
    described_by: Option<String>,
) -> impl IntoView {
    let refused = RwSignal::new(None::<String>);
    let group_for_change = group.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let mut files = Vec::new();
        if let Some(list) = input.files() {
            for i in 0..list.length() {
                if let Some(f) = list.get(i) {
                    files.push(f);
                }
            }
        }
        // Let the same file be picked again after removing it.
        input.set_value("");
        refused.set(uploads.add(&group_for_change, files, max));
    };
    let group_for_list = group.clone();
    let items = Memo::new(move |_| uploads.items_of(&group_for_list));
    let full = Memo::new(move |_| {
        items.with(|i| {
            i.iter()
                .filter(|p| !matches!(p.state, PickState::Failed(_)))
                .count()
                >= max
        })
    });
    let multiple = max > 1;
    let hint_id = format!("{input_id}-hint");
    let error_id = format!("{input_id}-error");
    let described = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let mut ids = vec![hint_id.clone()];
            if let Some(d) = &described_by {
                ids.push(d.clone());
            }
            if refused.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };

    view! {
        <div class="picker">
            <label class="picker-label" for=input_id>
                <Icon name=IconName::Paperclip/>
                {label}
            </label>
            <input
                id=input_id
                type="file"
                accept=IMAGE_TYPES.join(",")
                multiple=multiple
                disabled=move || full.get()
                aria-describedby=described
                on:change=on_change
            />
            <p class="field-hint" id=hint_id>
                {move || {
                    if full.get() {
                        format!("Limit reached ({}).", plural(max, "image", "images"))
                    } else {
                        format!(
                            "PNG, JPEG, GIF or WebP, up to 5 MB each; at most {}.",
                            plural(max, "image", "images"),
                        )
                    }
                }}
            </p>
            {move || {
                refused
                    .get()
                    .map(|msg| view! { <p class="field-error" id=error_id.clone() role="alert">{msg}</p> })
            }}
            <ul class="picked" aria-label="Selected images">
                <For each=move || items.get() key=|p| (p.key, format!("{:?}", p.state)) let:p>
                    <PickedItem picked=p uploads=uploads/>
                </For>
            </ul>
        </div>
    }
}

#[component]
fn PickedItem(picked: Picked, uploads: ImageUploads) -> impl IntoView {
    let key = picked.key;
    let name = picked.name.clone();
    let status = match &picked.state {
        PickState::Uploading(f) => {
            let pct = (f * 100.0).round();
            view! {
                <span class="picked-status">
                    <progress max="100" value=pct aria-label=format!("Uploading {name}")></progress>
                    <span class="muted">{format!("{pct}%")}</span>
                </span>
            }
            .into_any()
        }
        PickState::Done(_) => view! {
            <span class="picked-status picked-done">
                <Icon name=IconName::Check/>
                "Uploaded"
            </span>
        }
        .into_any(),
        PickState::Failed(msg) => view! {
            <span class="picked-status field-error" role="alert">{msg.clone()}</span>
        }
        .into_any(),
    };
    let uploading = matches!(picked.state, PickState::Uploading(_));
    view! {
        <li class="picked-item" data-testid="picked-image" data-state=match picked.state {
            PickState::Uploading(_) => "uploading",
            PickState::Done(_) => "done",
            PickState::Failed(_) => "failed",
        }>
            {match picked.preview.clone() {
                Some(url) => view! { <img class="picked-preview" src=url alt=""/> }.into_any(),
                None => view! { <span class="picked-preview"><Icon name=IconName::Image/></span> }.into_any(),
            }}
            <span class="picked-name">{picked.name.clone()}</span>
            {status}
            <button
                type="button"
                class="btn btn-ghost btn-small"
                disabled=uploading
                aria-label=format!("Remove {}", picked.name)
                on:click=move |_| uploads.remove(key)
            >
                <Icon name=IconName::Close/>
                "Remove"
            </button>
        </li>
    }
}
