//! Objects whose plain fields are filled in place. async-graphql gives every selected field a
//! boxed future and a task of its own; a page of units asks for a few hundred fields, nearly all
//! values at hand (a unit's columns, its owner's name, its photo's URL). `InPlace<T>` answers
//! those directly and hands the others (relations, anything that loads or checks) to `T`'s own
//! resolvers, all at once, so DataLoaders batch across a page as they did.
//!
//! Every shape a client sends takes this way: `__typename`, aliases, inline fragments and named
//! fragments on `T` (Apollo and Relay colocate them), a field asked twice (a fragment's `id`
//! beside the query's), and `@include`/`@skip` (async-graphql drops the selections they skip
//! before execution, with literal or variable conditions alike). Only what needs merging or
//! another type goes to `T` whole: a relation asked twice under one key (its selections would
//! merge), a fragment on an interface or union, or a directive of another kind. (The schema has
//! no extension, which would expect to see every field.) `InPlace<T>` registers as `T`: the
//! schema does not change. `tests/units.rs` checks that both ways answer alike.

use std::borrow::Cow;

use async_graphql::futures_util::future::join_all;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet, TypeCondition};
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

/// The fields of `selection` on the type `on` in response order, fragments on `on` spread in
/// place and each response key once; `None` when the selection needs the general executor (see
/// above).
pub(super) fn flatten<'a>(
    ctx: &ContextSelectionSet<'a>,
    on: &str,
    selection: &'a SelectionSet,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> Option<()> {
    let on_this_type = |condition: Option<&Positioned<TypeCondition>>| {
        condition.is_none_or(|c| c.node.on.node.as_str() == on)
    };
    for item in &selection.items {
        match &item.node {
            Selection::Field(f) => {
                if !f.node.directives.is_empty() {
                    return None;
                }
                let key = &f.node.response_key().node;
                match fields
                    .iter()
                    .find(|seen| &seen.node.response_key().node == key)
                {
                    // Asked twice: one value, if it has no selection of its own to merge.
                    Some(seen) => {
                        let leaf =
                            |f: &Positioned<Field>| f.node.selection_set.node.items.is_empty();
                        if !(leaf(seen) && leaf(f)) {
                            return None;
                        }
                    }
                    None => fields.push(f),
                }
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                if !fragment.directives.is_empty()
                    || !on_this_type(fragment.type_condition.as_ref())
                {
                    return None;
                }
                flatten(ctx, on, &fragment.selection_set.node, fields)?;
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = ctx
                    .query_env
                    .fragments
                    .get(&spread.node.fragment_name.node)?;
                if !on_this_type(Some(&fragment.node.type_condition)) {
                    return None;
                }
                flatten(ctx, on, &fragment.node.selection_set.node, fields)?;
            }
        }
    }
    Some(())
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
        let state = ctx.data::<crate::app::AppState>().ok();
        let enabled = state.is_some_and(|s| s.config.graphql_in_place);
        let mut fields = Vec::with_capacity(ctx.item.node.items.len());
        let filled =
            enabled && flatten(ctx, &T::type_name(), &ctx.item.node, &mut fields).is_some();
        if let Some(state) = state {
            state.metrics.record_in_place(filled);
        }
        if !filled {
            return OutputType::resolve(&self.0, ctx, field).await;
        }
        let mut values = Vec::with_capacity(fields.len());
        let mut others = Vec::new();
        for f in fields {
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
