//! Saved ticket-list views (`saved_views`): personal ones of an agent or admin, shared ones
//! (no owner, managed by admins), and the four shared views every helpdesk starts with.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_query::value::prelude::{Utc, Uuid, serde_json},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The views out of the box: (fixed id, name, filters). Admins may rename or delete them.
const DEFAULTS: &[(u128, &str, &str)] = &[
    (
        0x0193_d1a0_0000_7000_8000_0000_0000_0001,
        "My open",
        r#"{"assigned_agent_id":"me","status":"new,open"}"#,
    ),
    (
        0x0193_d1a0_0000_7000_8000_0000_0000_0002,
        "Unassigned",
        r#"{"assigned_agent_id":"none","status":"new,open,pending","sort":"priority"}"#,
    ),
    (
        0x0193_d1a0_0000_7000_8000_0000_0000_0003,
        "Breaching soon",
        r#"{"breaching_soon":true,"sort":"sla_due"}"#,
    ),
    (
        0x0193_d1a0_0000_7000_8000_0000_0000_0004,
        "Pending on customer",
        r#"{"status":"pending"}"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedViews::Table)
                    .col(uuid(SavedViews::Id).primary_key())
                    // NULL: shared with all staff.
                    .col(uuid_null(SavedViews::OwnerId))
                    .col(string_len(SavedViews::Name, 100))
                    // `GET /api/tickets` parameters (without paging) as a JSON object.
                    .col(json(SavedViews::Filters))
                    // Where the view is listed among its kind (shared first, then personal).
                    .col(integer(SavedViews::Position).default(100))
                    .col(uuid_null(SavedViews::CreatedBy))
                    .col(timestamp_with_time_zone(SavedViews::CreatedAt))
                    .col(timestamp_with_time_zone(SavedViews::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SavedViews::Table, SavedViews::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_saved_views_owner_position")
                    .table(SavedViews::Table)
                    .col(SavedViews::OwnerId)
                    .col(SavedViews::Position)
                    .to_owned(),
            )
            .await?;
        let now = Utc::now();
        let mut insert = Query::insert()
            .into_table(SavedViews::Table)
            .columns([
                SavedViews::Id,
                SavedViews::Name,
                SavedViews::Filters,
                SavedViews::Position,
                SavedViews::CreatedAt,
                SavedViews::UpdatedAt,
            ])
            .to_owned();
        for ((id, name, filters), position) in DEFAULTS.iter().zip(1_i32..) {
            let filters: serde_json::Value = serde_json::from_str(filters)
                .map_err(|e| DbErr::Migration(format!("default view `{name}`: {e}")))?;
            insert.values_panic([
                Uuid::from_u128(*id).into(),
                (*name).into(),
                filters.into(),
                position.into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SavedViews::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SavedViews {
    Table,
    Id,
    OwnerId,
    Name,
    Filters,
    Position,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
