//! The checks on documents of the real schema.

use super::*;

fn checks() -> Checks {
    Checks::new(
        &crate::graphql::schema::export_sdl(),
        CheckLimits {
            max_cost: 10_000,
            max_aliases: 50,
        },
    )
}

fn run(query: &str, variables: serde_json::Value) -> Result<Verdict, Vec<ServerError>> {
    let document = async_graphql::parser::parse_query(query).expect("parses");
    checks().check(&document, None, &Variables::from_json(variables))
}

fn field_of(errors: &[ServerError]) -> String {
    let extensions = errors[0].extensions.as_ref().expect("extensions");
    extensions
        .get("field")
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[test]
fn every_scalar_of_the_schema_is_known() {
    let sdl = crate::graphql::schema::export_sdl();
    for line in sdl.lines().filter(|l| l.starts_with("scalar ")) {
        let name = line.trim_start_matches("scalar ").trim();
        assert!(
            super::super::coerce::KNOWN_SCALARS.contains(&name),
            "unknown scalar {name}"
        );
    }
}

#[test]
fn bad_values_name_their_path() {
    let errors = run(
        r#"{ units(filter: { priceMin: "abc" }) { totalCount } }"#,
        serde_json::json!({}),
    )
    .unwrap_err();
    assert_eq!(field_of(&errors), "\"filter.priceMin\"");
    let errors = run(
        "query($f: UnitFilter) { units(filter: $f) { totalCount } }",
        serde_json::json!({ "f": { "yearMin": 99999999999u64 } }),
    )
    .unwrap_err();
    assert_eq!(field_of(&errors), "\"f.yearMin\"");
    assert!(run(
        r#"{ units(filter: { priceMin: "12.50", yearMin: 2001 }) { totalCount } }"#,
        serde_json::json!({})
    )
    .is_ok());
}

#[test]
fn page_sizes_multiply() {
    let verdict = run(
        "{ units(first: 10) { edges { node { id serviceRecords(first: 5) { nodes { id } } } } } }",
        serde_json::json!({}),
    )
    .expect("passes");
    // units: 1 + 10 × (edges 1 + node 1 + id 1 + records (1 + 5 × (nodes 1 + id 1)))
    assert_eq!(verdict.cost, 1 + 10 * (1 + 1 + 1 + (1 + 5 * 2)));
}

#[test]
fn every_query_of_the_api_guide_passes_the_default_limits() {
    let readme = include_str!("../../../docs/api.md");
    let blocks: Vec<&str> = readme
        .split("```graphql")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= 5, "guide blocks found: {}", blocks.len());
    // A block starts an operation; it may hold several, each starting at the block's
    // indentation (three spaces inside a numbered list).
    let mut operations: Vec<String> = Vec::new();
    for block in blocks {
        let mut first = true;
        for line in block.lines() {
            let opens = |rest: &str| {
                ["{", "mutation", "query", "subscription"]
                    .iter()
                    .any(|k| rest.trim_start().starts_with(k))
            };
            let starts = (first && opens(line))
                || line
                    .strip_prefix("   ")
                    .is_some_and(|rest| opens(rest) && !rest.starts_with(' '));
            if !line.trim().is_empty() {
                first = false;
            }
            match operations.last_mut() {
                Some(current) if !starts => current.push_str(line),
                _ if line.trim().is_empty() => {}
                _ => operations.push(line.to_string()),
            }
            if let Some(current) = operations.last_mut() {
                current.push('\n');
            }
        }
    }
    assert!(operations.len() >= 8, "guide operations: {operations:?}");
    let config = crate::config::Config::from_map(&Default::default()).expect("defaults");
    let checks = crate::graphql::schema::checks(&config.limits);
    for operation in operations {
        let document =
            async_graphql::parser::parse_query(&operation).expect("a guide query parses");
        let verdict = checks.check(&document, None, &Variables::default());
        assert!(verdict.is_ok(), "{operation}");
    }
}

#[test]
fn introspection_is_recognised_and_its_lists_bounded() {
    let verdict = run(
        "{ __schema { types { fields { args { name } } } } }",
        serde_json::json!({}),
    )
    .expect("passes");
    assert!(verdict.introspection);
    assert!(run(
        "{ __schema { types { fields { type { fields { name } } } } } }",
        serde_json::json!({})
    )
    .is_err());
    assert!(
        !run("{ __typename me { id } }", serde_json::json!({}))
            .expect("passes")
            .introspection
    );
}
