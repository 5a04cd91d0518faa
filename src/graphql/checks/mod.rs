//! What async-graphql's validation does not check, done once per document, operation and
//! variables before it runs (requests that repeat one that passed skip it, see `Documents`):
//!
//! - **Input coercion** (`coerce.rs`): every variable and every literal argument is checked against its
//!   declared type with the same parsers async-graphql uses at run time (`Decimal`, `DateTime`,
//!   `NaiveDate`, `Int`'s range, `Upload`…), required input fields and non-null values
//!   included. A value that does not fit is `BAD_USER_INPUT` with `extensions.field` naming its
//!   path (`filter.priceMin`, or the variable: `input.vin`), instead of failing inside a
//!   resolver.
//! - **Cost**: what a query can return. Each field counts 1; a connection field counts its child
//!   selection times its page size (`first`/`last`, or `DEFAULT_PAGE`), a list without page
//!   arguments times its documented bound (`LIST_BOUNDS`, else `LIST_BOUND`), so nested lists
//!   multiply. `__typename` is free.
//! - **Aliases**: at most `max_aliases` per operation (fragments counted where they are spread).
//! - **Introspection**: an operation that selects only `__schema`, `__type` and `__typename` is
//!   reported as such; it runs with a depth limit that admits the `ofType` chains tools send, and
//!   here its lists may nest at most `INTROSPECTION_LIST_NESTING` deep (`types { fields { args`)
//!   and never inside themselves, which keeps a re-entrant `fields { type { fields …` from
//!   multiplying.
//!
//! The type information comes from the schema's own SDL, read once at start.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationDefinition, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Name, Pos, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};

use super::coerce::{InputTypes, Misfit};
use super::documents::find_operation;
use crate::error::AppError;
use crate::paging::DEFAULT_PAGE;

/// Lists without page arguments whose length the product bounds.
const LIST_BOUNDS: &[(&str, &str, u64)] = &[
    ("Unit", "photos", crate::units::service::MAX_PHOTOS),
    (
        "ServiceLocation",
        "openingHours",
        crate::bookings::service::MAX_HOURS,
    ),
    (
        "Booking",
        "services",
        crate::bookings::service::MAX_SERVICES,
    ),
    (
        "ServiceOffering",
        "modelPrices",
        crate::bookings::service::MAX_MODEL_PRICES,
    ),
    ("Offer", "eligibleTiers", 4),
    ("Offer", "makes", crate::offers::service::MAX_MAKES as u64),
    (
        "Offer",
        "locations",
        crate::offers::service::MAX_LOCATIONS as u64,
    ),
    ("Query", "membershipPlans", 4),
    (
        "MembershipPlan",
        "benefits",
        crate::offers::service::MAX_BENEFITS as u64,
    ),
    (
        "ShopInfo",
        "openingHours",
        crate::bookings::service::MAX_HOURS,
    ),
    (
        "ShopInfo",
        "socialLinks",
        crate::content::service::MAX_LINKS as u64,
    ),
    // One total per payment method.
    ("PaymentStats", "byMethod", 6),
    // A day has at most 25 hours: 25 hourly test drives, 50 half-hour appointments.
    ("Query", "availableTestDriveSlots", 25),
    ("Query", "appointmentAvailability", 50),
];
/// Any other list without page arguments counts as this many items.
pub const LIST_BOUND: u64 = 100;
/// How deep introspection lists may nest (`__schema { types { fields { args …`).
const INTROSPECTION_LIST_NESTING: usize = 3;
/// Introspection fields that return lists.
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "enumValues",
    "interfaces",
    "possibleTypes",
    "directives",
];
/// Past this many fields visited (fragments expanded), a document is refused as too large:
/// fragments spread within fragments can multiply a small text.
const MAX_VISITED_FIELDS: usize = 20_000;

/// The limits this module applies.
#[derive(Debug, Clone, Copy)]
pub struct CheckLimits {
    pub max_cost: u64,
    pub max_aliases: usize,
}

/// What the checks found about an operation that passed them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// It selects only introspection fields.
    pub introspection: bool,
    /// What it may cost (0 for introspection).
    pub cost: u64,
}

pub struct Checks {
    outputs: HashMap<Name, HashMap<Name, OutputField>>,
    inputs: InputTypes,
    limits: CheckLimits,
    /// The root types' names, by `OperationType` (query, mutation, subscription).
    roots: [Name; 3],
    /// A type name that matches no type.
    blank: Name,
}

struct OutputField {
    arguments: HashMap<Name, Type>,
    named: Name,
    /// What the child selection is multiplied by, or `Pages` for `first`/`last`.
    times: Times,
}

enum Times {
    One,
    Pages,
    Bound(u64),
}

impl Checks {
    /// Reads the types of the schema whose SDL this is.
    pub fn new(sdl: &str, limits: CheckLimits) -> Self {
        let mut checks = Self {
            outputs: HashMap::new(),
            inputs: InputTypes::default(),
            limits,
            roots: [
                Name::new("Query"),
                Name::new("Mutation"),
                Name::new("Subscription"),
            ],
            blank: Name::new(""),
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            tracing::warn!("the schema's SDL did not parse; input checks are off");
            return checks;
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let type_name = ty.name.node;
            match ty.kind {
                TypeKind::Object(object) => {
                    checks.add_output(&type_name, object.fields);
                }
                TypeKind::Interface(interface) => {
                    checks.add_output(&type_name, interface.fields);
                }
                TypeKind::InputObject(input) => checks.inputs.add_input(type_name, input),
                TypeKind::Enum(enumeration) => checks.inputs.add_enum(type_name, enumeration),
                TypeKind::Scalar | TypeKind::Union(_) => {}
            }
        }
        checks
    }

    fn add_output(
        &mut self,
        type_name: &Name,
        fields: Vec<async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>>,
    ) {
        let connection = type_name.ends_with("Connection");
        let fields = fields
            .into_iter()
            .map(|f| {
                let f = f.node;
                let arguments: HashMap<Name, Type> = f
                    .arguments
                    .into_iter()
                    .map(|a| (a.node.name.node, a.node.ty.node))
                    .collect();
                let paged = arguments.contains_key("first") || arguments.contains_key("last");
                let times = if paged {
                    Times::Pages
                } else if matches!(f.ty.node.base, BaseType::List(_)) && !connection {
                    // A connection's `edges` and `nodes` are its page, counted at the field
                    // that returns the connection.
                    let bound = LIST_BOUNDS
                        .iter()
                        .find(|(t, n, _)| *t == type_name.as_str() && *n == f.name.node.as_str())
                        .map_or(LIST_BOUND, |(_, _, b)| *b);
                    Times::Bound(bound)
                } else {
                    Times::One
                };
                let field = OutputField {
                    arguments,
                    named: named_type(&f.ty.node).clone(),
                    times,
                };
                (f.name.node, field)
            })
            .collect();
        self.outputs.insert(type_name.clone(), fields);
    }

    /// Checks one operation of a parsed document with its variables. An operation that cannot
    /// be found is left for async-graphql to report.
    pub fn check(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Result<Verdict, Vec<ServerError>> {
        let Some(operation) = find_operation(document, operation_name) else {
            return Ok(Verdict::default());
        };
        let resolved = self.check_variables(operation, variables)?;
        let root = &self.roots[operation.ty as usize];
        let mut walk = Walk {
            checks: self,
            document,
            variables: &resolved,
            spreading: Vec::new(),
            aliases: 0,
            visited: 0,
            misfits: Vec::new(),
            too_large: false,
            introspection_too_deep: false,
        };
        let introspection = walk.introspection_only(&operation.selection_set.node);
        let cost = if introspection {
            walk.introspection_lists(&operation.selection_set.node, &mut Vec::new());
            0
        } else {
            walk.cost(&operation.selection_set.node, root)
        };
        if let Some((misfit, pos)) = walk.misfits.first().cloned() {
            return Err(vec![to_server_error(misfit, pos)]);
        }
        let refuse = |message: String| Err(vec![query_error(message, operation_pos(operation))]);
        if walk.too_large {
            return refuse(format!(
                "This query is too large: it selects more than {MAX_VISITED_FIELDS} fields once its fragments are spread."
            ));
        }
        if walk.aliases > self.limits.max_aliases {
            return refuse(format!(
                "This query uses {} aliases; at most {} are allowed.",
                walk.aliases, self.limits.max_aliases
            ));
        }
        if introspection && walk.introspection_too_deep {
            return refuse(format!(
                "Introspection lists may nest at most {INTROSPECTION_LIST_NESTING} deep, and not inside themselves."
            ));
        }
        if cost > self.limits.max_cost {
            return refuse(format!(
                "This query is too complex: it may cost up to {cost}, over the limit of {}. Ask for smaller pages (first/last) or fewer nested lists.",
                self.limits.max_cost
            ));
        }
        Ok(Verdict {
            introspection,
            cost,
        })
    }

    /// Coerces each variable against its declared type; returns them with defaults filled in.
    fn check_variables(
        &self,
        operation: &OperationDefinition,
        variables: &Variables,
    ) -> Result<HashMap<Name, ConstValue>, Vec<ServerError>> {
        let mut resolved = HashMap::new();
        let mut errors = Vec::new();
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            let name = &definition.name.node;
            let ty = &definition.var_type.node;
            let value = match variables.get(name) {
                Some(value) => Some(value.clone()),
                None => definition.default_value().cloned(),
            };
            let outcome = match &value {
                None if !ty.nullable => Err(Misfit {
                    path: name.to_string(),
                    message: format!("The variable ${name} of type {ty} is required."),
                }),
                None => Ok(()),
                Some(value) => self.inputs.fits(value, ty, name.to_string()),
            };
            if let Err(misfit) = outcome {
                errors.push(to_server_error(misfit, Some(definition.name.pos)));
            }
            if let Some(value) = value {
                resolved.insert(name.clone(), value);
            }
        }
        if errors.is_empty() {
            Ok(resolved)
        } else {
            Err(errors)
        }
    }
}

fn named_type(ty: &Type) -> &Name {
    match &ty.base {
        BaseType::Named(name) => name,
        BaseType::List(inner) => named_type(inner),
    }
}

fn operation_pos(operation: &OperationDefinition) -> Option<Pos> {
    Some(operation.selection_set.pos)
}

fn to_server_error(misfit: Misfit, pos: Option<Pos>) -> ServerError {
    let error: async_graphql::Error = AppError::bad_input(misfit.path, misfit.message).into();
    error.into_server_error(pos.unwrap_or_default())
}

fn query_error(message: String, pos: Option<Pos>) -> ServerError {
    to_server_error(
        Misfit {
            path: "query".into(),
            message,
        },
        pos,
    )
}

/// One pass over an operation's selections, fragments spread where they are used.
struct Walk<'a> {
    checks: &'a Checks,
    document: &'a ExecutableDocument,
    variables: &'a HashMap<Name, ConstValue>,
    /// The fragments being spread, to stop at a cycle (validation reports it).
    spreading: Vec<&'a Name>,
    aliases: usize,
    visited: usize,
    misfits: Vec<(Misfit, Option<Pos>)>,
    too_large: bool,
    introspection_too_deep: bool,
}

impl<'a> Walk<'a> {
    /// Calls `each` with every field of a selection set and the type it is selected on,
    /// spreading fragments; stops once the document proves too large.
    fn fields(
        &mut self,
        set: &'a SelectionSet,
        on: &'a Name,
        each: &mut dyn FnMut(&mut Self, &'a async_graphql::parser::types::Field, &'a Name),
    ) {
        for selection in &set.items {
            if self.too_large {
                return;
            }
            match &selection.node {
                Selection::Field(field) => {
                    self.visited += 1;
                    if self.visited > MAX_VISITED_FIELDS {
                        self.too_large = true;
                        return;
                    }
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    each(self, &field.node, on);
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(on, |c| &c.node.on.node);
                    self.fields(&fragment.node.selection_set.node, on, each);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.spreading.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    self.spreading.push(name);
                    let on = &fragment.node.type_condition.node.on.node;
                    self.fields(&fragment.node.selection_set.node, on, each);
                    self.spreading.pop();
                }
            }
        }
    }

    /// True when the root selects introspection fields and nothing else.
    fn introspection_only(&self, set: &'a SelectionSet) -> bool {
        let (mut meta, mut other) = (0usize, 0usize);
        let mut spreading: Vec<&Name> = Vec::new();
        let mut sets = vec![set];
        while let Some(set) = sets.pop() {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => match field.node.name.node.as_str() {
                        "__schema" | "__type" => meta += 1,
                        "__typename" => {}
                        _ => other += 1,
                    },
                    Selection::InlineFragment(fragment) => {
                        sets.push(&fragment.node.selection_set.node)
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = &spread.node.fragment_name.node;
                        if spreading.contains(&name) {
                            continue;
                        }
                        spreading.push(name);
                        if let Some(fragment) = self.document.fragments.get(name) {
                            sets.push(&fragment.node.selection_set.node);
                        }
                    }
                }
            }
        }
        meta > 0 && other == 0
    }

    /// Checks how introspection lists nest: at most `INTROSPECTION_LIST_NESTING` deep, and
    /// none inside itself (`fields { type { fields` is how a small query asks for the schema
    /// many times over).
    fn introspection_lists(&mut self, set: &'a SelectionSet, lists: &mut Vec<&'a str>) {
        let blank = &self.checks.blank;
        self.fields(set, blank, &mut |walk, field, _| {
            let name = field.name.node.as_str();
            let list = INTROSPECTION_LISTS.contains(&name);
            if list {
                if lists.len() >= INTROSPECTION_LIST_NESTING || lists.contains(&name) {
                    walk.introspection_too_deep = true;
                    return;
                }
                lists.push(name);
            }
            walk.introspection_lists(&field.selection_set.node, lists);
            if list {
                lists.pop();
            }
        });
    }

    /// What a selection set on type `on` may cost; checks each field's literal arguments.
    fn cost(&mut self, set: &'a SelectionSet, on: &'a Name) -> u64 {
        let mut total = 0u64;
        self.fields(set, on, &mut |walk, field, on| {
            let name = field.name.node.as_str();
            if name == "__typename" {
                return;
            }
            let checks = walk.checks;
            let Some(definition) = checks.outputs.get(on).and_then(|f| f.get(name)) else {
                // Unknown here (introspection or a field validation refuses): counts 1.
                total = total.saturating_add(1);
                return;
            };
            walk.check_arguments(field, definition);
            let child = walk.cost(&field.selection_set.node, &definition.named);
            let times = match definition.times {
                Times::One => 1,
                Times::Bound(bound) => bound,
                Times::Pages => walk.page_size(field),
            };
            total = total.saturating_add(1 + times.saturating_mul(child));
        });
        total
    }

    /// The page a connection field asks for: the larger of `first` and `last`, or the default.
    fn page_size(&self, field: &async_graphql::parser::types::Field) -> u64 {
        let size = |name: &str| {
            let value = field.get_argument(name)?;
            let value = match &value.node {
                Value::Variable(var) => self.variables.get(var)?.clone(),
                literal => literal.clone().into_const()?,
            };
            match value {
                ConstValue::Number(n) => Some(n.as_u64().unwrap_or(0)),
                _ => None,
            }
        };
        match (size("first"), size("last")) {
            (None, None) => DEFAULT_PAGE,
            (a, b) => a.unwrap_or(0).max(b.unwrap_or(0)),
        }
    }

    /// Each literal argument against its declared type (variables were checked on their own).
    fn check_arguments(
        &mut self,
        field: &'a async_graphql::parser::types::Field,
        definition: &OutputField,
    ) {
        for (name, value) in &field.arguments {
            let Some(ty) = definition.arguments.get(&name.node) else {
                continue;
            };
            let variables = self.variables;
            let Ok(value) = value.node.clone().into_const_with(|var| {
                Ok::<_, ()>(variables.get(&var).cloned().unwrap_or(ConstValue::Null))
            }) else {
                continue;
            };
            if let Err(misfit) = self.checks.inputs.fits(&value, ty, name.node.to_string()) {
                self.misfits.push((misfit, Some(name.pos)));
            }
        }
    }
}

#[cfg(test)]
mod tests;
