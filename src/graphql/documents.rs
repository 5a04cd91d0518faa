//! Parsed GraphQL documents kept by their text. Frontends send the same few queries over and
//! over, and parsing one is a visible share of a page's cost, so each text is parsed once and
//! its document handed to async-graphql (which still validates it on every request). The cache
//! also tells which kind of operation a request runs, for `/metrics`, without an extension:
//! any async-graphql extension puts every resolved field on a slower path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::Request;

/// Documents longer than this are parsed every time and not kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

pub struct Documents {
    parsed: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
    capacity: usize,
}

impl Documents {
    /// Keeps at most `capacity` documents; when full, it starts over (clients that send a
    /// different text each time gain nothing from a cache, and lose nothing either).
    pub fn new(capacity: usize) -> Self {
        Self {
            parsed: Mutex::default(),
            capacity,
        }
    }

    /// Gives the request its parsed document and returns the type of the operation it will run;
    /// `None` when the text does not parse (async-graphql then reports the error) or names no
    /// single operation.
    pub fn prepare(&self, request: &mut Request) -> Option<OperationType> {
        let document = self.document(&request.query)?;
        let ty = operation_type(&document, request.operation_name.as_deref());
        request.set_parsed_query(ExecutableDocument::clone(&document));
        ty
    }

    fn document(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(found) = self.lock().get(query) {
            return Some(found.clone());
        }
        let document = Arc::new(async_graphql::parser::parse_query(query).ok()?);
        if query.len() <= MAX_CACHED_QUERY_BYTES {
            let mut parsed = self.lock();
            if parsed.len() >= self.capacity {
                parsed.clear();
            }
            parsed.insert(query.to_string(), document.clone());
        }
        Some(document)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ExecutableDocument>>> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The type of the operation a request names (or of the only one in the document).
fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
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
            documents.prepare(&mut request),
            Some(OperationType::Mutation)
        );
        assert_eq!(documents.len(), 1);
        let mut again =
            Request::new("query A { __typename } mutation B { __typename }").operation_name("A");
        assert_eq!(documents.prepare(&mut again), Some(OperationType::Query));
        assert_eq!(documents.len(), 1);
        let mut unnamed = Request::new("query A { __typename } query B { __typename }");
        assert_eq!(documents.prepare(&mut unnamed), None);
    }

    #[test]
    fn text_that_does_not_parse_is_left_to_async_graphql_and_not_kept() {
        let documents = Documents::new(2);
        let mut request = Request::new("{ units(");
        assert_eq!(documents.prepare(&mut request), None);
        assert_eq!(documents.len(), 0);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let documents = Documents::new(2);
        for query in ["{ a }", "{ b }", "{ c }"] {
            documents.prepare(&mut Request::new(query));
        }
        assert_eq!(documents.len(), 1);
    }
}
