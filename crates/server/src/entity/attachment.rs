//! `attachments`: uploaded images. Unlinked (no ticket, no message) until the uploader attaches
//! them to a ticket, a message or a journey answer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub uploader_id: Uuid,
    /// Sanitised client file name, for display and downloads only.
    pub original_name: String,
    /// Generated file name inside `UPLOAD_DIR`.
    #[sea_orm(unique)]
    pub stored_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl From<Model> for shared::tickets::AttachmentDto {
    fn from(m: Model) -> Self {
        Self {
            url: format!("/api/attachments/{}", m.id),
            id: m.id,
            ticket_id: m.ticket_id,
            message_id: m.message_id,
            uploader_id: m.uploader_id,
            file_name: m.original_name,
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            created_at: m.created_at,
        }
    }
}
