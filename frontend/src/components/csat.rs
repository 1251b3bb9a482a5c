//! Customer satisfaction (CSAT): the rating form a customer fills in on their resolved ticket
//! and on the signed survey page (`/survey/:token`), the panel on the ticket page (the form for
//! the customer, the rating for staff, updated live by `csat-rated`), and the survey page.
//!
//! The rules (1–5, the comment's length, the 7-day window) are `shared::csat`'s; the form
//! checks the same ones before sending, and the server's answer is shown as it is.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::csat::{CsatRatingDto, CsatRequest, CsatSurveyDto, MAX_COMMENT_CHARS, ValidRating};
use shared::tickets::TicketDto;
use shared::ws::Event;
use shared::{ErrorCode, TicketStatus};

use crate::api::{self, ApiError};
use crate::components::{ErrorPanel, FormAlert, Loading, set_title, use_clock};
use crate::format::{ago, local_time, ticket_number};
use crate::session::use_session;
use crate::ws::use_live;

/// Words for each score, lowest first.
const SCORE_WORDS: [&str; 5] = ["Very unhappy", "Unhappy", "Okay", "Happy", "Very happy"];

fn stars(score: u8) -> String {
    let score = usize::from(score.min(5));
    format!("{}{}", "★".repeat(score), "☆".repeat(5 - score))
}

fn score_word(score: u8) -> &'static str {
    SCORE_WORDS
        .get(usize::from(score.saturating_sub(1)))
        .copied()
        .unwrap_or("")
}

/// Where a survey's rating is sent: the signed-in customer's ticket, or a signed link.
#[derive(Clone)]
enum Target {
    Ticket(uuid::Uuid),
    Link(String),
}

/// The survey and its form: stars 1–5 and a comment, editable while the survey is open.
#[component]
fn RatingForm(survey: RwSignal<Option<CsatSurveyDto>>, target: Target) -> impl IntoView {
    let session = use_session();
    let initial = survey.with_untracked(|s| s.as_ref().and_then(|s| s.rating.clone()));
    let score = RwSignal::new(initial.as_ref().map(|r| r.score));
    let comment = RwSignal::new(
        initial
            .as_ref()
            .and_then(|r| r.comment.clone())
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);

    let send = Action::new_local(move |req: &CsatRequest| {
        let req = req.clone();
        let target = target.clone();
        async move {
            let result = match &target {
                Target::Ticket(id) => api::rate_ticket(session, *id, &req).await,
                Target::Link(token) => api::rate_by_link(token, &req).await,
            };
            match result {
                Ok(s) => {
                    error.set(None);
                    saved.set(true);
                    survey.set(Some(s));
                }
                Err(err) => {
                    saved.set(false);
                    error.set(Some(rating_error(&err)));
                }
            }
        }
    });
    let open = move || survey.with(|s| s.as_ref().is_some_and(|s| s.open));
    let busy = move || send.pending().get();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(s) = score.get_untracked() else {
            error.set(Some("Choose a rating from 1 to 5 stars.".to_owned()));
            return;
        };
        let req = CsatRequest {
            score: s,
            comment: Some(comment.get_untracked()),
        };
        if let Err(problems) = ValidRating::try_from(req.clone()) {
            let text: Vec<String> = problems
                .into_iter()
                .map(|(field, msg)| format!("{field}: {msg}"))
                .collect();
            error.set(Some(text.join("; ")));
            return;
        }
        send.dispatch(req);
    };

    let closes = move || {
        survey.with(|s| {
            s.as_ref()
                .and_then(|s| s.closes_at)
                .map(|at| format!("You can change your rating until {}.", local_time(at)))
        })
    };

    view! {
        <form class="csat-form" data-testid="csat-form" on:submit=submit>
            <fieldset class="csat-stars" disabled=move || !open() || busy()>
                <legend>"How did we do?"</legend>
                {(1u8..=5)
                    .map(|n| {
                        view! {
                            <button
                                type="button"
                                class="csat-star"
                                class:csat-star-on=move || score.get().is_some_and(|s| s >= n)
                                aria-pressed=move || (score.get() == Some(n)).to_string()
                                aria-label=format!("{n} of 5: {}", score_word(n))
                                data-score=n.to_string()
                                on:click=move |_| {
                                    saved.set(false);
                                    score.set(Some(n));
                                }
                            >
                                "★"
                            </button>
                        }
                    })
                    .collect_view()}
                <span class="csat-word" aria-live="polite">
                    {move || score.get().map(score_word).unwrap_or("")}
                </span>
            </fieldset>
            <div class="field">
                <label for="csat-comment">"Comment (optional)"</label>
                <textarea
                    id="csat-comment"
                    rows="3"
                    maxlength=MAX_COMMENT_CHARS.to_string()
                    prop:value=move || comment.get()
                    disabled=move || !open() || busy()
                    on:input=move |ev| {
                        saved.set(false);
                        comment.set(event_target_value(&ev));
                    }
                ></textarea>
            </div>
            <FormAlert message=error/>
            {move || open().then(|| view! {
                <div class="actions">
                    <button type="submit" class="btn btn-primary" data-testid="csat-submit" disabled=busy>
                        {move || if survey.with(|s| s.as_ref().is_some_and(|s| s.rating.is_some())) { "Update rating" } else { "Send rating" }}
                    </button>
                    {move || saved.get().then(|| view! { <span class="csat-saved" role="status">"Thank you for your feedback!"</span> })}
                </div>
                <p class="muted csat-window">{closes}</p>
            })}
            {move || (!open()).then(|| view! {
                <p class="muted csat-window">"This survey is closed; your rating stands as given."</p>
            })}
        </form>
    }
}

/// A refusal in words of our own for the survey's codes.
fn rating_error(err: &ApiError) -> String {
    match err.code() {
        Some(ErrorCode::SurveyClosed) => {
            "The 7 days to rate or change this rating are over.".to_owned()
        }
        Some(ErrorCode::SurveysDisabled) => "Ratings are switched off at the moment.".to_owned(),
        Some(ErrorCode::SurveyNotOpen) => {
            "There is nothing to rate: the request was reopened.".to_owned()
        }
        Some(ErrorCode::InvalidSurveyToken) => "This survey link is not valid.".to_owned(),
        _ => err.message(),
    }
}

/// A rating as staff see it: stars, the words, the comment and when.
#[component]
fn CsatRating(rating: CsatRatingDto) -> impl IntoView {
    let clock = use_clock();
    let rated_at = rating.rated_at;
    let changed = rating.updated_at != rating.rated_at;
    let by_link = rating.via == shared::csat::CsatVia::Link;
    let score = rating.score;
    view! {
        <div class="csat-rating" data-testid="csat-rating" data-score=score.to_string()>
            <p>
                <span class="csat-stars-shown" aria-hidden="true">{stars(score)}</span>
                " "
                <strong>{format!("{score} of 5")}</strong>
                " · "
                {score_word(score)}
            </p>
            {rating.comment.map(|c| view! { <blockquote class="csat-comment">{c}</blockquote> })}
            <p class="muted">
                {move || format!(
                    "Rated {}{}{}",
                    ago(clock.now(), rated_at),
                    if changed { ", changed since" } else { "" },
                    if by_link { " · by the email link" } else { "" },
                )}
            </p>
        </div>
    }
}

/// The ticket page's satisfaction panel: staff see the latest rating (live); the customer of
/// a resolved ticket gets the form while the survey is open, and their rating after.
#[component]
pub fn CsatPanel(ticket: RwSignal<Option<TicketDto>>, staff: bool) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let id = ticket.with_untracked(|t| t.as_ref().map(|t| t.id));
    live.on_event(move |msg| {
        if let Event::CsatRated {
            ticket_id, rating, ..
        } = &msg.event
            && Some(*ticket_id) == id
        {
            ticket.update(|t| {
                if let Some(t) = t {
                    t.csat = Some(rating.clone());
                }
            });
        }
    });

    if staff {
        return view! {
            {move || {
                ticket.with(|t| t.as_ref().and_then(|t| t.csat.clone())).map(|rating| view! {
                    <section class="card side-card csat-panel" aria-labelledby="csat-title">
                        <h2 id="csat-title">"Customer satisfaction"</h2>
                        <CsatRating rating=rating/>
                    </section>
                })
            }}
        }
        .into_any();
    }

    // The customer's survey follows the ticket's resolution.
    let resolution = Memo::new(move |_| {
        ticket.with(|t| {
            t.as_ref().and_then(|t| {
                matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed)
                    .then_some(t.resolved_at)
                    .flatten()
                    .map(|at| (t.id, at))
            })
        })
    });
    let loaded = LocalResource::new(move || {
        let current = resolution.get();
        async move {
            match current {
                Some((id, _)) => Some(api::get_csat(session, id).await),
                None => None,
            }
        }
    });
    view! {
        {move || match loaded.get() {
            Some(Some(Ok(s))) if s.enabled && (s.open || s.rating.is_some()) => {
                let survey = RwSignal::new(Some(s.clone()));
                view! {
                    <section class="card side-card csat-panel" aria-labelledby="csat-title">
                        <h2 id="csat-title">"Rate our help"</h2>
                        <RatingForm survey=survey target=Target::Ticket(s.ticket_id)/>
                    </section>
                }
                .into_any()
            }
            _ => ().into_any(),
        }}
    }
    .into_any()
}

/// `/survey/:token`: the signed link of the "resolved" mail; works signed out.
#[component]
pub fn SurveyPage() -> impl IntoView {
    set_title("Rate our help");
    let params = use_params_map();
    let token = Memo::new(move |_| params.read().get("token").unwrap_or_default());
    let loaded = LocalResource::new(move || {
        let token = token.get();
        async move { api::get_survey_by_link(&token).await }
    });
    view! {
        <section class="page csat-page">
            <h1>"Rate our help"</h1>
            {move || match loaded.get() {
                None => view! { <Loading label="Loading the survey…"/> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel message=rating_error(&err)/> }.into_any(),
                Some(Ok(s)) if !s.enabled => view! {
                    <ErrorPanel message="Ratings are switched off at the moment."/>
                }
                .into_any(),
                Some(Ok(s)) => {
                    let heading = format!("{} {}", ticket_number(s.ticket_number), s.subject);
                    let survey = RwSignal::new(Some(s));
                    view! {
                        <div class="card csat-card">
                            <p class="csat-ticket">{heading}</p>
                            <RatingForm survey=survey target=Target::Link(token.get_untracked())/>
                        </div>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}
