from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
STATUS_CODE_ABORTED: StatusCode
STATUS_CODE_ALREADY_EXISTS: StatusCode
STATUS_CODE_CANCELLED: StatusCode
STATUS_CODE_DATA_LOSS: StatusCode
STATUS_CODE_DEADLINE_EXCEEDED: StatusCode
STATUS_CODE_FAILED_PRECONDITION: StatusCode
STATUS_CODE_INTERNAL: StatusCode
STATUS_CODE_INVALID_ARGUMENT: StatusCode
STATUS_CODE_NOT_FOUND: StatusCode
STATUS_CODE_OK: StatusCode
STATUS_CODE_OUT_OF_RANGE: StatusCode
STATUS_CODE_PERMISSION_DENIED: StatusCode
STATUS_CODE_RESOURCE_EXHAUSTED: StatusCode
STATUS_CODE_UNAUTHENTICATED: StatusCode
STATUS_CODE_UNAVAILABLE: StatusCode
STATUS_CODE_UNIMPLEMENTED: StatusCode
STATUS_CODE_UNKNOWN: StatusCode

class CallHeader(_message.Message):
    __slots__ = ["metadata", "method", "timeout_millis"]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MILLIS_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    method: str
    timeout_millis: int
    def __init__(self, method: _Optional[str] = ..., timeout_millis: _Optional[int] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class CallTrailer(_message.Message):
    __slots__ = ["code", "details", "message", "metadata"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: StatusCode
    details: ErrorDetails
    message: str
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    def __init__(self, code: _Optional[_Union[StatusCode, str]] = ..., message: _Optional[str] = ..., details: _Optional[_Union[ErrorDetails, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ["code", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: StatusCode
    message: str
    def __init__(self, code: _Optional[_Union[StatusCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ErrorDetails(_message.Message):
    __slots__ = ["policy", "proof_of_work_difficulty", "retry_after_millis", "second_factor_challenge"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PROOF_OF_WORK_DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MILLIS_FIELD_NUMBER: _ClassVar[int]
    SECOND_FACTOR_CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    policy: str
    proof_of_work_difficulty: int
    retry_after_millis: int
    second_factor_challenge: str
    def __init__(self, retry_after_millis: _Optional[int] = ..., second_factor_challenge: _Optional[str] = ..., policy: _Optional[str] = ..., proof_of_work_difficulty: _Optional[int] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ["code", "last_stream_id", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: StatusCode
    last_stream_id: int
    message: str
    def __init__(self, last_stream_id: _Optional[int] = ..., code: _Optional[_Union[StatusCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class MetadataEntry(_message.Message):
    __slots__ = ["key", "value"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: bytes
    def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class ResponseHeader(_message.Message):
    __slots__ = ["metadata"]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    def __init__(self, metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class Settings(_message.Message):
    __slots__ = ["initial_connection_window", "initial_stream_window", "max_concurrent_calls", "max_frame_size", "max_header_size", "max_message_size"]
    INITIAL_CONNECTION_WINDOW_FIELD_NUMBER: _ClassVar[int]
    INITIAL_STREAM_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_CALLS_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_HEADER_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    initial_connection_window: int
    initial_stream_window: int
    max_concurrent_calls: int
    max_frame_size: int
    max_header_size: int
    max_message_size: int
    def __init__(self, max_frame_size: _Optional[int] = ..., max_message_size: _Optional[int] = ..., max_header_size: _Optional[int] = ..., max_concurrent_calls: _Optional[int] = ..., initial_stream_window: _Optional[int] = ..., initial_connection_window: _Optional[int] = ...) -> None: ...

class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
