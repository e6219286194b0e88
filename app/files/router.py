"""Files of a workspace: upload (multipart, streamed), list, read, delete, download."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from starlette.responses import StreamingResponse

from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.core.rate_limit import Budget
from app.files import service as file_service
from app.files.downloads import DOWNLOAD_CONTENT, download_headers
from app.files.schemas import FileList, FileRead
from app.files.storage import Storage
from app.identity.dependencies import AnyPrincipal, SettingsDep, get_principal
from app.identity.rate_limits import limit_by_user

router = APIRouter(tags=["files"])


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]
UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
                "additionalProperties": False,
            }
        }
    },
    "required": True,
}


@router.post(
    "/v1/workspaces/{workspace_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileRead,
    summary="Upload a file",
    dependencies=[Depends(limit_by_user(Budget.UPLOAD))],
    responses=responses(401, 403, 404, 408, 413, 415, 422, 429, 503),
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_file(
    workspace_id: uuid.UUID,
    request: Request,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> FileRead:
    """Members upload one file as ``multipart/form-data`` (part ``file``); it is unusable until
    its malware scan passes. The type is decided from the bytes."""
    file = await file_service.upload_file(
        session,
        principal,
        settings,
        storage,
        slots=request.app.state.upload_slots,
        reauthenticate=functools.partial(get_principal, request, session),
        workspace_id=workspace_id,
        content_type=request.headers.get("content-type", ""),
        body=request.stream(),
    )
    return FileRead.of(file)


@router.get(
    "/v1/workspaces/{workspace_id}/files",
    response_model=FileList,
    summary="List files",
    responses=responses(401, 404, 422),
)
async def list_files(
    workspace_id: uuid.UUID,
    principal: AnyPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> FileList:
    """Files of a workspace the caller may read files in (every status)."""
    return await file_service.list_files(session, principal, workspace_id, page)


@router.get(
    "/v1/files/{file_id}",
    response_model=FileRead,
    summary="Get a file",
    responses=responses(401, 404),
)
async def get_file(file_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep) -> FileRead:
    """One file's metadata (including its scan status)."""
    return FileRead.of(await file_service.get_file(session, principal, file_id))


@router.delete(
    "/v1/files/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a file",
    responses=responses(401, 403, 404, 503),
)
async def delete_file(
    file_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, storage: StorageDep
) -> Response:
    """The uploader or a workspace admin deletes a file: its bytes, and every future context."""
    await file_service.delete_file(session, principal, storage, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/files/{file_id}/content",
    summary="Download a file",
    response_class=StreamingResponse,
    responses={
        **responses(401, 404, 409, 503),
        200: {
            "content": DOWNLOAD_CONTENT,
            "description": "The file, as an attachment, in the type sniffed at upload",
        },
    },
)
async def download_file(
    file_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, storage: StorageDep
) -> StreamingResponse:
    """A clean file's bytes, as an attachment that cannot run in a browser."""
    download = await file_service.open_download(session, principal, storage, file_id)
    file = download.file
    headers = download_headers(file.display_name, file.content_type, file.size_bytes)
    return StreamingResponse(download.chunks, headers=headers, media_type=headers["Content-Type"])
