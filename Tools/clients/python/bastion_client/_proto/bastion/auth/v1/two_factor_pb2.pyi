from bastion_client._proto.bastion.policy.v1 import policy_pb2 as _policy_pb2
from bastion_client._proto.bastion.auth.v1 import second_factors_pb2 as _second_factors_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
FACTOR_KIND_CODE_CHANNEL: FactorKind
FACTOR_KIND_PASSKEY: FactorKind
FACTOR_KIND_RECOVERY_CODES: FactorKind
FACTOR_KIND_SECURITY_QUESTION: FactorKind
FACTOR_KIND_TOTP: FactorKind
FACTOR_KIND_UNSPECIFIED: FactorKind
TOTP_ALGORITHM_SHA1: TotpAlgorithm
TOTP_ALGORITHM_SHA256: TotpAlgorithm
TOTP_ALGORITHM_SHA512: TotpAlgorithm
TOTP_ALGORITHM_UNSPECIFIED: TotpAlgorithm

class BeginPasskeyAssertionRequest(_message.Message):
    __slots__ = ["challenge_id"]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    def __init__(self, challenge_id: _Optional[str] = ...) -> None: ...

class BeginPasskeyAssertionResponse(_message.Message):
    __slots__ = ["allow_credential_ids", "challenge", "expires_unix_seconds", "rp_id", "timeout_millis", "user_verification"]
    ALLOW_CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RP_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MILLIS_FIELD_NUMBER: _ClassVar[int]
    USER_VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    allow_credential_ids: _containers.RepeatedScalarFieldContainer[bytes]
    challenge: bytes
    expires_unix_seconds: int
    rp_id: str
    timeout_millis: int
    user_verification: str
    def __init__(self, challenge: _Optional[bytes] = ..., rp_id: _Optional[str] = ..., allow_credential_ids: _Optional[_Iterable[bytes]] = ..., user_verification: _Optional[str] = ..., timeout_millis: _Optional[int] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class BeginPasskeyRegistrationRequest(_message.Message):
    __slots__ = ["label"]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    label: str
    def __init__(self, label: _Optional[str] = ...) -> None: ...

class BeginPasskeyRegistrationResponse(_message.Message):
    __slots__ = ["algorithms", "challenge", "exclude_credential_ids", "expires_unix_seconds", "rp_id", "rp_name", "timeout_millis", "user_handle", "user_name", "user_verification"]
    ALGORITHMS_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RP_ID_FIELD_NUMBER: _ClassVar[int]
    RP_NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MILLIS_FIELD_NUMBER: _ClassVar[int]
    USER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    algorithms: _containers.RepeatedScalarFieldContainer[int]
    challenge: bytes
    exclude_credential_ids: _containers.RepeatedScalarFieldContainer[bytes]
    expires_unix_seconds: int
    rp_id: str
    rp_name: str
    timeout_millis: int
    user_handle: bytes
    user_name: str
    user_verification: str
    def __init__(self, challenge: _Optional[bytes] = ..., rp_id: _Optional[str] = ..., rp_name: _Optional[str] = ..., user_handle: _Optional[bytes] = ..., user_name: _Optional[str] = ..., algorithms: _Optional[_Iterable[int]] = ..., exclude_credential_ids: _Optional[_Iterable[bytes]] = ..., user_verification: _Optional[str] = ..., timeout_millis: _Optional[int] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class ConfirmTotpRequest(_message.Message):
    __slots__ = ["code", "factor_id"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    factor_id: str
    def __init__(self, factor_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ConfirmTotpResponse(_message.Message):
    __slots__ = ["factor"]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    factor: Factor
    def __init__(self, factor: _Optional[_Union[Factor, _Mapping]] = ...) -> None: ...

class EnrollTotpRequest(_message.Message):
    __slots__ = ["algorithm", "digits", "label"]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DIGITS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    algorithm: TotpAlgorithm
    digits: int
    label: str
    def __init__(self, label: _Optional[str] = ..., algorithm: _Optional[_Union[TotpAlgorithm, str]] = ..., digits: _Optional[int] = ...) -> None: ...

class EnrollTotpResponse(_message.Message):
    __slots__ = ["confirm_before_unix_seconds", "factor_id", "otpauth_uri", "secret", "secret_base32"]
    CONFIRM_BEFORE_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OTPAUTH_URI_FIELD_NUMBER: _ClassVar[int]
    SECRET_BASE32_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    confirm_before_unix_seconds: int
    factor_id: str
    otpauth_uri: str
    secret: bytes
    secret_base32: str
    def __init__(self, factor_id: _Optional[str] = ..., secret: _Optional[bytes] = ..., secret_base32: _Optional[str] = ..., otpauth_uri: _Optional[str] = ..., confirm_before_unix_seconds: _Optional[int] = ...) -> None: ...

class Factor(_message.Message):
    __slots__ = ["address_hint", "algorithm", "channel", "created_unix_seconds", "digits", "factor_id", "kind", "label", "passkey_algorithm", "passkey_counter_regressed", "passkey_credential_id", "passkey_sign_count", "question", "recovery_code_last_used_unix_seconds", "recovery_codes_left"]
    ADDRESS_HINT_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DIGITS_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_COUNTER_REGRESSED_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_SIGN_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_CODES_LEFT_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_CODE_LAST_USED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    address_hint: str
    algorithm: TotpAlgorithm
    channel: str
    created_unix_seconds: int
    digits: int
    factor_id: str
    kind: FactorKind
    label: str
    passkey_algorithm: int
    passkey_counter_regressed: bool
    passkey_credential_id: bytes
    passkey_sign_count: int
    question: str
    recovery_code_last_used_unix_seconds: int
    recovery_codes_left: int
    def __init__(self, factor_id: _Optional[str] = ..., kind: _Optional[_Union[FactorKind, str]] = ..., label: _Optional[str] = ..., created_unix_seconds: _Optional[int] = ..., algorithm: _Optional[_Union[TotpAlgorithm, str]] = ..., digits: _Optional[int] = ..., recovery_codes_left: _Optional[int] = ..., channel: _Optional[str] = ..., address_hint: _Optional[str] = ..., question: _Optional[str] = ..., recovery_code_last_used_unix_seconds: _Optional[int] = ..., passkey_credential_id: _Optional[bytes] = ..., passkey_algorithm: _Optional[int] = ..., passkey_sign_count: _Optional[int] = ..., passkey_counter_regressed: bool = ...) -> None: ...

class FactorResponse(_message.Message):
    __slots__ = ["factor"]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    factor: Factor
    def __init__(self, factor: _Optional[_Union[Factor, _Mapping]] = ...) -> None: ...

class FinishPasskeyAssertionRequest(_message.Message):
    __slots__ = ["authenticator_data", "challenge_id", "client_data_json", "credential_id", "signature", "user_handle"]
    AUTHENTICATOR_DATA_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    USER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    authenticator_data: bytes
    challenge_id: str
    client_data_json: bytes
    credential_id: bytes
    signature: bytes
    user_handle: bytes
    def __init__(self, challenge_id: _Optional[str] = ..., credential_id: _Optional[bytes] = ..., client_data_json: _Optional[bytes] = ..., authenticator_data: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., user_handle: _Optional[bytes] = ...) -> None: ...

class FinishPasskeyRegistrationRequest(_message.Message):
    __slots__ = ["attestation_object", "client_data_json"]
    ATTESTATION_OBJECT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    attestation_object: bytes
    client_data_json: bytes
    def __init__(self, client_data_json: _Optional[bytes] = ..., attestation_object: _Optional[bytes] = ...) -> None: ...

class FinishPasskeyRegistrationResponse(_message.Message):
    __slots__ = ["factor"]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    factor: Factor
    def __init__(self, factor: _Optional[_Union[Factor, _Mapping]] = ...) -> None: ...

class GenerateRecoveryCodesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GenerateRecoveryCodesResponse(_message.Message):
    __slots__ = ["codes"]
    CODES_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, codes: _Optional[_Iterable[str]] = ...) -> None: ...

class InitiateTwoFactorRequest(_message.Message):
    __slots__ = ["method", "request_sha256"]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SHA256_FIELD_NUMBER: _ClassVar[int]
    method: str
    request_sha256: bytes
    def __init__(self, method: _Optional[str] = ..., request_sha256: _Optional[bytes] = ...) -> None: ...

class InitiateTwoFactorResponse(_message.Message):
    __slots__ = ["attempts_left", "challenge_id", "expires_unix_seconds", "factors"]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    attempts_left: int
    challenge_id: str
    expires_unix_seconds: int
    factors: _containers.RepeatedCompositeFieldContainer[Factor]
    def __init__(self, challenge_id: _Optional[str] = ..., expires_unix_seconds: _Optional[int] = ..., attempts_left: _Optional[int] = ..., factors: _Optional[_Iterable[_Union[Factor, _Mapping]]] = ...) -> None: ...

class ListFactorsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListFactorsResponse(_message.Message):
    __slots__ = ["factors"]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    factors: _containers.RepeatedCompositeFieldContainer[Factor]
    def __init__(self, factors: _Optional[_Iterable[_Union[Factor, _Mapping]]] = ...) -> None: ...

class RemoveFactorRequest(_message.Message):
    __slots__ = ["factor_id"]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    factor_id: str
    def __init__(self, factor_id: _Optional[str] = ...) -> None: ...

class RemoveFactorResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class SolveChallengeRequest(_message.Message):
    __slots__ = ["challenge_id", "code", "factor_id"]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    code: str
    factor_id: str
    def __init__(self, challenge_id: _Optional[str] = ..., factor_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class SolveChallengeResponse(_message.Message):
    __slots__ = ["expires_unix_seconds", "token"]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    expires_unix_seconds: int
    token: str
    def __init__(self, token: _Optional[str] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class TotpAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class FactorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
