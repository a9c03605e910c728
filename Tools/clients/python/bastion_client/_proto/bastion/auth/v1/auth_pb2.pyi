from bastion_client._proto.bastion.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeleteAccountRequest(_message.Message):
    __slots__ = ["ke3", "login_handle", "user_id"]
    KE3_FIELD_NUMBER: _ClassVar[int]
    LOGIN_HANDLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ke3: bytes
    login_handle: str
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., login_handle: _Optional[str] = ..., ke3: _Optional[bytes] = ...) -> None: ...

class DeleteAccountResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class FinishRegistrationRequest(_message.Message):
    __slots__ = ["key_package", "opaque_registration_record"]
    KEY_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    OPAQUE_REGISTRATION_RECORD_FIELD_NUMBER: _ClassVar[int]
    key_package: KeyPackage
    opaque_registration_record: bytes
    def __init__(self, opaque_registration_record: _Optional[bytes] = ..., key_package: _Optional[_Union[KeyPackage, _Mapping]] = ...) -> None: ...

class FinishRegistrationResponse(_message.Message):
    __slots__ = ["client_certificate", "user_id"]
    CLIENT_CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    client_certificate: bytes
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., client_certificate: _Optional[bytes] = ...) -> None: ...

class InitiateRegistrationRequest(_message.Message):
    __slots__ = ["client_csr", "opaque_registration_request"]
    CLIENT_CSR_FIELD_NUMBER: _ClassVar[int]
    OPAQUE_REGISTRATION_REQUEST_FIELD_NUMBER: _ClassVar[int]
    client_csr: bytes
    opaque_registration_request: bytes
    def __init__(self, client_csr: _Optional[bytes] = ..., opaque_registration_request: _Optional[bytes] = ...) -> None: ...

class InitiateRegistrationResponse(_message.Message):
    __slots__ = ["expires_unix_seconds", "opaque_registration_response", "registration_handle"]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPAQUE_REGISTRATION_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_HANDLE_FIELD_NUMBER: _ClassVar[int]
    expires_unix_seconds: int
    opaque_registration_response: bytes
    registration_handle: str
    def __init__(self, registration_handle: _Optional[str] = ..., opaque_registration_response: _Optional[bytes] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class KeyPackage(_message.Message):
    __slots__ = ["init_key", "signature", "signature_key"]
    INIT_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_KEY_FIELD_NUMBER: _ClassVar[int]
    init_key: bytes
    signature: bytes
    signature_key: bytes
    def __init__(self, init_key: _Optional[bytes] = ..., signature_key: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class KeyPackageContent(_message.Message):
    __slots__ = ["init_key", "label", "registration_handle", "signature_key"]
    INIT_KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_HANDLE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_KEY_FIELD_NUMBER: _ClassVar[int]
    init_key: bytes
    label: str
    registration_handle: str
    signature_key: bytes
    def __init__(self, label: _Optional[str] = ..., registration_handle: _Optional[str] = ..., init_key: _Optional[bytes] = ..., signature_key: _Optional[bytes] = ...) -> None: ...

class LoginFinishRequest(_message.Message):
    __slots__ = ["ke3", "login_handle"]
    KE3_FIELD_NUMBER: _ClassVar[int]
    LOGIN_HANDLE_FIELD_NUMBER: _ClassVar[int]
    ke3: bytes
    login_handle: str
    def __init__(self, login_handle: _Optional[str] = ..., ke3: _Optional[bytes] = ...) -> None: ...

class LoginFinishResponse(_message.Message):
    __slots__ = ["context_secret", "expires_unix_seconds", "session_token"]
    CONTEXT_SECRET_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    context_secret: str
    expires_unix_seconds: int
    session_token: str
    def __init__(self, session_token: _Optional[str] = ..., context_secret: _Optional[str] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class LoginStartRequest(_message.Message):
    __slots__ = ["ke1", "user_id"]
    KE1_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ke1: bytes
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., ke1: _Optional[bytes] = ...) -> None: ...

class LoginStartResponse(_message.Message):
    __slots__ = ["ke2", "login_handle"]
    KE2_FIELD_NUMBER: _ClassVar[int]
    LOGIN_HANDLE_FIELD_NUMBER: _ClassVar[int]
    ke2: bytes
    login_handle: str
    def __init__(self, login_handle: _Optional[str] = ..., ke2: _Optional[bytes] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ["role", "session_expires_unix_seconds", "user_id"]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SESSION_EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    role: str
    session_expires_unix_seconds: int
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., role: _Optional[str] = ..., session_expires_unix_seconds: _Optional[int] = ...) -> None: ...
