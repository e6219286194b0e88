"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .admin_user_list import AdminUserList
from .admin_user_read import AdminUserRead
from .api_key_create import ApiKeyCreate
from .api_key_created import ApiKeyCreated
from .api_key_list import ApiKeyList
from .api_key_read import ApiKeyRead
from .assertion_response import AssertionResponse
from .attempt_read import AttemptRead
from .attestation_response import AttestationResponse
from .audit_event_list import AuditEventList
from .audit_event_read import AuditEventRead
from .audit_event_read_details import AuditEventReadDetails
from .authentication_credential import AuthenticationCredential
from .authentication_credential_authenticator_attachment_type_0 import (
    AuthenticationCredentialAuthenticatorAttachmentType0,
)
from .authentication_credential_clientextensionresults import AuthenticationCredentialClientextensionresults
from .bot_create import BotCreate
from .bot_create_model import BotCreateModel
from .bot_list import BotList
from .bot_read import BotRead
from .bot_update import BotUpdate
from .bot_update_model_type_0 import BotUpdateModelType0
from .conversation_create import ConversationCreate
from .conversation_list import ConversationList
from .conversation_read import ConversationRead
from .conversation_update import ConversationUpdate
from .deliveries_requeued import DeliveriesRequeued
from .delivery_list import DeliveryList
from .delivery_read import DeliveryRead
from .delivery_requeued import DeliveryRequeued
from .endpoint_create import EndpointCreate
from .endpoint_create_event_types_item import EndpointCreateEventTypesItem
from .endpoint_list import EndpointList
from .endpoint_read import EndpointRead
from .endpoint_update import EndpointUpdate
from .endpoint_update_event_types_type_0_item import EndpointUpdateEventTypesType0Item
from .endpoint_with_secret import EndpointWithSecret
from .event_type import EventType
from .factor_status_read import FactorStatusRead
from .file_list import FileList
from .file_read import FileRead
from .file_status import FileStatus
from .inbound_accepted import InboundAccepted
from .inbound_accepted_status import InboundAcceptedStatus
from .invitation_accept import InvitationAccept
from .invitation_create import InvitationCreate
from .invitation_read import InvitationRead
from .login_request import LoginRequest
from .member_list import MemberList
from .member_read import MemberRead
from .member_update import MemberUpdate
from .message_create import MessageCreate
from .message_list import MessageList
from .message_read import MessageRead
from .model_list import ModelList
from .passkey_created import PasskeyCreated
from .passkey_list import PasskeyList
from .passkey_options import PasskeyOptions
from .passkey_options_publickey import PasskeyOptionsPublickey
from .passkey_proof import PasskeyProof
from .passkey_read import PasskeyRead
from .passkey_registration import PasskeyRegistration
from .passkey_rename import PasskeyRename
from .password_change_request import PasswordChangeRequest
from .password_reset_confirm import PasswordResetConfirm
from .password_reset_request import PasswordResetRequest
from .problem import Problem
from .problem_error import ProblemError
from .recover_request import RecoverRequest
from .recovery_codes_shown import RecoveryCodesShown
from .recovery_proof import RecoveryProof
from .registration_credential import RegistrationCredential
from .registration_credential_authenticator_attachment_type_0 import RegistrationCredentialAuthenticatorAttachmentType0
from .registration_credential_clientextensionresults import RegistrationCredentialClientextensionresults
from .role import Role
from .scope import Scope
from .second_factor_required import SecondFactorRequired
from .session_list import SessionList
from .session_read import SessionRead
from .signup_request import SignupRequest
from .step_up_read import StepUpRead
from .test_event_queued import TestEventQueued
from .tool_call_list import ToolCallList
from .tool_call_read import ToolCallRead
from .tool_call_read_arguments import ToolCallReadArguments
from .tool_list import ToolList
from .tool_name import ToolName
from .tool_read import ToolRead
from .tool_read_parameters import ToolReadParameters
from .totp_confirm import TotpConfirm
from .totp_enrolment_read import TotpEnrolmentRead
from .totp_proof import TotpProof
from .turn_result import TurnResult
from .upload_file_v1_workspaces_workspace_id_files_post_body import UploadFileV1WorkspacesWorkspaceIdFilesPostBody
from .user_read import UserRead
from .user_update import UserUpdate
from .verify_email_request import VerifyEmailRequest
from .workspace_create import WorkspaceCreate
from .workspace_list import WorkspaceList
from .workspace_read import WorkspaceRead
from .workspace_update import WorkspaceUpdate

__all__ = (
    "Accepted",
    "AdminUserList",
    "AdminUserRead",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyRead",
    "AssertionResponse",
    "AttemptRead",
    "AttestationResponse",
    "AuditEventList",
    "AuditEventRead",
    "AuditEventReadDetails",
    "AuthenticationCredential",
    "AuthenticationCredentialAuthenticatorAttachmentType0",
    "AuthenticationCredentialClientextensionresults",
    "BotCreate",
    "BotCreateModel",
    "BotList",
    "BotRead",
    "BotUpdate",
    "BotUpdateModelType0",
    "ConversationCreate",
    "ConversationList",
    "ConversationRead",
    "ConversationUpdate",
    "DeliveriesRequeued",
    "DeliveryList",
    "DeliveryRead",
    "DeliveryRequeued",
    "EndpointCreate",
    "EndpointCreateEventTypesItem",
    "EndpointList",
    "EndpointRead",
    "EndpointUpdate",
    "EndpointUpdateEventTypesType0Item",
    "EndpointWithSecret",
    "EventType",
    "FactorStatusRead",
    "FileList",
    "FileRead",
    "FileStatus",
    "InboundAccepted",
    "InboundAcceptedStatus",
    "InvitationAccept",
    "InvitationCreate",
    "InvitationRead",
    "LoginRequest",
    "MemberList",
    "MemberRead",
    "MemberUpdate",
    "MessageCreate",
    "MessageList",
    "MessageRead",
    "ModelList",
    "PasskeyCreated",
    "PasskeyList",
    "PasskeyOptions",
    "PasskeyOptionsPublickey",
    "PasskeyProof",
    "PasskeyRead",
    "PasskeyRegistration",
    "PasskeyRename",
    "PasswordChangeRequest",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "Problem",
    "ProblemError",
    "RecoverRequest",
    "RecoveryCodesShown",
    "RecoveryProof",
    "RegistrationCredential",
    "RegistrationCredentialAuthenticatorAttachmentType0",
    "RegistrationCredentialClientextensionresults",
    "Role",
    "Scope",
    "SecondFactorRequired",
    "SessionList",
    "SessionRead",
    "SignupRequest",
    "StepUpRead",
    "TestEventQueued",
    "ToolCallList",
    "ToolCallRead",
    "ToolCallReadArguments",
    "ToolList",
    "ToolName",
    "ToolRead",
    "ToolReadParameters",
    "TotpConfirm",
    "TotpEnrolmentRead",
    "TotpProof",
    "TurnResult",
    "UploadFileV1WorkspacesWorkspaceIdFilesPostBody",
    "UserRead",
    "UserUpdate",
    "VerifyEmailRequest",
    "WorkspaceCreate",
    "WorkspaceList",
    "WorkspaceRead",
    "WorkspaceUpdate",
)
