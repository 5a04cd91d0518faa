//! A folded search column on the searched tables: users, units and chat messages. SQLite's
//! `LOWER()` folds ASCII only, so the server fills these columns (NFKC, Unicode lower case) and
//! searches compare against them, alike on both databases. Null until the server fills it:
//! existing rows are filled at start.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMessages {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Search {
    SearchText,
}

fn tables() -> [TableRef; 3] {
    [
        Users::Table.into_table_ref(),
        Units::Table.into_table_ref(),
        ChatMessages::Table.into_table_ref(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(Search::SearchText).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Search::SearchText)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
