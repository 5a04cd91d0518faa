//! Counters for `/metrics`, in the Prometheus text format: GraphQL operations by type and
//! outcome, their latency as a histogram, HTTP requests, and SQL statements run.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The operation types counted; `invalid` is a request that did not parse or validate.
pub const OPERATION_TYPES: [&str; 4] = ["query", "mutation", "subscription", "invalid"];
const OUTCOMES: [&str; 2] = ["ok", "error"];
/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct Metrics {
    operations: [[AtomicU64; 2]; 4],
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    http_requests: AtomicU64,
    db_statements: AtomicU64,
    db_failures: AtomicU64,
    /// Objects of opted-in types answered by the fast path, and handed to their resolvers whole.
    in_place: [AtomicU64; 2],
    /// Subscription results rendered by a group, and frames of them written to sockets.
    subscription_payloads: [AtomicU64; 2],
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// One GraphQL operation finished. `kind` indexes `OPERATION_TYPES`.
    pub fn record_operation(&self, kind: usize, ok: bool, took: Duration) {
        let kind = kind.min(OPERATION_TYPES.len() - 1);
        self.operations[kind][usize::from(!ok)].fetch_add(1, Relaxed);
        let seconds = took.as_secs_f64();
        for (bound, counter) in BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                counter.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn record_http_request(&self) {
        self.http_requests.fetch_add(1, Relaxed);
    }

    pub fn record_statement(&self, failed: bool) {
        self.db_statements.fetch_add(1, Relaxed);
        if failed {
            self.db_failures.fetch_add(1, Relaxed);
        }
    }

    /// SQL statements run since start (tests use it to catch N+1 queries).
    /// An object of an opted-in type was answered in place (`true`) or by its resolvers.
    pub fn record_in_place(&self, filled: bool) {
        self.in_place[usize::from(!filled)].fetch_add(1, Relaxed);
    }

    /// Objects answered in place, and handed to their resolvers.
    pub fn in_place(&self) -> (u64, u64) {
        (
            self.in_place[0].load(Relaxed),
            self.in_place[1].load(Relaxed),
        )
    }

    /// A group rendered one subscription result (see `graphql::fanout`).
    pub fn record_rendering(&self) {
        self.subscription_payloads[0].fetch_add(1, Relaxed);
    }

    /// Sockets were handed `count` rendered results to write.
    pub fn record_deliveries(&self, count: u64) {
        self.subscription_payloads[1].fetch_add(count, Relaxed);
    }

    /// Subscription results rendered, and written to sockets.
    pub fn subscription_payloads(&self) -> (u64, u64) {
        (
            self.subscription_payloads[0].load(Relaxed),
            self.subscription_payloads[1].load(Relaxed),
        )
    }

    pub fn statements(&self) -> u64 {
        self.db_statements.load(Relaxed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP autohub_graphql_operations_total GraphQL operations by type and outcome."
        );
        let _ = writeln!(out, "# TYPE autohub_graphql_operations_total counter");
        for (kind, counters) in OPERATION_TYPES.iter().zip(&self.operations) {
            for (outcome, counter) in OUTCOMES.iter().zip(counters) {
                let _ = writeln!(
                    out,
                    "autohub_graphql_operations_total{{type=\"{kind}\",outcome=\"{outcome}\"}} {}",
                    counter.load(Relaxed)
                );
            }
        }
        let _ = writeln!(out, "# HELP autohub_graphql_operation_duration_seconds Time to answer one GraphQL operation.");
        let _ = writeln!(
            out,
            "# TYPE autohub_graphql_operation_duration_seconds histogram"
        );
        for (bound, counter) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "autohub_graphql_operation_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                counter.load(Relaxed)
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            out,
            "autohub_graphql_operation_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "autohub_graphql_operation_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "autohub_graphql_operation_duration_seconds_count {count}"
        );
        let _ = writeln!(
            out,
            "# HELP autohub_http_requests_total HTTP requests received."
        );
        let _ = writeln!(out, "# TYPE autohub_http_requests_total counter");
        let _ = writeln!(
            out,
            "autohub_http_requests_total {}",
            self.http_requests.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP autohub_db_statements_total SQL statements run."
        );
        let _ = writeln!(out, "# TYPE autohub_db_statements_total counter");
        let _ = writeln!(
            out,
            "autohub_db_statements_total {}",
            self.db_statements.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP autohub_db_statement_failures_total SQL statements that failed."
        );
        let _ = writeln!(out, "# TYPE autohub_db_statement_failures_total counter");
        let _ = writeln!(
            out,
            "autohub_db_statement_failures_total {}",
            self.db_failures.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP autohub_graphql_objects_total Objects of the types with plain fields, by how they were answered."
        );
        let _ = writeln!(out, "# TYPE autohub_graphql_objects_total counter");
        for (path, count) in ["in_place", "resolvers"].iter().zip(&self.in_place) {
            let _ = writeln!(
                out,
                "autohub_graphql_objects_total{{path=\"{path}\"}} {}",
                count.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP autohub_subscription_payloads_total Subscription results rendered (once per group of sockets that see the same), and written to sockets."
        );
        let _ = writeln!(out, "# TYPE autohub_subscription_payloads_total counter");
        for (stage, count) in ["rendered", "delivered"]
            .iter()
            .zip(&self.subscription_payloads)
        {
            let _ = writeln!(
                out,
                "autohub_subscription_payloads_total{{stage=\"{stage}\"}} {}",
                count.load(Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::new();
        m.record_operation(0, true, Duration::from_millis(3));
        m.record_operation(1, false, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("autohub_graphql_operations_total{type=\"query\",outcome=\"ok\"} 1"));
        assert!(text
            .contains("autohub_graphql_operations_total{type=\"mutation\",outcome=\"error\"} 1"));
        assert!(text.contains("autohub_graphql_operation_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("autohub_graphql_operation_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("autohub_graphql_operation_duration_seconds_count 2"));
    }
}
