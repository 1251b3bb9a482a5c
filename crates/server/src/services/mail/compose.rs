//! The words of each mail: subject, plain-text body and HTML body, from plain values.
//!
//! Pure functions, no I/O. Everything that comes from users (subjects, names, message bodies)
//! is HTML-escaped in the HTML part. Every body starts with [`REPLY_MARKER`], so that replies
//! can later be cut at it.

use shared::mail::MailKind;

/// The line above which a reply's new text is expected.
pub const REPLY_MARKER: &str = "##- reply above this line -##";

/// Longest subject line we send (the ticket subject is cut to fit).
const SUBJECT_MAX_CHARS: usize = 200;

/// The ticket a mail is about.
#[derive(Debug, Clone)]
pub struct TicketInfo<'a> {
    pub number: i64,
    pub subject: &'a str,
    /// Where the recipient opens the ticket in the web app.
    pub link: String,
}

/// What happened, with what the mail quotes.
#[derive(Debug, Clone)]
pub enum Content<'a> {
    /// `eta`: "Tue 8 Dec 10:00 (your time)" (or "(Europe/Berlin time)" when the reader's zone
    /// is not known), when the team aims to reply by.
    Opened {
        eta: Option<String>,
    },
    AgentReply {
        author: &'a str,
        body: &'a str,
    },
    /// `survey`: the signed link that rates this resolution (none when surveys are off).
    Resolved {
        survey: Option<String>,
    },
    Assigned,
    CustomerReplied {
        author: &'a str,
        body: &'a str,
    },
    SlaBreached {
        target: &'a str,
        priority: &'a str,
    },
    /// `due`: the deadline as shown ("Tue 8 Dec 10:00 (Europe/Berlin time)").
    SlaWarning {
        target: &'a str,
        percent: u8,
        due: String,
    },
}

impl Content<'_> {
    pub fn kind(&self) -> MailKind {
        match self {
            Content::Opened { .. } => MailKind::TicketOpened,
            Content::AgentReply { .. } => MailKind::AgentReply,
            Content::Resolved { .. } => MailKind::TicketResolved,
            Content::Assigned => MailKind::TicketAssigned,
            Content::CustomerReplied { .. } => MailKind::CustomerReplied,
            Content::SlaBreached { .. } => MailKind::SlaBreached,
            Content::SlaWarning { .. } => MailKind::SlaWarning,
        }
    }
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `[#1042]`: the tag that names the ticket in every subject.
pub fn subject_tag(number: i64) -> String {
    format!("[#{number}]")
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line, at most [`SUBJECT_MAX_CHARS`] characters.
fn one_line(raw: &str) -> String {
    let flat: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SUBJECT_MAX_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(SUBJECT_MAX_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// A paragraph of the mail: plain text, or text quoted from a user.
enum Block {
    Para(String),
    Quote(String),
    Link(String, String),
}

/// Renders `content` about `ticket` for `recipient`. `unsubscribe` is the link that turns this
/// kind of mail off (automated mail only).
pub fn compose(
    ticket: &TicketInfo<'_>,
    content: &Content<'_>,
    recipient: &str,
    unsubscribe: Option<&str>,
) -> Composed {
    let tag = subject_tag(ticket.number);
    let title = one_line(ticket.subject);
    let n = ticket.number;
    let (subject, blocks) = match content {
        Content::Opened { eta } => (
            format!("{tag} {title}"),
            vec![
                Block::Para(match eta {
                    Some(eta) => format!(
                        "We received your request \"{title}\". Its number is #{n}; \
                         we aim to reply by {eta}."
                    ),
                    None => format!(
                        "We received your request \"{title}\". Its number is #{n}; \
                         we will answer as soon as we can."
                    ),
                }),
                Block::Para("To add details, reply to this email or open the ticket:".into()),
                Block::Link("Open ticket".into(), ticket.link.clone()),
            ],
        ),
        Content::AgentReply { author, body } => (
            format!("Re: {tag} {title}"),
            vec![
                Block::Para(format!(
                    "{} replied to your request #{n}:",
                    one_line(author)
                )),
                Block::Quote((*body).to_owned()),
                Block::Link("View the conversation".into(), ticket.link.clone()),
            ],
        ),
        Content::Resolved { survey } => {
            let mut blocks = vec![
                Block::Para(format!(
                    "Your request #{n} \"{title}\" has been marked as resolved."
                )),
                Block::Para(
                    "If it is not solved, reply to this email or reopen the ticket from \
                     the link below; it stays open for replies until it is closed."
                        .into(),
                ),
                Block::Link("Reopen or view the ticket".into(), ticket.link.clone()),
            ];
            if let Some(url) = survey {
                blocks.push(Block::Para(
                    "How did we do? Rate our help from 1 to 5 (you can change your rating \
                     for 7 days):"
                        .into(),
                ));
                blocks.push(Block::Link("Rate this resolution".into(), url.clone()));
            }
            (format!("{tag} Resolved: {title}"), blocks)
        }
        Content::Assigned => (
            format!("{tag} Assigned to you: {title}"),
            vec![
                Block::Para(format!("Ticket #{n} \"{title}\" was assigned to you.")),
                Block::Link("Open ticket".into(), ticket.link.clone()),
            ],
        ),
        Content::CustomerReplied { author, body } => (
            format!("{tag} New reply from {}: {title}", one_line(author)),
            vec![
                Block::Para(format!("{} replied on ticket #{n}:", one_line(author))),
                Block::Quote((*body).to_owned()),
                Block::Link("Open ticket".into(), ticket.link.clone()),
            ],
        ),
        Content::SlaWarning {
            target,
            percent,
            due,
        } => (
            format!("{tag} SLA {target} target {percent}% used: {title}"),
            vec![
                Block::Para(format!(
                    "Ticket #{n} \"{title}\" has used {percent}% of its {target} target; \
                     it is due by {due}."
                )),
                Block::Link("Open ticket".into(), ticket.link.clone()),
            ],
        ),
        Content::SlaBreached { target, priority } => (
            format!("{tag} SLA {target} target breached: {title}"),
            vec![
                Block::Para(format!(
                    "The {target} target of ticket #{n} \"{title}\" has passed. \
                     It was escalated; its priority is now {priority}."
                )),
                Block::Link("Open ticket".into(), ticket.link.clone()),
            ],
        ),
    };

    let greeting = format!("Hello {},", one_line(recipient));
    let mut text = format!("{REPLY_MARKER}\n\n{greeting}\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.4\">\n\
         <p style=\"color:#888888\">{}</p>\n<p>{}</p>\n",
        escape_html(REPLY_MARKER),
        escape_html(&greeting)
    );
    for block in &blocks {
        match block {
            Block::Para(p) => {
                text.push_str(p);
                text.push_str("\n\n");
                html.push_str(&format!("<p>{}</p>\n", escape_html(p)));
            }
            Block::Quote(q) => {
                for line in q.lines() {
                    text.push_str("  ");
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
                let lines: Vec<String> = q.lines().map(escape_html).collect();
                html.push_str(&format!(
                    "<blockquote style=\"border-left:3px solid #cccccc; margin:0; padding-left:1em\">{}</blockquote>\n",
                    lines.join("<br>\n")
                ));
            }
            Block::Link(label, url) => {
                text.push_str(&format!("{label}: {url}\n\n"));
                html.push_str(&format!(
                    "<p><a href=\"{}\">{}</a></p>\n",
                    escape_html(url),
                    escape_html(label)
                ));
            }
        }
    }
    text.push_str(&format!("-- \nTicket {tag}\n"));
    html.push_str(&format!(
        "<p style=\"color:#888888\">Ticket {}</p>\n",
        escape_html(&tag)
    ));
    if let Some(url) = unsubscribe {
        text.push_str(&format!("Stop these emails: {url}\n"));
        html.push_str(&format!(
            "<p style=\"color:#888888; font-size:small\"><a href=\"{}\">Stop these emails</a></p>\n",
            escape_html(url)
        ));
    }
    html.push_str("</body></html>\n");
    Composed {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(subject: &str) -> TicketInfo<'_> {
        TicketInfo {
            number: 1042,
            subject,
            link: "http://help.test/portal/tickets/abc".into(),
        }
    }

    #[test]
    fn subjects_carry_the_ticket_tag() {
        let t = ticket("Printer on fire");
        for content in [
            Content::Opened { eta: None },
            Content::AgentReply {
                author: "Ann",
                body: "x",
            },
            Content::Resolved { survey: None },
            Content::Assigned,
            Content::CustomerReplied {
                author: "Bob",
                body: "x",
            },
            Content::SlaBreached {
                target: "response",
                priority: "high",
            },
        ] {
            let mail = compose(&t, &content, "Eve", None);
            assert!(mail.subject.contains("[#1042]"), "{}", mail.subject);
            assert!(mail.subject.contains("Printer on fire"));
            assert!(mail.text.starts_with(REPLY_MARKER));
            assert!(mail.html.contains(REPLY_MARKER));
        }
    }

    #[test]
    fn user_text_is_escaped_in_html_and_kept_in_text() {
        let t = ticket("<script>alert(1)</script>");
        let body = "Try <b>this</b> & \"that\"\nsecond line";
        let mail = compose(
            &t,
            &Content::AgentReply {
                author: "<img src=x>",
                body,
            },
            "Mallory <m@x>",
            None,
        );
        assert!(!mail.html.contains("<script>"));
        assert!(!mail.html.contains("<b>this"));
        assert!(!mail.html.contains("<img"));
        assert!(
            mail.html
                .contains("&lt;b&gt;this&lt;/b&gt; &amp; &quot;that&quot;")
        );
        assert!(mail.html.contains("<br>"));
        assert!(
            mail.text
                .contains("  Try <b>this</b> & \"that\"\n  second line")
        );
    }

    #[test]
    fn subjects_are_one_bounded_line() {
        let long = format!("line\r\nbreak {}", "x".repeat(500));
        let mail = compose(&ticket(&long), &Content::Opened { eta: None }, "Eve", None);
        assert!(!mail.subject.contains(['\r', '\n']));
        assert!(mail.subject.chars().count() <= SUBJECT_MAX_CHARS + 10);
    }

    #[test]
    fn unsubscribe_link_is_in_both_parts() {
        let url = "http://help.test/api/mail/unsubscribe?token=a.b.c";
        let mail = compose(
            &ticket("Hi"),
            &Content::Resolved { survey: None },
            "Eve",
            Some(url),
        );
        assert!(mail.text.contains(url));
        assert!(mail.html.contains(url));
    }

    #[test]
    fn the_resolved_mail_carries_the_survey_link_when_given() {
        let url = "http://help.test/survey/abc.123.tag";
        let survey = Some(url.to_owned());
        let mail = compose(&ticket("Hi"), &Content::Resolved { survey }, "Eve", None);
        assert!(mail.text.contains(&format!("Rate this resolution: {url}")));
        assert!(mail.html.contains(&format!("href=\"{url}\"")));
        let without = compose(
            &ticket("Hi"),
            &Content::Resolved { survey: None },
            "Eve",
            None,
        );
        assert!(!without.text.contains("Rate this resolution"));
    }
}
