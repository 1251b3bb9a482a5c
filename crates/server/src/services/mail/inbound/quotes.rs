//! The new text of a reply: quoted history cut at our marker and at the separators the
//! common mail clients write (Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, Proton), and
//! the HTML part made safe to show.
//!
//! Pure. The full original is kept by the caller; this only decides what the ticket shows.

use std::{borrow::Cow, sync::LazyLock};

use crate::services::mail::compose::REPLY_MARKER;

/// HTML attributes after which everything is quoted history (the element is cut from its
/// opening tag on).
const HTML_SEPARATORS: &[&str] = &[
    "class=\"gmail_quote",
    "class=\"gmail_attr",
    "id=\"divrplyfwdmsg\"",
    "id=\"appendonsend\"",
    "type=\"cite\"",
    "class=\"yahoo_quoted",
    "class=\"protonmail_quote",
    "class=\"moz-cite-prefix",
];

/// The new part of a plain-text reply.
pub fn strip_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
        let lower = t.to_ascii_lowercase();
        let cut = t.contains(REPLY_MARKER)
            || (t.starts_with("On ") && (t.ends_with("wrote:") || next.ends_with("wrote:")))
            || (t.starts_with("Am ") && (t.ends_with("schrieb:") || t.contains(" schrieb ")))
            || (t.starts_with("Le ") && t.ends_with("a écrit :"))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("-----ursprüngliche nachricht-----")
            || (t.starts_with("________________") && next.starts_with("From:"))
            || (t.starts_with("From:") && outlook_header_block(&lines[i..]));
        if cut {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end].to_vec();
    // A trailing block of "> " lines is quoted history too.
    while kept
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('>'))
    {
        kept.pop();
    }
    kept.join("\n").trim().to_owned()
}

/// `From:` followed closely by `Sent:`/`Date:` and `To:`/`Subject:`: Outlook's reply header.
fn outlook_header_block(lines: &[&str]) -> bool {
    let window: Vec<&str> = lines.iter().take(6).map(|l| l.trim()).collect();
    let has = |p: &str| window.iter().any(|l| l.starts_with(p));
    (has("Sent:") || has("Date:")) && (has("To:") || has("Subject:"))
}

/// The HTML before the first quote separator (or our marker). Unbalanced tags are left for
/// the sanitiser to close.
pub fn strip_html(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut cut = lower.find(REPLY_MARKER).map(|i| {
        // Cut from the tag that holds the marker.
        lower[..i].rfind('<').unwrap_or(i)
    });
    for sep in HTML_SEPARATORS {
        if let Some(i) = lower.find(sep) {
            let start = lower[..i].rfind('<').unwrap_or(i);
            cut = Some(cut.map_or(start, |c| c.min(start)));
        }
    }
    match cut {
        Some(i) => html[..i].to_owned(),
        None => html.to_owned(),
    }
}

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow"));
    // Only our own attachment URLs may load: no tracking pixels, no remote content.
    b.attribute_filter(|element, attribute, value| {
        if element == "img" && attribute == "src" && !value.starts_with("/api/attachments/") {
            None
        } else {
            Some(Cow::Borrowed(value))
        }
    });
    b
});

/// Sanitised HTML: no scripts, styles, event handlers, forms or remote images.
pub fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Plain text of an HTML fragment (for mail without a text part).
pub fn html_to_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_replies_are_cut_at_the_marker_and_client_separators() {
        let ours = format!("Thanks, fixed!\n\n{REPLY_MARKER}\n\nHello Eve,\n...");
        assert_eq!(strip_text(&ours), "Thanks, fixed!");
        let gmail = "Works now.\n\nOn Mon, 1 Dec 2026 at 10:00, Helpdesk <h@x.y>\nwrote:\n> old";
        assert_eq!(strip_text(gmail), "Works now.");
        let apple = "Yes.\n\nOn 1 Dec 2026, at 10:00, Helpdesk <h@x.y> wrote:\n\n> old\n";
        assert_eq!(strip_text(apple), "Yes.");
        let outlook = "See attached.\n\n________________________________\nFrom: Helpdesk <h@x.y>\nSent: Monday\nTo: Eve\nSubject: x\n\nold";
        assert_eq!(strip_text(outlook), "See attached.");
        let outlook2 = "Ok\r\n\r\nFrom: Helpdesk\r\nSent: Monday\r\nTo: Eve\r\n\r\nold";
        assert_eq!(strip_text(outlook2), "Ok");
        let quoted = "New line\n> old 1\n> old 2\n";
        assert_eq!(strip_text(quoted), "New line");
        // Text that merely mentions a sender is kept.
        let plain = "From: my desk, the printer smokes.\nPlease help.";
        assert_eq!(strip_text(plain), plain);
    }

    #[test]
    fn html_replies_are_cut_at_client_quote_blocks() {
        let gmail = r#"<div dir="ltr">New text</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon wrote:</div><blockquote>old</blockquote></div>"#;
        assert_eq!(strip_html(gmail), r#"<div dir="ltr">New text</div><br>"#);
        let outlook =
            r#"<div>Reply</div><hr><div id="divRplyFwdMsg" dir="ltr">From: x</div><div>old</div>"#;
        assert_eq!(strip_html(outlook), "<div>Reply</div><hr>");
        let apple =
            r#"<div>Hi</div><div><br><blockquote type="cite"><div>old</div></blockquote></div>"#;
        assert_eq!(strip_html(apple), "<div>Hi</div><div><br>");
    }

    #[test]
    fn sanitising_removes_scripts_handlers_and_remote_images() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><img src="https://track.example/p.gif"><img src="/api/attachments/1"><a href="javascript:alert(1)">x</a><style>p{}</style></p>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("track.example"), "{clean}");
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(!clean.contains("<style"), "{clean}");
        assert!(clean.contains(r#"src="/api/attachments/1""#), "{clean}");
    }
}
