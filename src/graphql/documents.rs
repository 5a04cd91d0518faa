//! Parsed GraphQL documents kept by their text. Frontends send the same few queries over and
//! over, and parsing one is a visible share of a page's cost, so each text is parsed once and
//! its document handed to async-graphql. Validating a document against the schema costs about as
//! much again, and its outcome depends only on the document, the operation named and the
//! variables: the cache remembers which of those passed full validation without an error, and
//! a request that repeats one is run through async-graphql's lighter checks only (complexity,
//! depth, uploads). The cache also tells which kind of operation a request runs, for
//! `/metrics`, without an extension: any async-graphql extension puts every resolved field on a
//! slower path.

use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql::Request;

use crate::cache::Bounded;

/// Documents longer than this are parsed every time and not kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;
/// A document remembers at most this many operation-and-variables pairs that passed.
const MAX_PASSES_KEPT: usize = 16;
/// Nor does it remember variables longer than this (as JSON).
const MAX_PASS_BYTES: usize = 1024;

pub struct Documents {
    parsed: Bounded<Arc<str>, Entry>,
}

struct Entry {
    document: Arc<ExecutableDocument>,
    /// Operation names and variables (see `pass_key`) with which the document passed full
    /// validation and ran without an error.
    passed: Vec<String>,
}

/// A request made ready to run.
pub struct Prepared {
    /// The type of the operation it runs; `None` when the text does not parse (async-graphql
    /// then reports the error) or names no single operation.
    pub kind: Option<OperationType>,
    /// The same document, operation and variables passed full validation before.
    pub validated: bool,
    /// The parsed document; none when the text does not parse.
    pub document: Option<Arc<ExecutableDocument>>,
    /// Where `passed` records a clean run: none for documents not kept.
    key: Option<(Arc<str>, String)>,
}

impl Documents {
    /// Keeps at most `capacity` documents (clients that send a different text each time gain
    /// nothing from a cache, and lose nothing either).
    pub fn new(capacity: usize) -> Self {
        Self {
            parsed: Bounded::new(capacity),
        }
    }

    /// Gives the request its parsed document, and tells what kind of operation it runs and
    /// whether it passed full validation before.
    pub fn prepare(&self, request: &mut Request) -> Prepared {
        let pass = pass_key(request);
        let found = self
            .parsed
            .lock()
            .get_key_value(request.query.as_str())
            .map(|(text, entry)| {
                let validated = pass.as_ref().is_some_and(|p| entry.passed.contains(p));
                (Some(text.clone()), entry.document.clone(), validated)
            });
        let Some((text, document, validated)) = found.or_else(|| {
            let (text, document) = self.parse(&request.query)?;
            Some((text, document, false))
        }) else {
            return Prepared {
                kind: None,
                validated: false,
                document: None,
                key: None,
            };
        };
        let kind = find_operation(&document, request.operation_name.as_deref()).map(|op| op.ty);
        request.set_parsed_query(ExecutableDocument::clone(&document));
        Prepared {
            kind,
            validated,
            document: Some(document),
            key: text.zip(pass),
        }
    }

    /// Records that a prepared request passed full validation and ran without an error.
    pub fn passed(&self, prepared: Prepared) {
        if prepared.validated {
            return;
        }
        let Some((text, pass)) = prepared.key else {
            return;
        };
        if let Some(entry) = self.parsed.lock().get_mut(&text) {
            if entry.passed.len() < MAX_PASSES_KEPT && !entry.passed.contains(&pass) {
                entry.passed.push(pass);
            }
        }
    }

    /// Parses a text not seen before, and keeps it unless it is too long (no text then).
    fn parse(&self, query: &str) -> Option<(Option<Arc<str>>, Arc<ExecutableDocument>)> {
        let document = Arc::new(async_graphql::parser::parse_query(query).ok()?);
        if query.len() > MAX_CACHED_QUERY_BYTES {
            return Some((None, document));
        }
        let text: Arc<str> = Arc::from(query);
        self.parsed.lock().insert(
            text.clone(),
            Entry {
                document: document.clone(),
                passed: Vec::new(),
            },
        );
        Some((Some(text), document))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.parsed.lock().len()
    }
}

/// What validation depends on besides the document: the operation's name and the variables.
/// None for variables too long to be worth remembering (or that do not serialize).
fn pass_key(request: &Request) -> Option<String> {
    let variables = serde_json::to_string(&request.variables).ok()?;
    if variables.len() > MAX_PASS_BYTES {
        return None;
    }
    let name = request.operation_name.as_deref().unwrap_or("");
    Some(format!("{name}\n{variables}"))
}

/// The operation a request names (or the only one in the document).
pub fn find_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_parsed_once_and_name_their_operation() {
        let documents = Documents::new(2);
        let mut request =
            Request::new("query A { __typename } mutation B { __typename }").operation_name("B");
        assert_eq!(
            documents.prepare(&mut request).kind,
            Some(OperationType::Mutation)
        );
        assert_eq!(documents.len(), 1);
        let mut again =
            Request::new("query A { __typename } mutation B { __typename }").operation_name("A");
        assert_eq!(
            documents.prepare(&mut again).kind,
            Some(OperationType::Query)
        );
        assert_eq!(documents.len(), 1);
        let mut unnamed = Request::new("query A { __typename } query B { __typename }");
        assert_eq!(documents.prepare(&mut unnamed).kind, None);
    }

    #[test]
    fn text_that_does_not_parse_is_left_to_async_graphql_and_not_kept() {
        let documents = Documents::new(2);
        let mut request = Request::new("{ units(");
        assert_eq!(documents.prepare(&mut request).kind, None);
        assert_eq!(documents.len(), 0);
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity_and_keeps_the_newest() {
        let documents = Documents::new(2);
        for query in ["{ a }", "{ b }", "{ c }"] {
            documents.prepare(&mut Request::new(query));
        }
        assert_eq!(documents.len(), 2);
        assert!(documents.parsed.lock().get("{ c }").is_some());
    }

    #[test]
    fn a_pass_is_remembered_for_its_operation_and_variables_only() {
        let documents = Documents::new(4);
        let text = "query A($n: Int) { a(n: $n) } query B { b }";
        let request =
            |name: &str, n: i64| {
                Request::new(text).operation_name(name).variables(
                    async_graphql::Variables::from_json(serde_json::json!({ "n": n })),
                )
            };
        let first = documents.prepare(&mut request("A", 1));
        assert!(!first.validated);
        documents.passed(first);
        assert!(documents.prepare(&mut request("A", 1)).validated);
        assert!(!documents.prepare(&mut request("A", 2)).validated);
        assert!(!documents.prepare(&mut request("B", 1)).validated);
        // A text too long to keep is never remembered.
        let long = format!("{{ a }} # {}", "x".repeat(MAX_CACHED_QUERY_BYTES));
        let prepared = documents.prepare(&mut Request::new(long.as_str()));
        documents.passed(prepared);
        assert!(
            !documents
                .prepare(&mut Request::new(long.as_str()))
                .validated
        );
    }
}
