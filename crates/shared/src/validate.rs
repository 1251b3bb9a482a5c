//! Parsers that turn raw input into values that are valid by construction.
//!
//! The server uses them on every request; the SPA uses the same functions to validate forms
//! as the user types, so both always agree.

use std::fmt;

/// A normalised (trimmed, lower-case) email address with a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("email is required".into());
        }
        if email.len() > Self::MAX_LEN {
            return Err(format!("email is longer than {} characters", Self::MAX_LEN));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("email must not contain spaces".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("email must contain @".into());
        };
        if local.is_empty() || local.len() > 64 {
            return Err("email needs a name before @".into());
        }
        if domain.contains('@') {
            return Err("email must contain exactly one @".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err("email needs a valid domain such as example.com".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the rules: 8 to 72 bytes (bcrypt's limit), a letter and a digit.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// bcrypt ignores everything after 72 bytes; refuse rather than silently truncate.
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(format!(
                "password must be at most {} bytes",
                Self::MAX_BYTES
            ));
        }
        if !raw.chars().any(char::is_alphabetic) || !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err("password must contain a letter and a digit".into());
        }
        if raw.trim() != raw {
            return Err("password must not start or end with a space".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("name is required".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "name must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The text of a list's `q` filter: at most [`SearchText::MAX_CHARS`] characters (counted
/// before trimming, as the OpenAPI `maxLength` is), no control characters; the trimmed text is
/// what is searched, and blank text is no filter at all.
///
/// The bound keeps every search cheap and its LIKE pattern far below what a database accepts
/// (SQLite refuses patterns over 50,000 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("q must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(char::is_control) {
            return Err("q must not contain control characters".into());
        }
        let text = raw.trim();
        Ok((!text.is_empty()).then(|| Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name a user reads times in (`Europe/Berlin`, `America/New_York`,
/// `UTC`), spelled as the tz database spells it (the lookup ignores surrounding spaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneName(chrono_tz::Tz);

impl TimeZoneName {
    /// Longer than any name in the tz database.
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > Self::MAX_CHARS {
            return Err("an IANA time zone name such as Europe/Berlin".into());
        }
        name.parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| format!("`{name}` is not an IANA time zone (such as Europe/Berlin)"))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZoneName::parse(" Europe/Berlin ").map(|z| z.as_str()),
            Ok("Europe/Berlin")
        );
        assert_eq!(TimeZoneName::parse("UTC").map(|z| z.as_str()), Ok("UTC"));
        for bad in [
            "",
            "  ",
            "Mars/Olympus",
            "Europe/Ber\nlin",
            "+02:00",
            &"A/".repeat(40),
        ] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_is_normalised() {
        let e = Email::parse("  Alice.Smith@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "alice.smith@example.com");
    }

    #[test]
    fn bad_emails_are_rejected() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
            "a@b.com\n",
        ] {
            assert!(Email::parse(bad).is_err() || bad.trim() != bad, "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.io", "b".repeat(260))).is_err());
    }

    #[test]
    fn password_rules() {
        assert!(Password::parse("short1").is_err());
        assert!(Password::parse("onlyletters").is_err());
        assert!(Password::parse("12345678").is_err());
        assert!(Password::parse(" padded123").is_err());
        assert!(Password::parse(&format!("a1{}", "x".repeat(71))).is_err());
        assert!(Password::parse("correct horse 9").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("secret123").expect("valid")),
            "Password(***)"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Ada  ").expect("valid").as_str(),
            "Ada"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
    }

    #[test]
    fn search_text_is_bounded() {
        assert_eq!(SearchText::parse("   "), Ok(None));
        assert_eq!(
            SearchText::parse(" printer ")
                .expect("valid")
                .map(|q| q.as_str().to_owned()),
            Some("printer".to_owned())
        );
        let longest = "é".repeat(SearchText::MAX_CHARS);
        assert!(SearchText::parse(&longest).expect("valid").is_some());
        assert!(SearchText::parse(&format!("{longest}x")).is_err());
        assert!(SearchText::parse(&"a".repeat(49_999)).is_err());
        assert!(SearchText::parse("nul\0byte").is_err());
        assert!(SearchText::parse("tab\there").is_err());
    }
}
