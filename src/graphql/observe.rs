//! A request extension: counts each GraphQL operation by type and outcome and times it, for
//! `/metrics`. One instance per operation, so it can remember what it parsed.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};

use crate::metrics::Metrics;

pub struct Observe(pub Arc<Metrics>);

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveOperation {
            metrics: self.0.clone(),
            seen: Mutex::default(),
        })
    }
}

#[derive(Default)]
struct Seen {
    operations: Vec<(Option<String>, OperationType)>,
    chosen: Option<String>,
}

struct ObserveOperation {
    metrics: Arc<Metrics>,
    seen: Mutex<Seen>,
}

impl ObserveOperation {
    fn kind(&self) -> usize {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let ty = match (seen.operations.as_slice(), &seen.chosen) {
            ([(_, ty)], _) => Some(*ty),
            (ops, Some(name)) => ops
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name.as_str()))
                .map(|(_, ty)| *ty),
            _ => None,
        };
        match ty {
            Some(OperationType::Query) => 0,
            Some(OperationType::Mutation) => 1,
            Some(OperationType::Subscription) => 2,
            None => 3,
        }
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ObserveOperation {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        self.metrics
            .record_operation(self.kind(), response.errors.is_empty(), started.elapsed());
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.operations = document
            .operations
            .iter()
            .map(|(name, op)| (name.map(|n| n.to_string()), op.node.ty))
            .collect();
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).chosen =
            operation_name.map(str::to_string);
        next.run(ctx, operation_name).await
    }
}
