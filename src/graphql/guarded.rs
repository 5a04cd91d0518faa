//! The schema as WebSocket operations meet it: the same checks as over HTTP (coercion, cost,
//! aliases) before an operation runs, and every error given its code (`give_codes`).

use std::sync::Arc;

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Data, Executor, Request, Response};
use futures_util::StreamExt;

use super::checks::Checks;
use super::schema::AppSchema;

#[derive(Clone)]
pub struct Guarded {
    pub schema: AppSchema,
    pub checks: Arc<Checks>,
}

impl Guarded {
    /// The checks' errors, when the operation fails them.
    fn refused(&self, request: &Request) -> Option<Response> {
        let document = async_graphql::parser::parse_query(&request.query).ok()?;
        let operation = request.operation_name.as_deref();
        match self.checks.check(&document, operation, &request.variables) {
            Ok(_) => None,
            Err(errors) => Some(Response::from_errors(errors)),
        }
    }
}

impl Executor for Guarded {
    async fn execute(&self, request: Request) -> Response {
        if let Some(refused) = self.refused(&request) {
            return refused;
        }
        let mut response = self.schema.execute(request).await;
        super::give_codes(&mut response);
        response
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Some(refused) = self.refused(&request) {
            return futures_util::stream::once(async move { refused }).boxed();
        }
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(|mut response| {
                super::give_codes(&mut response);
                response
            })
            .boxed()
    }
}
