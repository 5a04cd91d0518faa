//! Objects whose plain fields are filled in place. async-graphql gives every selected field a
//! boxed future and a task of its own; a page of units asks for a few hundred fields, nearly all
//! values at hand (a unit's columns, its owner's name, its photo's URL). `InPlace<T>` answers
//! those directly and hands the others (relations, anything that loads or checks) to `T`'s own
//! resolvers, all at once, so DataLoaders batch across a page as they did. A selection with a
//! fragment or a directive, or one response key used twice, goes to `T` whole. (The schema has
//! no extension, which would expect to see every field.) `InPlace<T>` registers as `T`: the
//! schema does not change. `tests/units.rs` checks that both ways answer alike.

use std::borrow::Cow;

use async_graphql::futures_util::future::join_all;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, InputType, OutputType, Positioned, ServerResult,
    Value,
};

/// A type some of whose fields need nothing but the value itself (and the request's data).
pub trait PlainFields: OutputType {
    /// Field `name` (one without arguments), as its resolver would give it; `None` for a field
    /// its resolver must answer.
    fn plain(&self, ctx: &Context<'_>, name: &str) -> Option<Value>;
}

/// A scalar or enum as its GraphQL type writes it (the same value for input and output).
pub fn value<T: InputType>(v: T) -> Value {
    v.to_value()
}

/// `T`, with its plain fields filled in place.
pub struct InPlace<T>(pub T);

impl<T> InPlace<T> {
    /// Only fields, none with a directive, each response key once.
    fn simple(selection: &SelectionSet) -> bool {
        let mut keys = Vec::with_capacity(selection.items.len());
        for item in &selection.items {
            let Selection::Field(f) = &item.node else {
                return false;
            };
            let key = &f.node.response_key().node;
            if !f.node.directives.is_empty() || keys.contains(&key) {
                return false;
            }
            keys.push(key);
        }
        true
    }
}

impl<T: PlainFields + ContainerType> OutputType for InPlace<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if !Self::simple(&ctx.item.node) {
            return OutputType::resolve(&self.0, ctx, field).await;
        }
        let mut values = Vec::with_capacity(ctx.item.node.items.len());
        let mut others = Vec::new();
        for selection in &ctx.item.node.items {
            let Selection::Field(f) = &selection.node else {
                continue;
            };
            let name = f.node.name.node.as_str();
            let value = if name == "__typename" {
                Some(Value::String(T::type_name().into_owned()))
            } else {
                self.0.plain(&ctx.with_field(f), name)
            };
            if value.is_none() {
                others.push(f);
            }
            values.push((f.node.response_key().node.clone(), value));
        }
        let resolved = join_all(others.into_iter().map(|f| async move {
            let ctx_field = ctx.with_field(f);
            self.0.resolve_field(&ctx_field).await
        }))
        .await;
        let mut resolved = resolved.into_iter();
        let mut object = IndexMap::with_capacity(values.len());
        for (key, value) in values {
            // A plain value, or the next of the others' results, in selection order.
            let value = match value {
                Some(value) => value,
                None => match resolved.next() {
                    Some(Ok(value)) => value.unwrap_or_default(),
                    Some(Err(err)) => {
                        ctx.add_error(err);
                        continue;
                    }
                    None => continue,
                },
            };
            object.insert(key, value);
        }
        Ok(if object.is_empty() {
            Value::Null
        } else {
            Value::Object(object)
        })
    }
}
