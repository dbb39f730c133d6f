//! The DNS-1123 label rule (RFC 1123, lowercase): at most 63 lowercase
//! letters, digits and '-', starting and ending with a letter or digit.
//! Namespace names must be one; Porthole's host names are made of them.

use std::fmt;

/// A lowercase DNS label (RFC 1123).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsLabel(String);

impl DnsLabel {
    /// Longest label.
    pub const MAX_LEN: usize = 63;

    /// `text` as a label, or the first thing wrong with it.
    pub fn parse(text: &str) -> Result<Self, LabelProblem> {
        Self::check(text).map(|()| Self(text.to_owned()))
    }

    /// Whether `text` is a label, without keeping it (the proxy checks
    /// every label of every request's host).
    pub fn check(text: &str) -> Result<(), LabelProblem> {
        if text.is_empty() {
            return Err(LabelProblem::Empty);
        }
        if let Some(found) = text
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(LabelProblem::Character { found });
        }
        // Only ASCII is left, so bytes are characters.
        if text.len() > Self::MAX_LEN {
            return Err(LabelProblem::TooLong { chars: text.len() });
        }
        if text.starts_with('-') || text.ends_with('-') {
            return Err(LabelProblem::Edge);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for DnsLabel {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DnsLabel {
    type Err = LabelProblem;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Why a name is not a DNS-1123 label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelProblem {
    Empty,
    TooLong { chars: usize },
    Character { found: char },
    Edge,
}

impl fmt::Display for LabelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no name given"),
            Self::TooLong { chars } => write!(f, "{chars} characters, more than 63"),
            Self::Character { found } if found.is_uppercase() => {
                write!(f, "{found:?} is upper case")
            }
            Self::Character { found } => write!(f, "{found:?} is not allowed"),
            Self::Edge => f.write_str("starts or ends with '-'"),
        }
    }
}

impl std::error::Error for LabelProblem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_lowercase_letters_digits_and_inner_hyphens() {
        for good in ["a", "a-1", "0", "kube-system", &"a".repeat(63)] {
            let label = DnsLabel::parse(good).expect(good);
            assert_eq!(label.as_str(), good);
            assert_eq!(label.to_string(), good);
        }
        assert_eq!(
            "team-a".parse::<DnsLabel>().map(|l| l.0),
            Ok("team-a".into())
        );
    }

    #[test]
    fn the_first_problem_is_named() {
        for (bad, problem) in [
            ("", LabelProblem::Empty),
            ("Team-A", LabelProblem::Character { found: 'T' }),
            ("team_a", LabelProblem::Character { found: '_' }),
            ("a.b", LabelProblem::Character { found: '.' }),
            ("日本", LabelProblem::Character { found: '日' }),
            ("-team", LabelProblem::Edge),
            ("team-", LabelProblem::Edge),
            (&"a".repeat(64), LabelProblem::TooLong { chars: 64 }),
            // A bad character is named before the length.
            (&"A".repeat(64), LabelProblem::Character { found: 'A' }),
        ] {
            assert_eq!(DnsLabel::check(bad), Err(problem.clone()), "{bad:?}");
            assert_eq!(DnsLabel::parse(bad), Err(problem), "{bad:?}");
        }
    }

    #[test]
    fn problems_read_as_words() {
        assert_eq!(LabelProblem::Empty.to_string(), "no name given");
        assert_eq!(
            LabelProblem::TooLong { chars: 64 }.to_string(),
            "64 characters, more than 63"
        );
        assert_eq!(
            LabelProblem::Character { found: 'T' }.to_string(),
            "'T' is upper case"
        );
        assert_eq!(
            LabelProblem::Character { found: '_' }.to_string(),
            "'_' is not allowed"
        );
        assert_eq!(LabelProblem::Edge.to_string(), "starts or ends with '-'");
    }
}
