//! The committed `schema.graphql` is the schema the code builds.

#[test]
fn schema_graphql_equals_the_exported_sdl() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the root");
    let exported = autohub::graphql::schema::export_sdl();
    assert!(
        committed == exported,
        "schema.graphql is out of date: run `cargo run -- export-schema > schema.graphql`"
    );
}

#[test]
fn every_type_and_field_of_ours_is_described() {
    let sdl = autohub::graphql::schema::export_sdl();
    let mut undocumented = Vec::new();
    let mut previous = "";
    let mut in_schema_block = false;
    for line in sdl.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("schema ") {
            in_schema_block = true;
        }
        if in_schema_block {
            in_schema_block = trimmed != "}";
            continue;
        }
        // Relay's generated connection and edge types describe themselves by their names.
        let generated = trimmed.starts_with("type ")
            && (trimmed.contains("Connection ") || trimmed.contains("Edge "));
        let is_definition = (trimmed.starts_with("type ")
            || trimmed.starts_with("input ")
            || trimmed.starts_with("enum "))
            && !trimmed.starts_with("type PageInfo")
            && !generated;
        let is_field = line.starts_with('\t')
            && !trimmed.starts_with('"')
            && trimmed.contains(':')
            && !line.starts_with("\t\t");
        if (is_definition || is_field) && !previous.ends_with('"') {
            undocumented.push(trimmed.to_string());
        }
        previous = trimmed;
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
}
