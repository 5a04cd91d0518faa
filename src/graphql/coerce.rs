//! Input coercion as the GraphQL spec describes it, checked before an operation runs: whether a
//! value (a variable, or an argument's literal) fits its declared type, with the same scalar
//! parsers the resolvers use, and where it does not, the path of the value that does not.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, EnumType, InputObjectType, Type};
use async_graphql::{InputType, Name};
use async_graphql_value::ConstValue;

/// The schema's input objects and enums, by name.
#[derive(Default)]
pub struct InputTypes {
    inputs: HashMap<Name, Vec<InputField>>,
    enums: HashMap<Name, Vec<Name>>,
}

struct InputField {
    name: Name,
    ty: Type,
    has_default: bool,
}

/// A value that does not fit its type: where, and why.
#[derive(Clone)]
pub struct Misfit {
    pub path: String,
    pub message: String,
}

impl InputTypes {
    pub fn add_input(&mut self, name: Name, input: InputObjectType) {
        let fields = input
            .fields
            .into_iter()
            .map(|f| InputField {
                name: f.node.name.node,
                ty: f.node.ty.node,
                has_default: f.node.default_value.is_some(),
            })
            .collect();
        self.inputs.insert(name, fields);
    }

    pub fn add_enum(&mut self, name: Name, enumeration: EnumType) {
        let values = enumeration
            .values
            .into_iter()
            .map(|v| v.node.value.node)
            .collect();
        self.enums.insert(name, values);
    }

    /// Whether `value` coerces to `ty`; `path` names it in the error.
    pub fn fits(&self, value: &ConstValue, ty: &Type, path: String) -> Result<(), Misfit> {
        if matches!(value, ConstValue::Null) {
            if ty.nullable {
                return Ok(());
            }
            return Err(Misfit {
                message: format!("{path} must not be null."),
                path,
            });
        }
        match &ty.base {
            BaseType::List(inner) => match value {
                ConstValue::List(items) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, item)| self.fits(item, inner, format!("{path}.{i}"))),
                single => self.fits(single, inner, path),
            },
            BaseType::Named(name) => self.fits_named(value, name, path),
        }
    }

    fn fits_named(&self, value: &ConstValue, type_name: &Name, path: String) -> Result<(), Misfit> {
        if let Some(fields) = self.inputs.get(type_name) {
            let ConstValue::Object(object) = value else {
                return Err(Misfit {
                    message: format!("{path} must be an object of type {type_name}."),
                    path,
                });
            };
            if let Some(unknown) = object
                .keys()
                .find(|k| !fields.iter().any(|f| &f.name == *k))
            {
                return Err(Misfit {
                    message: format!("{path}.{unknown} is not a field of {type_name}."),
                    path: format!("{path}.{unknown}"),
                });
            }
            for field in fields {
                let at = format!("{path}.{}", field.name);
                match object.get(&field.name) {
                    None if !field.ty.nullable && !field.has_default => {
                        return Err(Misfit {
                            message: format!("{at} is required."),
                            path: at,
                        })
                    }
                    None => {}
                    Some(inner) => self.fits(inner, &field.ty, at)?,
                }
            }
            return Ok(());
        }
        if let Some(values) = self.enums.get(type_name) {
            let given = match value {
                ConstValue::Enum(name) => Some(name.as_str()),
                ConstValue::String(text) => Some(text.as_str()),
                _ => None,
            };
            if given.is_some_and(|g| values.iter().any(|v| v.as_str() == g)) {
                return Ok(());
            }
            let allowed: Vec<&str> = values.iter().map(Name::as_str).collect();
            return Err(Misfit {
                message: format!(
                    "{path}: {value} is not a {type_name} (one of {}).",
                    allowed.join(", ")
                ),
                path,
            });
        }
        if scalar_fits(type_name, value) {
            return Ok(());
        }
        Err(Misfit {
            message: format!("{path}: {} is not a valid {type_name}.", shown(value)),
            path,
        })
    }
}

/// Whether a value parses as the scalar of this name, with the parsers the resolvers use.
/// Scalars this module does not know are left to them.
fn scalar_fits(type_name: &str, value: &ConstValue) -> bool {
    fn parses<T: InputType>(value: &ConstValue) -> bool {
        T::parse(Some(value.clone())).is_ok()
    }
    match type_name {
        "Int" => parses::<i32>(value),
        "Float" => parses::<f64>(value),
        "String" => parses::<String>(value),
        "Boolean" => parses::<bool>(value),
        "ID" => parses::<async_graphql::ID>(value),
        "Decimal" => parses::<rust_decimal::Decimal>(value),
        "DateTime" => parses::<chrono::DateTime<chrono::Utc>>(value),
        "NaiveDate" => parses::<chrono::NaiveDate>(value),
        // async-graphql's own parser panics on a marker with no number after it.
        "Upload" => matches!(value, ConstValue::String(s)
            if s.strip_prefix("#__graphql_file__:").is_some_and(|n| n.parse::<usize>().is_ok())),
        _ => true,
    }
}

/// The scalars `scalar_fits` knows.
#[cfg(test)]
pub const KNOWN_SCALARS: &[&str] = &[
    "Int",
    "Float",
    "String",
    "Boolean",
    "ID",
    "Decimal",
    "DateTime",
    "NaiveDate",
    "Upload",
];

/// A value as the error message shows it: short.
fn shown(value: &ConstValue) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
