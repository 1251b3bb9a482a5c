//! Image uploads: type detection by magic bytes, storage under generated names, and who may
//! download or delete them.
//!
//! An upload starts unlinked and private to its uploader; it becomes visible with its ticket
//! once attached (to a ticket, a message, or a journey answer). An image on an internal note is
//! staff-only like the note.

use std::path::{Path, PathBuf};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, ModelTrait};
use shared::{ErrorCode, Role};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Attachment, TicketMessage, attachment, ticket},
    error::ApiError,
    services::access,
};

/// Largest accepted file.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most files in one upload request.
pub const MAX_FILES: usize = 10;

/// The image types we accept, recognised by their first bytes (never by name or header).
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", "png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// A display name from the client's file name: the last path segment, printable characters
/// only, at most 255 characters. Never used to build a path.
pub fn sanitize_file_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(255)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        "image".to_owned()
    } else {
        cleaned
    }
}

/// One file as received.
pub struct Upload {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Where a stored file lives.
pub fn path_of(upload_dir: &Path, a: &attachment::Model) -> PathBuf {
    upload_dir.join(&a.stored_name)
}

/// Checks every file, then stores them all (or none). With `ticket_id`, the files are attached
/// to that ticket straight away.
pub async fn store(
    db: &DatabaseConnection,
    upload_dir: &Path,
    uploader: &AuthUser,
    ticket_id: Option<Uuid>,
    files: Vec<Upload>,
) -> Result<Vec<attachment::Model>, ApiError> {
    if files.is_empty() {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "files",
            "send at least one file in the `files` field",
        ));
    }
    let mut typed = Vec::with_capacity(files.len());
    for (i, file) in files.into_iter().enumerate() {
        let Some((mime, ext)) = sniff(&file.bytes) else {
            return Err(ApiError::UnsupportedMediaType(format!(
                "file {} ({}) is not a PNG, JPEG, GIF or WebP image",
                i + 1,
                sanitize_file_name(file.file_name.as_deref())
            )));
        };
        typed.push((file, mime, ext));
    }

    let txn = crate::services::begin_write(db).await?;
    if let Some(id) = ticket_id {
        let t = access::visible_ticket(&txn, uploader, id, false).await?;
        if t.status == ticket::Status::Closed {
            return Err(ApiError::Conflict(
                ErrorCode::TicketClosed,
                "this ticket is closed".to_owned(),
            ));
        }
    }
    let now = Utc::now();
    let mut written: Vec<PathBuf> = Vec::new();
    let mut stored = Vec::new();
    let result: Result<(), ApiError> = async {
        for (file, mime, ext) in typed {
            let id = Uuid::new_v4();
            let stored_name = format!("{}.{ext}", id.simple());
            let path = upload_dir.join(&stored_name);
            let tmp = upload_dir.join(format!(".{}.part", id.simple()));
            tokio::fs::write(&tmp, &file.bytes)
                .await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing upload: {e}")))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("storing upload: {e}")))?;
            written.push(path);
            let model = attachment::ActiveModel {
                id: Set(id),
                ticket_id: Set(ticket_id),
                message_id: Set(None),
                uploader_id: Set(uploader.id),
                original_name: Set(sanitize_file_name(file.file_name.as_deref())),
                stored_name: Set(stored_name),
                content_type: Set(mime.to_owned()),
                size_bytes: Set(file.bytes.len() as i64),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            stored.push(model);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            txn.commit().await?;
            Ok(stored)
        }
        Err(e) => {
            // No row survives the rollback, so no file may either.
            for path in written {
                let _ = tokio::fs::remove_file(path).await;
            }
            Err(e)
        }
    }
}

/// An attachment the caller may see, or 404.
pub async fn visible(
    db: &DatabaseConnection,
    user: &AuthUser,
    id: Uuid,
) -> Result<attachment::Model, ApiError> {
    let not_found = || ApiError::NotFound("attachment");
    let a = Attachment::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    match a.ticket_id {
        None => {
            if a.uploader_id == user.id || user.role == Role::Admin {
                Ok(a)
            } else {
                Err(not_found())
            }
        }
        Some(ticket_id) => {
            access::visible_ticket(db, user, ticket_id, false)
                .await
                .map_err(|_| not_found())?;
            if let Some(message_id) = a.message_id {
                let internal = TicketMessage::find_by_id(message_id)
                    .one(db)
                    .await?
                    .is_some_and(|m| m.internal);
                if internal && !user.role.is_staff() {
                    return Err(not_found());
                }
            }
            Ok(a)
        }
    }
}

/// Deletes an attachment (its uploader or an admin) and its file.
pub async fn delete(
    db: &DatabaseConnection,
    upload_dir: &Path,
    user: &AuthUser,
    id: Uuid,
) -> Result<(), ApiError> {
    let a = visible(db, user, id).await?;
    if a.uploader_id != user.id && user.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only the uploader or an admin can delete an attachment".to_owned(),
        ));
    }
    let path = path_of(upload_dir, &a);
    a.delete(db).await?;
    if let Err(e) = tokio::fs::remove_file(&path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::error!("could not remove {}: {e}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_only() {
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(("image/png", "png"))
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(("image/jpeg", "jpg"))
        );
        assert_eq!(sniff(b"GIF89a..."), Some(("image/gif", "gif")));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(("image/webp", "webp")));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b"#!/bin/sh\necho pwned"), None);
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0x89, b'P']), None);
    }

    #[test]
    fn file_names_cannot_escape() {
        assert_eq!(sanitize_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(sanitize_file_name(Some("..\\..\\win.ini")), "win.ini");
        assert_eq!(sanitize_file_name(Some("..")), "image");
        assert_eq!(sanitize_file_name(Some(".hidden.png")), "hidden.png");
        assert_eq!(sanitize_file_name(Some("a\"b\r\n.png")), "ab.png");
        assert_eq!(sanitize_file_name(None), "image");
        assert_eq!(sanitize_file_name(Some(&"x".repeat(300))).len(), 255);
    }
}
