//! `/api/upload` and `/api/attachments/{id}`: image uploads, downloads and deletion.

use actix_files::NamedFile;
use actix_multipart::{Multipart, MultipartError};
use actix_web::{
    HttpRequest, HttpResponse, delete, get,
    http::header::{self, ContentDisposition, DispositionParam, DispositionType},
    post, web,
};
use futures_util::StreamExt;
use shared::{Envelope, ErrorBody, ErrorCode, tickets::AttachmentDto};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    error::ApiError,
    services::attachments::{self, MAX_FILE_BYTES, MAX_FILES, Upload},
    state::AppState,
};

/// The multipart body of `POST /api/upload` (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// One or more images (PNG, JPEG, GIF, WebP), at most 5 MB each, at most 10.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
    /// Attach the images to this ticket straight away (optional).
    ticket_id: Option<Uuid>,
}

fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(
        ErrorCode::BadRequest,
        format!("malformed multipart body: {e}"),
    )
}

/// Upload images. Types are recognised by their content, never by name or declared type.
/// Without `ticket_id` the images stay private to you until you reference them when opening a
/// ticket, replying, or answering a journey.
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Envelope<Vec<AttachmentDto>>),
        (status = 400, description = "`bad_request`: a malformed multipart body or an unknown form field", body = ErrorBody),
        (status = 404, description = "`ticket_id` is not a ticket you can see", body = ErrorBody),
        (status = 409, description = "`ticket_closed`", body = ErrorBody),
        (status = 413, description = "A file is larger than 5 MB", body = ErrorBody),
        (status = 415, description = "Not multipart, or a file is not a PNG/JPEG/GIF/WebP image", body = ErrorBody),
        (status = 422, description = "No files, or more than 10", body = ErrorBody),
    )
)]
#[post("/upload")]
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType(
            "send the images as multipart/form-data".to_owned(),
        ));
    }

    let mut files = Vec::new();
    let mut ticket_id = None;
    let mut seen_field = false;
    while let Some(field) = payload.next().await {
        let mut field = match field {
            Ok(field) => field,
            // A form without any part ends right after the opening boundary.
            Err(MultipartError::Incomplete) if !seen_field => break,
            Err(e) => return Err(bad_multipart(e)),
        };
        seen_field = true;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "files" | "file" => {
                if files.len() == MAX_FILES {
                    return Err(ApiError::field(
                        ErrorCode::ValidationFailed,
                        "files",
                        format!("at most {MAX_FILES} files per upload"),
                    ));
                }
                let file_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(str::to_owned);
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(bad_multipart)?;
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        // Stop reading: the rest of the body is not worth receiving.
                        return Err(ApiError::PayloadTooLarge(MAX_FILE_BYTES));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                files.push(Upload { file_name, bytes });
            }
            "ticket_id" => {
                let mut raw = Vec::new();
                while let Some(chunk) = field.next().await {
                    raw.extend_from_slice(&chunk.map_err(bad_multipart)?);
                    if raw.len() > 64 {
                        return Err(ApiError::field(
                            ErrorCode::ValidationFailed,
                            "ticket_id",
                            "not a ticket id",
                        ));
                    }
                }
                let text = String::from_utf8_lossy(&raw);
                ticket_id = Some(text.trim().parse::<Uuid>().map_err(|_| {
                    ApiError::field(ErrorCode::ValidationFailed, "ticket_id", "not a ticket id")
                })?);
            }
            other => {
                return Err(ApiError::BadRequest(
                    ErrorCode::BadRequest,
                    format!("unknown form field `{other}` (expected `files` and `ticket_id`)"),
                ));
            }
        }
    }
    let stored = attachments::store(
        &state.db,
        &state.settings.upload_dir,
        &user,
        ticket_id,
        files,
    )
    .await?;
    let dtos: Vec<AttachmentDto> = stored.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Created().json(Envelope::ok(dtos)))
}

/// Download an image, if you may see its ticket (or uploaded it).
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The image, with its detected content type", content_type = "image/*"),
        (status = 404, description = "No such attachment, or not visible to you", body = ErrorBody),
    )
)]
#[get("/attachments/{id}")]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let a = attachments::visible(&state.db, &user, id.into_inner()).await?;
    let path = attachments::path_of(&state.settings.upload_dir, &a);
    let file = NamedFile::open_async(&path).await.map_err(|e| {
        log::error!("attachment {} has no file at {}: {e}", a.id, path.display());
        ApiError::NotFound("attachment")
    })?;
    let mime: mime::Mime = a
        .content_type
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    // Images (checked by their bytes on the way in) show inline; any other file (kept from
    // a received mail) is only ever a download.
    let disposition = if mime.type_() == mime::IMAGE {
        DispositionType::Inline
    } else {
        DispositionType::Attachment
    };
    let mut resp = file
        .set_content_type(mime)
        .set_content_disposition(ContentDisposition {
            disposition,
            parameters: vec![DispositionParam::Filename(a.original_name.clone())],
        })
        .into_response(&req);
    let headers = resp.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

/// Delete an image and its file (its uploader or an admin).
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the uploader or an admin", body = ErrorBody),
        (status = 404, description = "No such attachment, or not visible to you", body = ErrorBody),
    )
)]
#[delete("/attachments/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    attachments::delete(
        &state.db,
        &state.settings.upload_dir,
        &user,
        id.into_inner(),
    )
    .await?;
    // No event says so, but shared pages listing the ticket's attachments are now old.
    state.realtime.poke();
    Ok(HttpResponse::NoContent().finish())
}
