//! Search that behaves the same on SQLite and PostgreSQL. SQL's `LOWER()` folds only ASCII on
//! SQLite, so a search box compares against a column of its own: the row's searchable fields,
//! Unicode-normalised (NFKC) and lower-cased here, in Rust, whatever the database. Entities that
//! have one fill it in `before_save` (`column`), so no insert or update can forget it; rows
//! written before the column existed are filled once at start (`fill_missing`).

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue, ColumnTrait, Condition, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait,
};
use unicode_normalization::UnicodeNormalization;

/// Between two fields in the column: no search text contains it, so a match stays within one
/// field as it did when each column was compared on its own.
const SEPARATOR: char = '\u{1f}';

/// Text as search compares it: NFKC-normalised (composed accents, compatibility forms folded),
/// then lower-cased by Unicode's rules.
pub fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// A searchable field as an `ActiveModel` holds it.
pub trait Field {
    /// Its text (`Some(None)` for a null), or `None` when the model does not hold it.
    fn text(&self) -> Option<Option<&str>>;
    fn changed(&self) -> bool;
}

impl Field for ActiveValue<String> {
    fn text(&self) -> Option<Option<&str>> {
        self.try_as_ref().map(|v| Some(v.as_str()))
    }
    fn changed(&self) -> bool {
        self.is_set()
    }
}

impl Field for ActiveValue<Option<String>> {
    fn text(&self) -> Option<Option<&str>> {
        self.try_as_ref().map(|v| v.as_deref())
    }
    fn changed(&self) -> bool {
        self.is_set()
    }
}

/// The search column's value for a row about to be saved: recomputed from its fields when the
/// model holds them all; left as it is when it holds none (an update of other columns). A model
/// that changes some of them without holding the others is refused: the column would go stale.
pub fn column(
    current: ActiveValue<Option<String>>,
    fields: &[&dyn Field],
) -> Result<ActiveValue<Option<String>>, DbErr> {
    let texts: Vec<Option<Option<&str>>> = fields.iter().map(|f| f.text()).collect();
    if texts.iter().all(Option::is_some) {
        let folded: Vec<String> = texts.into_iter().flatten().flatten().map(fold).collect();
        return Ok(ActiveValue::Set(Some(folded.join(&SEPARATOR.to_string()))));
    }
    if fields.iter().any(|f| f.changed()) {
        return Err(DbErr::Custom(
            "a searchable field changed without the others: save them together".into(),
        ));
    }
    Ok(current)
}

/// Makes an entity keep its `search_text` column: its `ActiveModelBehavior` recomputes the column
/// from the listed fields on every save (see `column`). Used inside the entity's module.
#[macro_export]
macro_rules! search_text_from {
    ($($field:ident),+ $(,)?) => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                self.search_text = $crate::search::column(self.search_text, &[$(&self.$field),+])?;
                Ok(self)
            }
        }
    };
}

/// `column` contains `text` (folded), with LIKE's wildcards in the text taken literally.
pub fn contains(column: impl ColumnTrait, text: &str) -> Condition {
    let escaped = fold(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
    Condition::all().add(Expr::col(column).like(pattern))
}

/// Fills the search column of rows saved before it existed (null), a batch per transaction:
/// each row is saved again as it is, and its `before_save` computes the column.
pub async fn fill_missing<E, A>(
    db: &sea_orm::DatabaseConnection,
    column: E::Column,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let mut filled = 0;
    loop {
        let rows = E::find()
            .filter(column.is_null())
            .limit(500)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let txn = db.begin().await?;
        for row in rows {
            let mut active = row.into_active_model();
            // Marks the column changed, so the update is not skipped as a no-op.
            active.reset(column);
            active.update(&txn).await?;
            filled += 1;
        }
        txn.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_forms_beyond_ascii() {
        assert_eq!(fold("ÉMILE Zola"), "émile zola");
        // A decomposed É (E + combining acute) folds like the composed one.
        assert_eq!(fold("E\u{301}mile"), "émile");
        assert_eq!(fold("ＡＢＣ"), "abc");
        assert_eq!(fold("STRASSE"), "strasse");
    }

    #[test]
    fn the_column_follows_its_fields_or_refuses_a_partial_change() {
        let first: ActiveValue<String> = ActiveValue::Set("Émile".into());
        let last: ActiveValue<Option<String>> = ActiveValue::Unchanged(Some("ZOLA".into()));
        let value = column(ActiveValue::NotSet, &[&first, &last]).unwrap();
        assert_eq!(value, ActiveValue::Set(Some("émile\u{1f}zola".into())));
        let missing: ActiveValue<Option<String>> = ActiveValue::NotSet;
        assert!(column(ActiveValue::NotSet, &[&first, &missing]).is_err());
        let untouched: ActiveValue<String> = ActiveValue::NotSet;
        assert_eq!(
            column(ActiveValue::NotSet, &[&untouched, &missing]).unwrap(),
            ActiveValue::NotSet
        );
    }
}
