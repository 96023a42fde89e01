//! CloudWatch Logs filter patterns: what the logs view highlights and
//! what the simulation matches its log events against, as FilterLogEvents
//! does.

/// One term of a filter pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// Must appear.
    All(String),
    /// At least one of the `?` terms must appear.
    Any(String),
    /// Must not appear.
    Not(String),
}

/// A parsed CloudWatch Logs term pattern: `ERROR`, `"connection reset"`,
/// `ERROR -healthcheck`, `?ERROR ?FATAL`. Terms are case-sensitive, as
/// CloudWatch Logs matches them. JSON (`{ $.x = 1 }`) and space-delimited
/// (`[ip, ...]`) patterns are passed to the server as they are; here they
/// are [`Pattern::Structured`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Terms(Vec<TermRef>),
    Structured(String),
}

/// A term as the UI needs it: its text and whether it is excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermRef {
    term: Term,
}

impl Pattern {
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.starts_with('{') || text.starts_with('[') {
            return Self::Structured(text.to_string());
        }
        let mut terms = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let Some(&first) = chars.peek() else { break };
            let kind = match first {
                '?' => {
                    chars.next();
                    1
                }
                '-' => {
                    chars.next();
                    2
                }
                _ => 0,
            };
            let mut word = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    word.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
            }
            if word.is_empty() {
                continue;
            }
            let term = match kind {
                1 => Term::Any(word),
                2 => Term::Not(word),
                _ => Term::All(word),
            };
            terms.push(TermRef { term });
        }
        Self::Terms(terms)
    }

    /// Whether a message matches (`None` for a structured pattern, which
    /// only the server evaluates).
    pub fn matches(&self, message: &str) -> Option<bool> {
        let Self::Terms(terms) = self else {
            return None;
        };
        let mut any_seen = false;
        let mut any_hit = false;
        for t in terms {
            match &t.term {
                Term::All(w) if !message.contains(w.as_str()) => return Some(false),
                Term::Not(w) if message.contains(w.as_str()) => return Some(false),
                Term::Any(w) => {
                    any_seen = true;
                    any_hit |= message.contains(w.as_str());
                }
                _ => {}
            }
        }
        Some(!any_seen || any_hit)
    }

    /// The terms to highlight in a line (the ones that must or may appear).
    pub fn highlights(&self) -> Vec<&str> {
        match self {
            Self::Structured(_) => Vec::new(),
            Self::Terms(terms) => terms
                .iter()
                .filter_map(|t| match &t.term {
                    Term::All(w) | Term::Any(w) => Some(w.as_str()),
                    Term::Not(_) => None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_cloudwatch_terms() {
        let p = Pattern::parse("ERROR -healthcheck");
        assert_eq!(p.matches("ERROR db timeout"), Some(true));
        assert_eq!(p.matches("ERROR healthcheck failed"), Some(false));
        assert_eq!(p.matches("error db timeout"), Some(false));
        let p = Pattern::parse("?ERROR ?FATAL");
        assert_eq!(p.matches("FATAL out of memory"), Some(true));
        assert_eq!(p.matches("INFO ok"), Some(false));
        let p = Pattern::parse("\"connection reset\" api");
        assert_eq!(p.matches("api: connection reset by peer"), Some(true));
        assert_eq!(p.matches("api: connection was reset"), Some(false));
        assert_eq!(p.highlights(), vec!["connection reset", "api"]);
        assert_eq!(Pattern::parse("{ $.status = 500 }").matches("x"), None);
        assert_eq!(Pattern::parse("").matches("anything"), Some(true));
    }
}
